// The customer history read model. Rows (projection-local keys):
//   'h' account '\0' be64(position) -> summary record (time, type, stream, actor, reason, summary)
//   'l' stream                       -> the account the stream belongs to
// A page of one customer's history is one short range scan; the events' data comes from the log
// by position.
#include "projections/customer_history.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "projections/bytes.hpp"
#include "projections/held.hpp"

namespace eventcrm::projections {

namespace {

constexpr std::size_t kMaxAccountIdBytes = 200;

bool valid_account_id(std::string_view a) {
  return !a.empty() && a.size() <= kMaxAccountIdBytes && a.find('\0') == std::string_view::npos;
}

std::string history_prefix(std::string_view account) {
  std::string k = "h";
  k.append(account);
  k.push_back('\0');
  return k;
}
std::string history_key(std::string_view account, std::uint64_t position) {
  std::string k = history_prefix(account);
  bytes::put_be64(k, position);
  return k;
}
std::string link_key(std::string_view stream) {
  return "l" + std::string(stream);
}

// What the history needs from an event's data: its account, the records it names and a few
// fields worth a mention in the summary.
struct Extracted {
  std::string account_id;
  std::vector<std::string> references;  // streams named by `<category>_id` fields
  std::string stage, status, reason, name, amount;
};

std::string_view stream_id(std::string_view stream) {
  const auto dash = stream.find('-');
  return dash == std::string_view::npos ? stream : stream.substr(dash + 1);
}

// Reads top-level fields with simdjson On-Demand (our own events: trusted shape). A malformed
// document yields what was read before the problem.
void extract(std::string_view data, Extracted& out) {
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string buf;
  buf.assign(data);
  buf.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document doc;
  if (parser.iterate(buf.data(), data.size(), buf.size()).get(doc))
    return;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj))
    return;
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    if (std::move(field_result).get(field))
      return;
    std::string_view key;
    if (field.unescaped_key().get(key))
      return;
    simdjson::ondemand::value value = field.value();
    simdjson::ondemand::json_type type;
    if (value.type().get(type))
      return;
    if (type == simdjson::ondemand::json_type::string) {
      std::string_view s;
      if (value.get_string().get(s))
        return;
      if (key == "account_id") {
        out.account_id = s;
      } else if (key.size() > 3 && key.substr(key.size() - 3) == "_id" && !s.empty()) {
        if (out.references.size() < 8) {
          std::string ref(key.substr(0, key.size() - 3));
          ref.push_back('-');
          ref.append(s);
          out.references.push_back(std::move(ref));
        }
      } else if (key == "stage" || key == "to_stage") {
        out.stage = s;
      } else if (key == "status") {
        out.status = s;
      } else if (key == "reason") {
        out.reason = s;
      } else if (key == "name" || key == "title" || key == "subject") {
        if (out.name.empty())
          out.name = s;
      } else if (key == "amount" || key == "expected_revenue" || key == "total") {
        out.amount = s;
      }
    } else if (type == simdjson::ondemand::json_type::number &&
               (key == "amount" || key == "expected_revenue" || key == "total")) {
      out.amount = value.raw_json_token();
      while (!out.amount.empty() && out.amount.back() == ' ')
        out.amount.pop_back();
    } else if (type == simdjson::ondemand::json_type::object &&
               (key == "amount" || key == "expected_revenue" || key == "total")) {
      // Money: {"amount": "1250.00", "currency": "VND"}
      simdjson::ondemand::object money;
      if (value.get_object().get(money))
        return;
      std::string amount, currency;
      for (auto mf : money) {
        simdjson::ondemand::field f;
        if (std::move(mf).get(f))
          return;
        std::string_view mk, mv;
        if (f.unescaped_key().get(mk))
          return;
        if (f.value().get_string().get(mv))
          continue;
        if (mk == "amount")
          amount = mv;
        if (mk == "currency")
          currency = mv;
      }
      out.amount = currency.empty() ? amount : amount + " " + currency;
    }
  }
}

