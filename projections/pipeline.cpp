// The pipeline read model. Rows (projection-local keys):
//   o<opportunity id>                   → what the opportunity contributes (JSON, see Tracked)
//   g<dim><owner>\0<group key>\0<currency> → count, Σ amount, Σ weighted amount (see put_sums)
//   c                                   → the reporting currency (from the settings stream)
// <dim> is 's' (stage), 'o' (owner) or 'm' (close month). Each opportunity event moves the
// opportunity's contribution out of its old groups and into its new ones, so a report is one short
// scan of one dimension's rows. The owner is in every group row so that a report can be narrowed
// to the owners a caller may see (record-level reach) without reading the opportunities.
#include "projections/pipeline.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "domain/codec.hpp"
#include "domain/opportunity.hpp"
#include "domain/settings.hpp"
#include "projections/bytes.hpp"
#include "projections/held.hpp"
#include "projections/sales_amounts.hpp"
#include "projections/stored_row.hpp"

namespace eventcrm::projections {
namespace {

namespace opportunity = domain::opportunity;
namespace settings = domain::settings;
using amounts::Units;

// The part of an opportunity's state the pipeline needs, stored between its events.
struct Tracked {
  std::string status;  // open | won | lost
  std::string id;
  std::string account_id;
  std::string stage;
  std::string owner_id;
  domain::Date expected_close_date;
  domain::Money amount;
  int probability = 0;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("status", s.status);
    f("id", s.id);
    f("account_id", s.account_id);
    f("stage", s.stage);
    f("owner_id", s.owner_id);
    f("expected_close_date", s.expected_close_date);
    f("amount", s.amount);
    f("probability", s.probability);
  }
};

opportunity::State to_state(const Tracked& t) {
  opportunity::State s;
  s.status = t.status == "open"  ? opportunity::Status::open
             : t.status == "won" ? opportunity::Status::won
                                 : opportunity::Status::lost;
  s.id = t.id;
  s.account_id = t.account_id;
  s.stage = t.stage;
  s.owner_id = t.owner_id;
  s.expected_close_date = t.expected_close_date;
  s.amount = t.amount;
  s.probability = t.probability;
  return s;
}

Tracked to_tracked(const opportunity::State& s) {
  return Tracked{opportunity::to_string(s.status),
                 s.id,
                 s.account_id,
                 s.stage,
                 s.owner_id,
                 s.expected_close_date,
                 s.amount,
                 s.probability};
}

constexpr char kDims[] = {'s', 'o', 'm'};

char dim_of(PipelineGroupBy by) {
  switch (by) {
    case PipelineGroupBy::stage:
      return 's';
    case PipelineGroupBy::owner:
      return 'o';
    case PipelineGroupBy::close_month:
      return 'm';
  }
  return 's';
}

// NUL separates the owner, the group key and the currency.
std::string clean(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\0')
      c = '\1';
  }
  return out;
}

std::string group_key(const Tracked& t, char dim) {
  if (dim == 's')
    return clean(t.stage);
  if (dim == 'o')
    return clean(t.owner_id);
  return t.expected_close_date.to_string().substr(0, 7);
}

std::string row_key(const Tracked& t, char dim) {
  std::string k = "g";
  k.push_back(dim);
  k += clean(t.owner_id);
  k.push_back('\0');
  k += group_key(t, dim);
  k.push_back('\0');
  k += t.amount.currency;
  return k;
}

struct Sums {
  std::uint64_t count = 0;
  Units unweighted = 0;
  Units weighted = 0;
};

std::string put_sums(const Sums& s) {
  std::string out;
  bytes::put_varint(out, s.count);
  amounts::put(out, s.unweighted);
  amounts::put(out, s.weighted);
  return out;
}

Sums get_sums(std::string_view in) {
  Sums s;
  if (!bytes::get_varint(in, s.count) || !amounts::get(in, s.unweighted) ||
      !amounts::get(in, s.weighted))
    throw std::runtime_error("pipeline: a group row does not decode");
  return s;
}

