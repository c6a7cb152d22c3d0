// The account 360 read model. Rows (projection-local keys):
//   r<category>\0<id>                                → the record as this model knows it (JSON)
//   a<account>\0<section>\0<sort key>\0<id>          → the record's short list item (JSON)
//   n<account>\0<section>                            → how many items the section has
// Each event folds the record, then moves its item to where it belongs now (another account, or
// out of the lists once closed) — a record's row says where its item is.
#include "projections/account_360.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "domain/activity.hpp"
#include "domain/appointment.hpp"
#include "domain/codec.hpp"
#include "domain/contact.hpp"
#include "domain/contract.hpp"
#include "domain/opportunity.hpp"
#include "domain/order.hpp"
#include "domain/quote.hpp"
#include "domain/task.hpp"
#include "projections/bytes.hpp"
#include "projections/held.hpp"
#include "projections/records.hpp"
#include "projections/stored_row.hpp"

namespace eventcrm::projections {
namespace {

using domain::Date;
using domain::Money;
using domain::Timestamp;
using domain::codec::overloaded;
using OptText = std::optional<std::string>;

std::string clean(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\0')
      c = '\1';
  }
  return out;
}

// Newest first: the instant's bits inverted.
std::string newest_first(Timestamp t) {
  return bytes::be64(~(static_cast<std::uint64_t>(t.ms) ^ (std::uint64_t{1} << 63)));
}
std::string soonest_first(Timestamp t) {
  return bytes::be64(static_cast<std::uint64_t>(t.ms) ^ (std::uint64_t{1} << 63));
}

std::string url(std::string_view collection, std::string_view id) {
  return "/v1/" + std::string(collection) + "/" + std::string(id);
}

// Present fields replace; an empty string clears (as the contacts read model does).
void merge(OptText& field, const OptText& change) {
  if (change)
    field = change->empty() ? std::nullopt : change;
}

// ---- one record type per section: what it keeps, where it is listed, what its item shows ----

struct ContactRec {
  static constexpr std::string_view kSection = "contacts";
  std::string id;
  OptText account_id;
  OptText first_name, last_name, email, phone, title;
  bool archived = false;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("first_name", s.first_name);
    f("last_name", s.last_name);
    f("email", s.email);
    f("phone", s.phone);
    f("title", s.title);
    f("archived", s.archived);
  }
  void merge_profile(const domain::contact::Profile& p) {
    merge(first_name, p.first_name);
    merge(last_name, p.last_name);
    merge(email, p.email);
    merge(phone, p.phone);
    merge(title, p.title);
  }
  void on(const domain::contact::Event& event) {
    namespace c = domain::contact;
    std::visit(overloaded{
                   [&](const c::Created& x) {
                     account_id = x.account_id;
                     merge_profile(x.profile);
                   },
                   [&](const c::Updated& x) { merge_profile(x.changes); },
                   [&](const c::LinkedToAccount& x) { account_id = x.account_id; },
                   [&](const c::UnlinkedFromAccount&) { account_id.reset(); },
                   [&](const c::Archived&) { archived = true; },
                   [&](const c::Forgotten&) {
                     c::Profile erased;
                     erased.first_name = first_name;
                     erased.last_name = last_name;
                     erased.email = email;
                     erased.phone = phone;
                     merge_profile(c::erased(erased));
                   },
                   [&](const auto&) {},
               },
               event);
  }
  std::string name() const {
    std::string n = first_name.value_or("");
    if (last_name)
      n += (n.empty() ? "" : " ") + *last_name;
    return n;
  }
  bool listed() const { return !archived; }
  std::string sort() const {
    return clean(records::key_text(last_name.value_or("") + " " + first_name.value_or("")));
  }
  template <class F>
  void item(F&& f) const {
    f("id", id);
    f("name", name());
    f("email", email);
    f("phone", phone);
    f("title", title);
    f("status", std::string("active"));
    f("url", url("contacts", id));
  }
};