std::string summary_of(const store::RecordedEvent& e, const Extracted& x) {
  std::string_view type = e.type;
  const auto dot1 = type.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : type.find('.', dot1 + 1);
  std::string_view category = type.substr(0, dot1);
  std::string verb(dot1 == std::string_view::npos ? std::string_view{}
                                                  : type.substr(dot1 + 1, dot2 - dot1 - 1));
  std::replace(verb.begin(), verb.end(), '_', ' ');
  std::string cat(category);
  std::replace(cat.begin(), cat.end(), '_', ' ');
  std::string_view id = e.category() == category ? stream_id(e.stream) : std::string_view(e.stream);

  std::string s;
  if (verb.find(' ') == std::string::npos) {  // "opportunity 7f3a won"
    s = cat + " " + std::string(id) + " " + verb;
  } else {  // "stage changed on opportunity 7f3a"
    s = verb + " on " + cat + " " + std::string(id);
  }
  if (!e.metadata.actor.empty())
    s += " by " + e.metadata.actor;
  std::vector<std::string> details;
  if (!x.name.empty())
    details.push_back("name: " + x.name);
  if (!x.stage.empty())
    details.push_back("stage: " + x.stage);
  if (!x.status.empty())
    details.push_back("status: " + x.status);
  if (!x.amount.empty())
    details.push_back("amount: " + x.amount);
  const std::string& reason = !x.reason.empty() ? x.reason : e.metadata.reason;
  if (!reason.empty())
    details.push_back("reason: " + reason);
  for (std::size_t i = 0; i < details.size(); ++i) {
    s += i == 0 ? " (" : ", ";
    s += details[i];
  }
  if (!details.empty())
    s += ")";
  // A summary is one line of bounded size, whatever the data holds.
  constexpr std::size_t kMaxSummary = 300;
  if (s.size() > kMaxSummary) {
    s.resize(kMaxSummary);
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80)
      s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0)
      s.pop_back();
    s += "...";
  }
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  }
  return s;
}

std::string encode_row(const store::RecordedEvent& e, const std::string& summary) {
  std::string v;
  bytes::put_varint(v, static_cast<std::uint64_t>(e.time_ms));
  bytes::put_str(v, e.type);
  bytes::put_str(v, e.stream);
  bytes::put_str(v, e.metadata.actor);
  bytes::put_str(v, e.metadata.reason);
  bytes::put_str(v, summary);
  return v;
}

struct Row {
  std::int64_t time_ms = 0;
  std::string_view type, stream, actor, reason, summary;
};

bool decode_row(std::string_view v, Row& r) {
  std::uint64_t t = 0;
  if (!bytes::get_varint(v, t))
    return false;
  r.time_ms = static_cast<std::int64_t>(t);
  return bytes::get_str(v, r.type) && bytes::get_str(v, r.stream) && bytes::get_str(v, r.actor) &&
         bytes::get_str(v, r.reason) && bytes::get_str(v, r.summary) && v.empty();
}

class CustomerHistory final : public Projection {
 public:
  std::string name() const override { return std::string(kCustomerHistory); }
  std::uint32_t version() const override { return 1; }
  void apply(const store::RecordedEvent& e, Batch& batch) override {
    Extracted x;
    extract(e.data, x);
    std::string account;
    bool link = false;
    // A stock stream (one product in one warehouse) serves every customer: only its events
    // that name a customer or order join a history, and the stream is never linked to one.
    // So does a campaign's activity stream: a response joins the history of the contact's (or
    // converted lead's) account.
    const bool shared_stream = e.category() == "stock" || e.category() == "campaign_activity";
    if (shared_stream) {
      if (valid_account_id(x.account_id)) {
        account = x.account_id;
      } else {
        for (const auto& ref : x.references) {
          if (auto via = link_of(batch, ref, e.position)) {
            account = std::move(*via);
            break;
          }
        }
      }
    } else if (e.category() == "account") {
      account = std::string(stream_id(e.stream));
    } else if (valid_account_id(x.account_id)) {
      account = x.account_id;
      link = true;
    } else if (auto linked = link_of(batch, e.stream, e.position)) {
      account = std::move(*linked);
    } else {
      for (const auto& ref : x.references) {
        if (auto via = link_of(batch, ref, e.position)) {
          account = std::move(*via);
          link = true;
          break;
        }
      }
    }
    if (account.empty())
      return;
    if (link) {
      if (holding_) {
        Link& l = links_[e.stream];
        l.account = account;
        l.touched = e.position;
      } else {
        const auto key = link_key(e.stream);
        auto current = batch.get(key);
        if (!current || *current != account)
          batch.put(key, account);
      }
    }
    batch.put_new(history_key(account, e.position), encode_row(e, summary_of(e, x)));
  }