PipelineSums shown(const Sums& s) {
  return PipelineSums{s.count, amounts::text(s.unweighted), amounts::text(s.weighted)};
}

// A change to a group's sums.
struct Delta {
  std::int64_t count = 0;
  Units unweighted = 0;
  Units weighted = 0;
};

// An open opportunity's amounts, to add (sign 1) or remove (sign -1) in each of its groups.
Delta contribution(const Tracked& t, int sign) {
  // 0..100 %: the weighted amount is at most the amount, never an overflow.
  Units unweighted = amounts::units(t.amount.amount);
  Units weighted = amounts::units(t.amount.amount.percent(static_cast<std::int64_t>(t.probability))
                                      .value_or(domain::Decimal{}));
  return Delta{sign, sign * unweighted, sign * weighted};
}

void add(Batch& batch, const std::string& key, const Delta& d) {
  Sums s;
  if (auto row = batch.get(key))
    s = get_sums(*row);
  if (d.count < 0 && s.count < static_cast<std::uint64_t>(-d.count))
    throw std::runtime_error("pipeline: group " + key.substr(1) + " is already empty");
  s.count = d.count < 0 ? s.count - static_cast<std::uint64_t>(-d.count)
                        : s.count + static_cast<std::uint64_t>(d.count);
  s.unweighted += d.unweighted;
  s.weighted += d.weighted;
  if (s.count == 0)
    batch.del(key);
  else
    batch.put(key, put_sums(s));
}

// Adds (sign 1) or removes (sign -1) an open opportunity's amounts in each dimension's group.
void move(Batch& batch, const Tracked& t, int sign) {
  const Delta d = contribution(t, sign);
  for (char dim : kDims)
    add(batch, row_key(t, dim), d);
}

// The same, summed in memory (an offline build: see Pipeline::flush).
void move(std::map<std::string, Delta>& groups, const Tracked& t, int sign) {
  const Delta d = contribution(t, sign);
  for (char dim : kDims) {
    Delta& g = groups[row_key(t, dim)];
    g.count += d.count;
    g.unweighted += d.unweighted;
    g.weighted += d.weighted;
  }
}

class Pipeline final : public Projection {
 public:
  std::string name() const override { return std::string(kPipeline); }
  std::uint32_t version() const override { return 2; }  // 2: owner in group rows
  store::Filter filter() const override {
    return {{}, {std::string(opportunity::kCategory), std::string(settings::kCategory)}};
  }

  void apply(const store::RecordedEvent& e, Batch& batch) override {
    if (e.category() == settings::kCategory) {
      auto event = settings::Aggregate::decode(e.type, e.data);
      if (!event)
        throw std::runtime_error("event " + e.id + " does not decode: " + event.error().message);
      const auto* changed = std::get_if<settings::Changed>(&*event);
      if (changed != nullptr && changed->key == settings::kReportingCurrency)
        batch.put("c", changed->value);
      return;
    }
    auto event = opportunity::Aggregate::decode(e.type, e.data);
    if (!event)
      throw std::runtime_error("event " + e.id + " does not decode: " + event.error().message);
    if (std::holds_alternative<domain::notification::Requested>(*event))
      return;
    const std::string id = e.stream.substr(opportunity::kCategory.size() + 1);
    if (holding_) {
      auto it = held_.find(id);
      if (it == held_.end())
        it = held_.emplace(id, load(e, batch, id)).first;
      it->second.touched = e.position;
      opportunity::Aggregate::apply(it->second.state, *event);
      return;
    }
    Held h = load(e, batch, id);
    opportunity::Aggregate::apply(h.state, *event);
    write(batch, id, h, [&](const Tracked& t, int sign) { move(batch, t, sign); });
  }