struct OpportunityRec {
  static constexpr std::string_view kSection = "opportunities";
  std::string id;
  OptText account_id;
  std::string name;
  std::string stage;
  std::string status = "open";
  int probability = 0;
  Money amount;
  Date expected_close_date;
  std::string owner_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("name", s.name);
    f("stage", s.stage);
    f("status", s.status);
    f("probability", s.probability);
    f("amount", s.amount);
    f("expected_close_date", s.expected_close_date);
    f("owner_id", s.owner_id);
  }
  void on(const domain::opportunity::Event& event) {
    namespace o = domain::opportunity;
    std::visit(overloaded{
                   [&](const o::Created& x) {
                     account_id = x.account_id;
                     name = x.name;
                     stage = x.stage;
                     status = "open";
                     probability = x.probability;
                     amount = x.amount;
                     expected_close_date = x.expected_close_date;
                     owner_id = x.owner_id;
                   },
                   [&](const o::StageChanged& x) {
                     stage = x.to_stage;
                     probability = x.probability;
                   },
                   [&](const o::Updated& x) {
                     if (x.name)
                       name = *x.name;
                     if (x.amount)
                       amount = *x.amount;
                     if (x.expected_close_date)
                       expected_close_date = *x.expected_close_date;
                     if (x.probability)
                       probability = *x.probability;
                   },
                   [&](const o::Won&) { status = "won"; },
                   [&](const o::Lost&) { status = "lost"; },
                   [&](const o::Reopened& x) {
                     status = "open";
                     stage = x.stage;
                     probability = x.probability;
                   },
                   [&](const o::Assigned& x) { owner_id = x.owner_id; },
                   [&](const auto&) {},
               },
               event);
  }
  bool listed() const { return status == "open"; }
  std::string sort() const { return expected_close_date.to_string(); }
  template <class F>
  void item(F&& f) const {
    f("id", id);
    f("name", name);
    f("stage", stage);
    f("status", status);
    f("probability", probability);
    f("amount", amount);
    f("expected_close_date", expected_close_date);
    f("owner_id", owner_id);
    f("url", url("opportunities", id));
  }
};

struct ActivityRec {
  static constexpr std::string_view kSection = "activities";
  std::string id;
  OptText account_id;
  std::string kind;
  std::string subject;
  OptText outcome;
  Timestamp occurred_at;
  std::string logged_by;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("kind", s.kind);
    f("subject", s.subject);
    f("outcome", s.outcome);
    f("occurred_at", s.occurred_at);
    f("logged_by", s.logged_by);
  }
  void on(const domain::activity::Event& event) {
    if (const auto* x = std::get_if<domain::activity::Logged>(&event)) {
      account_id = x->account_id;
      kind = x->kind;
      subject = x->subject;
      outcome = x->outcome;
      occurred_at = x->occurred_at;
      logged_by = x->logged_by;
    }
  }
  bool listed() const { return true; }
  std::string sort() const { return newest_first(occurred_at); }
  template <class F>
  void item(F&& f) const {
    f("id", id);
    f("kind", kind);
    f("subject", subject);
    f("outcome", outcome);
    f("occurred_at", occurred_at);
    f("logged_by", logged_by);
    f("url", url("activities", id));
  }
};

struct AppointmentRec {
  static constexpr std::string_view kSection = "appointments";
  std::string id;
  OptText account_id;
  std::string subject;
  OptText location;
  Timestamp starts_at;
  Timestamp ends_at;
  std::string owner_id;
  std::string status = "scheduled";  // scheduled | completed | cancelled
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("subject", s.subject);
    f("location", s.location);
    f("starts_at", s.starts_at);
    f("ends_at", s.ends_at);
    f("owner_id", s.owner_id);
    f("status", s.status);
  }
  void on(const domain::appointment::Event& event) {
    namespace a = domain::appointment;
    std::visit(
        overloaded{
            [&](const a::Scheduled& x) {
              account_id = x.account_id;
              subject = x.subject;
              location = x.location;
              starts_at = x.starts_at;
              ends_at = x.ends_at;
              owner_id = x.owner_id;
              status = "scheduled";
            },
            [&](const a::Rescheduled& x) {
              starts_at = x.starts_at;
              ends_at = x.ends_at;
            },
            [&](const a::Completed&) { status = "completed"; },
            [&](const a::Cancelled&) { status = "cancelled"; }, [&](const auto&) {},  // reminders
        },
        event);
  }
  bool listed() const { return status == "scheduled"; }
  std::string sort() const { return soonest_first(starts_at); }
  template <class F>
  void item(F&& f) const {
    f("id", id);
    f("subject", subject);
    f("status", status);
    f("starts_at", starts_at);
    f("ends_at", ends_at);
    f("location", location);
    f("owner_id", owner_id);
    f("url", url("appointments", id));
  }
};