  // An offline build holds the links (streams to accounts), looked up at most events; the
  // history rows themselves are written as they come (put_new).
  void hold(bool on) override {
    holding_ = on;
    links_.clear();
    written_ = false;
  }
  void flush(Batch& out, std::int64_t bytes) override {
    const std::uint64_t cutoff = flush_cutoff(touched_of(links_), cost_.per_record(), bytes);
    CountingBatch batch(out);
    const std::size_t written =
        write_out(links_, cutoff, [&](const std::string& stream, const Link& l) {
          const auto key = link_key(stream);
          auto current = written_ ? batch.get(key) : std::nullopt;
          if (!current || *current != l.account)
            batch.put(key, l.account);
        });
    written_ = written_ || written > 0;
    cost_.learn(batch, written);
  }
  std::int64_t held_bytes() const override { return cost_.of(links_.size()); }

 private:
  std::optional<std::string> link_of(Batch& batch, const std::string& stream,
                                     std::uint64_t position) {
    if (holding_) {
      if (auto it = links_.find(stream); it != links_.end()) {
        it->second.touched = position;
        return it->second.account;
      }
      if (!written_)  // an offline build starts empty: no link is stored but those held
        return std::nullopt;
    }
    return batch.get(link_key(stream));
  }

  struct Link {
    std::string account;
    std::uint64_t touched = 0;  // the position of the last event that used it
  };
  bool holding_ = false;
  std::unordered_map<std::string, Link> links_;
  bool written_ = false;  // some held links were written out
  HeldCost cost_{160, 100};
};

}  // namespace

std::unique_ptr<Projection> make_customer_history() {
  return std::make_unique<CustomerHistory>();
}

std::string summarize(const store::RecordedEvent& e) {
  Extracted x;
  extract(e.data, x);
  return summary_of(e, x);
}

std::string linked_account(const View& view, std::string_view stream) {
  if (stream.starts_with("account-"))
    return std::string(stream_id(stream));
  return view.get(link_key(stream)).value_or(std::string());
}

Result<HistoryPage> history(const View& view, store::EventStore& store, const HistoryQuery& q) {
  HistoryPage page;
  page.position = view.position();
  if (!valid_account_id(q.account_id))
    return page;
  const std::size_t limit = std::clamp<std::size_t>(q.limit, 1, kHistoryMaxLimit);
  const std::string prefix = history_prefix(q.account_id);
  std::string end = prefix;
  end.back() = '\x01';  // just past every "account\0..." key
  if (q.after == UINT64_MAX)
    return page;
  std::size_t scanned = 0;
  std::uint64_t last_scanned = q.after;
  bool more = false, malformed = false;
  auto matches = [&](const Row& r) {
    return (!q.from_time_ms || r.time_ms >= *q.from_time_ms) &&
           (q.types.empty() ||
            std::find(q.types.begin(), q.types.end(), r.type) != q.types.end()) &&
           (q.actor.empty() || r.actor == q.actor);
  };
  view.scan(history_key(q.account_id, q.after + 1), end,
            [&](std::string_view key, std::string_view value) {
              Row r;
              if (key.size() != prefix.size() + 8 || !decode_row(value, r)) {
                malformed = true;
                return false;
              }
              // Time never decreases along the log: nothing later can match.
              if (q.to_time_ms && r.time_ms >= *q.to_time_ms)
                return false;
              if (scanned >= q.scan_limit || (page.items.size() == limit && matches(r))) {
                more = true;  // this row starts the next page
                return false;
              }
              ++scanned;
              last_scanned = bytes::get_be64(key.substr(prefix.size()));
              if (!matches(r))
                return true;
              HistoryItem item;
              item.position = last_scanned;
              item.type = r.type;
              item.time_ms = r.time_ms;
              item.actor = r.actor;
              item.reason = r.reason;
              item.stream = r.stream;
              item.summary = r.summary;
              page.items.push_back(std::move(item));
              return true;
            });
  if (malformed)
    return unexpected(Error{errc::io_error, "malformed customer history row"});
  if (more) {
    page.next_cursor = last_scanned;
  }
  if (q.include_data) {
    for (auto& item : page.items) {
      auto e = store.get_at(item.position);
      if (!e) {
        return unexpected(Error{errc::io_error, "cannot read event at position " +
                                                    std::to_string(item.position) + ": " +
                                                    e.error().message});
      }
      item.id = std::move(e->id);
      item.data = std::move(e->data);
    }
  }
  return page;
}

Result<HistoryPage> history(const Runtime& runtime, store::EventStore& store,
                            const HistoryQuery& q) {
  auto v = runtime.view(kCustomerHistory);
  if (!v)
    return unexpected(std::move(v).error());
  return history(**v, store, q);
}

}  // namespace eventcrm::projections