  void hold(bool on) override {
    holding_ = on;
    held_.clear();
  }
  // Writes what apply would have, event after event: each held opportunity once, and each
  // group's sums changed by the total of its opportunities' moves.
  void flush(Batch& out, std::int64_t bytes) override {
    const std::uint64_t cutoff = flush_cutoff(touched_of(held_), cost_.per_record(), bytes);
    CountingBatch batch(out);
    std::map<std::string, Delta> groups;
    const std::size_t written = write_out(held_, cutoff, [&](const std::string& id, const Held& h) {
      write(batch, id, h, [&](const Tracked& t, int sign) { move(groups, t, sign); });
    });
    for (const auto& [key, d] : groups) {
      if (d.count != 0 || d.unweighted != 0 || d.weighted != 0)
        add(batch, key, d);
    }
    cost_.learn(batch, written);
  }
  std::int64_t held_bytes() const override { return cost_.of(held_.size()); }

 private:
  struct Held {
    opportunity::State state;
    std::optional<Tracked> before;  // as stored before it was held
    std::uint64_t touched = 0;      // the position of its last event
  };
  // An opportunity as it stands before an event of it.
  static Held load(const store::RecordedEvent& e, Batch& batch, const std::string& id) {
    Held h;
    // A stream's first event: nothing stored to read back.
    h.before =
        e.stream_version == 0 ? std::nullopt : read_stored<Tracked>(batch, "o" + id, kPipeline);
    if (h.before)
      h.state = to_state(*h.before);
    return h;
  }
  // Writes an opportunity folded since it was loaded, its contribution moved out of the groups it
  // was in and into those it is in now through move(tracked, sign).
  template <class Move>
  static void write(Batch& batch, const std::string& id, const Held& h, Move&& move) {
    Tracked after = to_tracked(h.state);
    if (h.before && h.before->status == "open")
      move(*h.before, -1);
    if (after.status == "open")
      move(after, 1);
    if (h.before)
      batch.put("o" + id, domain::codec::encode(after));
    else
      batch.put_new("o" + id, domain::codec::encode(after));
  }
  bool holding_ = false;
  std::unordered_map<std::string, Held> held_;
  // A held opportunity (roughly: strings, hash node), then its row.
  HeldCost cost_{static_cast<std::int64_t>(sizeof(Held)) + 320, 300};
};

}  // namespace

std::unique_ptr<Projection> make_pipeline() {
  return std::make_unique<Pipeline>();
}

std::string pipeline_reporting_currency(const View& view) {
  auto c = view.get("c");
  return c ? *c : std::string(settings::kDefaultReportingCurrency);
}

PipelineReport pipeline_report(const View& view, PipelineGroupBy by, std::string_view currency,
                               const std::vector<std::string>& leading, const OwnerFilter& owners) {
  PipelineReport out;
  out.currency = std::string(currency);
  std::map<std::string, Sums> groups;
  std::map<std::string, Sums> excluded;
  Sums total;
  std::string from = "g";
  from.push_back(dim_of(by));
  std::string to = from;
  to.back() = static_cast<char>(to.back() + 1);
  view.scan(from, to, [&](std::string_view key, std::string_view value) {
    key.remove_prefix(2);
    auto first = key.find('\0');
    auto last = key.rfind('\0');
    if (first == last)
      return true;
    if (owners && !owners(key.substr(0, first)))
      return true;
    std::string group(key.substr(first + 1, last - first - 1));
    std::string cur(key.substr(last + 1));
    Sums s = get_sums(value);
    Sums& target = cur == currency ? groups[group] : excluded[cur];
    target.count += s.count;
    target.unweighted += s.unweighted;
    target.weighted += s.weighted;
    if (cur == currency) {
      total.count += s.count;
      total.unweighted += s.unweighted;
      total.weighted += s.weighted;
    }
    return true;
  });
  for (const std::string& key : leading) {
    auto it = groups.find(key);
    out.groups.push_back({key, shown(it == groups.end() ? Sums{} : it->second)});
    if (it != groups.end())
      groups.erase(it);
  }
  for (const auto& [key, s] : groups)
    out.groups.push_back({key, shown(s)});
  out.total = shown(total);
  for (const auto& [cur, s] : excluded)
    out.excluded.push_back({cur, shown(s)});
  return out;
}

}  // namespace eventcrm::projections