struct TaskRec {
  static constexpr std::string_view kSection = "tasks";
  std::string id;
  OptText account_id;
  std::string title;
  std::string assignee_id;
  std::optional<Date> due_date;
  std::string status = "open";  // open | done
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("title", s.title);
    f("assignee_id", s.assignee_id);
    f("due_date", s.due_date);
    f("status", s.status);
  }
  void on(const domain::task::Event& event) {
    namespace t = domain::task;
    std::visit(overloaded{
                   [&](const t::Created& x) {
                     account_id = x.account_id;
                     title = x.title;
                     assignee_id = x.assignee_id;
                     due_date = x.due_date;
                     status = "open";
                   },
                   [&](const t::Assigned& x) { assignee_id = x.assignee_id; },
                   [&](const t::DueDateChanged& x) { due_date = x.due_date; },
                   [&](const t::Completed&) { status = "done"; },
                   [&](const t::Reopened&) { status = "open"; },
                   [&](const auto&) {},
               },
               event);
  }
  bool listed() const { return status == "open"; }
  std::string sort() const { return due_date ? due_date->to_string() : std::string("~"); }
  template <class F>
  void item(F&& f) const {
    f("id", id);
    f("title", title);
    f("status", status);
    f("assignee_id", assignee_id);
    f("due_date", due_date);
    f("url", url("tasks", id));
  }
};

struct QuoteRec {
  static constexpr std::string_view kSection = "quotes";
  std::string id;
  OptText account_id;
  std::string status = "draft";  // draft | sent | accepted | rejected
  Money total;
  std::optional<Date> valid_until;
  OptText order_id;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("status", s.status);
    f("total", s.total);
    f("valid_until", s.valid_until);
    f("order_id", s.order_id);
    f("created_at", s.created_at);
  }
  void on(const domain::quote::Event& event) {
    namespace q = domain::quote;
    std::visit(overloaded{
                   [&](const q::Created& x) {
                     account_id = x.account_id;
                     status = "draft";
                     total = x.totals.total;
                     valid_until = x.valid_until;
                     created_at = x.created_at;
                   },
                   [&](const q::LinesReplaced& x) { total = x.totals.total; },
                   [&](const q::Sent&) { status = "sent"; },
                   [&](const q::Accepted& x) {
                     status = "accepted";
                     order_id = x.order_id;
                   },
                   [&](const q::Rejected&) { status = "rejected"; },
                   [&](const auto&) {},
               },
               event);
  }
  bool listed() const { return true; }
  std::string sort() const { return newest_first(created_at); }
  template <class F>
  void item(F&& f) const {
    f("id", id);
    f("status", status);
    f("total", total);
    f("valid_until", valid_until);
    f("order_id", order_id);
    f("created_at", created_at);
    f("url", url("quotes", id));
  }
};

struct OrderRec {
  static constexpr std::string_view kSection = "orders";
  std::string id;
  OptText account_id;
  std::string status = "open";  // open | cancelled
  Money total;
  std::string quote_id;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("status", s.status);
    f("total", s.total);
    f("quote_id", s.quote_id);
    f("created_at", s.created_at);
  }
  void on(const domain::order::Event& event) {
    namespace o = domain::order;
    std::visit(overloaded{
                   [&](const o::Created& x) {
                     account_id = x.account_id;
                     status = "open";
                     total = x.totals.total;
                     quote_id = x.quote_id;
                     created_at = x.created_at;
                   },
                   [&](const o::Cancelled&) { status = "cancelled"; },
                   [&](const auto&) {},
               },
               event);
  }
  bool listed() const { return true; }
  std::string sort() const { return newest_first(created_at); }
  template <class F>
  void item(F&& f) const {
    f("id", id);
    f("status", status);
    f("total", total);
    f("quote_id", quote_id);
    f("created_at", created_at);
    f("url", url("orders", id));
  }
};

struct ContractRec {
  static constexpr std::string_view kSection = "contracts";
  std::string id;
  OptText account_id;
  std::string title;
  std::string status = "active";  // active | terminated
  Date start_date;
  Date end_date;
  std::optional<Date> renewal_date;
  std::optional<Money> value;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("title", s.title);
    f("status", s.status);
    f("start_date", s.start_date);
    f("end_date", s.end_date);
    f("renewal_date", s.renewal_date);
    f("value", s.value);
    f("created_at", s.created_at);
  }
  void on(const domain::contract::Event& event) {
    namespace k = domain::contract;
    std::visit(
        overloaded{
            [&](const k::Created& x) {
              account_id = x.account_id;
              title = x.title;
              status = "active";
              start_date = x.start_date;
              end_date = x.end_date;
              renewal_date = x.renewal_date;
              value = x.value;
              created_at = x.created_at;
            },
            [&](const k::Renewed& x) {
              end_date = x.end_date;
              renewal_date = x.renewal_date;
            },
            [&](const k::Terminated&) { status = "terminated"; }, [&](const auto&) {},  // documents
        },
        event);
  }
  bool listed() const { return true; }
  std::string sort() const { return newest_first(created_at); }
  template <class F>
  void item(F&& f) const {
    f("id", id);
    f("title", title);
    f("status", status);
    f("start_date", start_date);
    f("end_date", end_date);
    f("renewal_date", renewal_date);
    f("value", value);
    f("url", url("contracts", id));
  }
};

// ---- the generic part ----

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class Rec>
std::string item_json(const Rec& r) {
  domain::json::Writer w;
  w.begin_object();
  r.item([&w](std::string_view key, const auto& v) {
    if constexpr (is_optional<std::decay_t<decltype(v)>>::value) {
      if (!v)
        return;
    }
    w.key(key);
    domain::codec::put(w, v);
  });
  w.end_object();
  return w.take();
}

std::string section_prefix(std::string_view account, std::string_view section) {
  std::string k = "a";
  k += clean(account);
  k.push_back('\0');
  k += section;
  k.push_back('\0');
  return k;
}

// How many items a section has (so a busy account's 360 reads only the items it shows).
std::string count_key(std::string_view account, std::string_view section) {
  std::string k = "n";
  k += clean(account);
  k.push_back('\0');
  k += section;
  return k;
}

std::uint64_t get_count(std::string_view value) {
  std::uint64_t n = 0;
  if (!bytes::get_varint(value, n))
    throw std::runtime_error("account_360: a count row does not decode");
  return n;
}

void add_count(Batch& batch, const std::string& key, std::int64_t delta) {
  std::uint64_t n = 0;
  if (auto row = batch.get(key))
    n = get_count(*row);
  if (delta < 0 && n < static_cast<std::uint64_t>(-delta))
    throw std::runtime_error("account_360: count " + key + " would go below zero");
  n = delta < 0 ? n - static_cast<std::uint64_t>(-delta) : n + static_cast<std::uint64_t>(delta);
  if (n == 0) {
    batch.del(key);
    return;
  }
  std::string out;
  bytes::put_varint(out, n);
  batch.put(key, out);
}

template <class Rec>
std::optional<std::string> section_key(const Rec& r) {
  if (!r.listed() || !r.account_id || r.account_id->empty())
    return std::nullopt;
  std::string k = section_prefix(*r.account_id, Rec::kSection);
  k += r.sort();
  k.push_back('\0');
  k += clean(r.id);
  return k;
}

// An offline build's records of one section, held typed in memory (Projection::hold): each with
// where its stored item is, if it was stored before it was held.
template <class Rec>
struct Held {
  struct Entry {
    Rec rec;
    bool stored = false;
    std::optional<std::string> stored_item;  // and the account it is listed under
    std::string stored_account;
    std::uint64_t touched = 0;  // the position of its last event
  };
  std::unordered_map<std::string, Entry> records;
};

template <class A>
typename A::Event decode_event(const store::RecordedEvent& e) {
  auto event = A::decode(e.type, e.data);
  if (!event) {
    throw std::runtime_error("event " + e.id + " (" + e.type +
                             ") does not decode: " + event.error().message);
  }
  return std::move(*event);
}

template <class A>
std::string record_key(std::string_view id) {
  return "r" + std::string(A::category) + std::string(1, '\0') + std::string(id);
}

// A record as it stands before an event of it, with where its stored item is.
template <class A, class Rec>
typename Held<Rec>::Entry load_entry(const store::RecordedEvent& e, Batch& batch,
                                     const std::string& id) {
  typename Held<Rec>::Entry entry;
  // A stream's first event: nothing stored to read back.
  if (auto before = e.stream_version == 0
                        ? std::nullopt
                        : read_stored<Rec>(batch, record_key<A>(id), kAccount360)) {
    entry.stored = true;
    entry.stored_item = section_key(*before);
    if (entry.stored_item)
      entry.stored_account = *before->account_id;
    entry.rec = std::move(*before);
  }
  entry.rec.id = id;
  return entry;
}

// Writes a record folded since it was loaded: its row, its item moved to where it belongs now,
// and the sections' counts changed through count(key, delta).
template <class A, class Rec, class Count>
void write_entry(Batch& batch, const std::string& id, const typename Held<Rec>::Entry& entry,
                 Count&& count) {
  const Rec& rec = entry.rec;
  auto new_key = section_key(rec);
  if (entry.stored_item && entry.stored_item != new_key) {
    batch.del(*entry.stored_item);
    count(count_key(entry.stored_account, Rec::kSection), -1);
  }
  if (new_key) {
    if (entry.stored)
      batch.put(*new_key, item_json(rec));
    else
      batch.put_new(*new_key, item_json(rec));
    if (new_key != entry.stored_item)
      count(count_key(*rec.account_id, Rec::kSection), 1);
  }
  if (entry.stored)
    batch.put(record_key<A>(id), domain::codec::encode(rec));
  else
    batch.put_new(record_key<A>(id), domain::codec::encode(rec));
}

// Live: each event folds its record and writes it at once.
template <class A, class Rec>
void track(const store::RecordedEvent& e, Batch& batch) {
  auto event = decode_event<A>(e);
  const std::string id = e.stream.substr(A::category.size() + 1);
  auto entry = load_entry<A, Rec>(e, batch, id);
  entry.rec.on(event);
  write_entry<A, Rec>(batch, id, entry, [&](const std::string& key, std::int64_t delta) {
    add_count(batch, key, delta);
  });
}

// The same fold, in memory (an offline build).
template <class A, class Rec>
void hold_event(const store::RecordedEvent& e, Batch& batch, Held<Rec>& held) {
  auto event = decode_event<A>(e);
  std::string id = e.stream.substr(A::category.size() + 1);
  auto it = held.records.find(id);
  if (it == held.records.end())
    it = held.records.emplace(id, load_entry<A, Rec>(e, batch, id)).first;
  it->second.touched = e.position;
  it->second.rec.on(event);
}

// Writes what `track` would have written, event after event, for the held records touched at or
// before `cutoff` and forgets them; the counts' changes are summed in `counts`. Returns how many.
template <class A, class Rec>
std::size_t write_held(Batch& batch, Held<Rec>& held, std::uint64_t cutoff,
                       std::map<std::string, std::int64_t>& counts) {
  using Entry = typename Held<Rec>::Entry;
  return write_out(held.records, cutoff, [&](const std::string& id, const Entry& entry) {
    write_entry<A, Rec>(batch, id, entry,
                        [&](const std::string& key, std::int64_t delta) { counts[key] += delta; });
  });
}

class AccountOverview final : public Projection {
 public:
  std::string name() const override { return std::string(kAccount360); }
  std::uint32_t version() const override { return 2; }  // 2: section counts
  store::Filter filter() const override {
    return {{},
            {std::string(domain::contact::kCategory), std::string(domain::opportunity::kCategory),
             std::string(domain::activity::kCategory), std::string(domain::appointment::kCategory),
             std::string(domain::task::kCategory), std::string(domain::quote::kCategory),
             std::string(domain::order::kCategory), std::string(domain::contract::kCategory)}};
  }
  void apply(const store::RecordedEvent& e, Batch& batch) override {
    const std::string category = e.category();
    if (category == domain::contact::kCategory)
      on<domain::contact::Aggregate, ContactRec>(e, batch);
    else if (category == domain::opportunity::kCategory)
      on<domain::opportunity::Aggregate, OpportunityRec>(e, batch);
    else if (category == domain::activity::kCategory)
      on<domain::activity::Aggregate, ActivityRec>(e, batch);
    else if (category == domain::appointment::kCategory)
      on<domain::appointment::Aggregate, AppointmentRec>(e, batch);
    else if (category == domain::task::kCategory)
      on<domain::task::Aggregate, TaskRec>(e, batch);
    else if (category == domain::quote::kCategory)
      on<domain::quote::Aggregate, QuoteRec>(e, batch);
    else if (category == domain::order::kCategory)
      on<domain::order::Aggregate, OrderRec>(e, batch);
    else if (category == domain::contract::kCategory)
      on<domain::contract::Aggregate, ContractRec>(e, batch);
  }

  void hold(bool on) override {
    holding_ = on;
    std::apply([](auto&... held) { (held.records.clear(), ...); }, held_);
    held_count_ = 0;
  }
  void flush(Batch& out, std::int64_t bytes) override {
    const std::uint64_t cutoff = std::apply(
        [&](const auto&... held) {
          return flush_cutoff(touched_of(held.records...), cost_.per_record(), bytes);
        },
        held_);
    CountingBatch batch(out);
    std::map<std::string, std::int64_t> counts;
    std::size_t written = 0;
    written += write_held<domain::contact::Aggregate>(batch, std::get<Held<ContactRec>>(held_),
                                                      cutoff, counts);
    written += write_held<domain::opportunity::Aggregate>(
        batch, std::get<Held<OpportunityRec>>(held_), cutoff, counts);
    written += write_held<domain::activity::Aggregate>(batch, std::get<Held<ActivityRec>>(held_),
                                                       cutoff, counts);
    written += write_held<domain::appointment::Aggregate>(
        batch, std::get<Held<AppointmentRec>>(held_), cutoff, counts);
    written +=
        write_held<domain::task::Aggregate>(batch, std::get<Held<TaskRec>>(held_), cutoff, counts);
    written += write_held<domain::quote::Aggregate>(batch, std::get<Held<QuoteRec>>(held_), cutoff,
                                                    counts);
    written += write_held<domain::order::Aggregate>(batch, std::get<Held<OrderRec>>(held_), cutoff,
                                                    counts);
    written += write_held<domain::contract::Aggregate>(batch, std::get<Held<ContractRec>>(held_),
                                                       cutoff, counts);
    for (const auto& [key, delta] : counts) {
      if (delta != 0)
        add_count(batch, key, delta);
    }
    cost_.learn(batch, written);
    held_count_ -= written;
  }
  std::int64_t held_bytes() const override { return cost_.of(held_count_); }

 private:
  template <class A, class Rec>
  void on(const store::RecordedEvent& e, Batch& batch) {
    if (!holding_) {
      track<A, Rec>(e, batch);
      return;
    }
    auto& held = std::get<Held<Rec>>(held_);
    const std::size_t before = held.records.size();
    hold_event<A>(e, batch, held);
    held_count_ += held.records.size() - before;
  }

  bool holding_ = false;
  std::size_t held_count_ = 0;
  // A held record (roughly: strings, hash node), then its record and item rows.
  HeldCost cost_{512, 600};
  std::tuple<Held<ContactRec>, Held<OpportunityRec>, Held<ActivityRec>, Held<AppointmentRec>,
             Held<TaskRec>, Held<QuoteRec>, Held<OrderRec>, Held<ContractRec>>
      held_;
};

Account360Section read_section(const View& view, std::string_view account, std::string_view section,
                               std::size_t limit, std::string_view from_sort = {}) {
  Account360Section out;
  std::string prefix = section_prefix(account, section);
  std::string to = prefix;
  to.back() = '\1';
  // From a point in the order (upcoming appointments): counted while listed.
  const bool counted = from_sort.empty();
  if (counted) {
    if (auto n = view.get(count_key(account, section)))
      out.count = get_count(*n);
  }
  view.scan(prefix + std::string(from_sort), to, [&](std::string_view, std::string_view value) {
    if (!counted)
      ++out.count;
    if (out.items.size() < limit)
      out.items.emplace_back(value);
    return !counted || out.items.size() < limit;
  });
  return out;
}

}  // namespace

std::unique_ptr<Projection> make_account_360() {
  return std::make_unique<AccountOverview>();
}

Account360 account_360(const View& view, std::string_view account_id, Timestamp now,
                       std::size_t limit) {
  Account360 out;
  out.contacts = read_section(view, account_id, ContactRec::kSection, limit);
  out.open_opportunities = read_section(view, account_id, OpportunityRec::kSection, limit);
  out.recent_activities = read_section(view, account_id, ActivityRec::kSection, limit);
  out.upcoming_appointments =
      read_section(view, account_id, AppointmentRec::kSection, limit, soonest_first(now));
  out.open_tasks = read_section(view, account_id, TaskRec::kSection, limit);
  out.quotes = read_section(view, account_id, QuoteRec::kSection, limit);
  out.orders = read_section(view, account_id, OrderRec::kSection, limit);
  out.contracts = read_section(view, account_id, ContractRec::kSection, limit);
  return out;
}

}  // namespace eventcrm::projections
