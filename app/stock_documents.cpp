// Stock movement documents as one multi-stream append, decided again on conflict.
#include "app/stock_documents.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "domain/account.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/reservation.hpp"
#include "domain/stock.hpp"
#include "domain/warehouse.hpp"

namespace eventcrm::app {
namespace {

namespace stock = domain::stock;
namespace product = domain::product;
namespace warehouse = domain::warehouse;
using domain::Decimal;

using Outcome = eventcrm::Result<StockResult, StockFailure>;

Unexpected<StockFailure> failed(Error e) {
  return {StockFailure{std::move(e), std::nullopt}};
}

// One stock stream as this attempt sees it: its version when loaded, its state with the lines
// decided so far applied, and the events decided for it.
struct Slot {
  std::string id;  // product.warehouse
  std::int64_t version = -1;
  stock::State state;
  std::vector<stock::Event> events;
};

// Documents touching the same stock stream are decided one at a time in this process: under
// group commit, concurrent appends to one stream with the same expected version let only one
// win per batch, and the losers would fold and decide again only to lose again. Serialising
// them here turns that waste into a short wait. Correctness does not rest on it: the expected
// versions still refuse any write decided on a stale balance (another process, a raw append).
class StockLocks {
 public:
  static constexpr std::size_t kStripes = 4096;
  // Locks the stripes of `streams` in index order (no deadlock between documents).
  std::vector<std::unique_lock<std::mutex>> lock(const std::vector<std::string>& streams) {
    std::vector<std::size_t> idx;
    for (const auto& s : streams)
      idx.push_back(std::hash<std::string>{}(s) % kStripes);
    std::sort(idx.begin(), idx.end());
    idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
    std::vector<std::unique_lock<std::mutex>> held;
    held.reserve(idx.size());
    for (std::size_t i : idx)
      held.emplace_back(stripes_[i]);
    return held;
  }

 private:
  std::array<std::mutex, kStripes> stripes_;
};

StockLocks& stock_locks() {
  static StockLocks locks;
  return locks;
}

// The last folded state of the streams documents read, kept with its stream version and the id
// of the event at that version: a load reads the events from the cached version on (the first
// one proves the cache is about this very stream, whatever store the runner has) and folds only
// the newer ones, instead of the stream's tail since its last snapshot (a busy product's stock
// stream grows by thousands of events). Bounded: dropped whole when full.
template <class A>
class StateCache {
 public:
  using State = typename A::State;
  Result<Loaded<State>> load(CommandRunner& runner, const std::string& id) {
    const std::string stream = domain::stream_name(A::category, id);
    auto now = runner.store().stream_version(stream);
    if (!now)
      return unexpected(CommandRunner::from_store(std::move(now).error()));
    if (*now < 0)
      return Loaded<State>{State{}, -1};
    Entry entry;
    {
      std::lock_guard lock(mu_);
      if (auto it = states_.find(id); it != states_.end() && it->second.loaded.version <= *now)
        entry = it->second;
    }
    bool folded = false;
    if (entry.loaded.version >= 0) {
      auto events =
          runner.store().read_stream(stream, entry.loaded.version, store::Direction::forward,
                                     static_cast<std::size_t>(*now - entry.loaded.version + 1));
      folded = events && !events->empty() && events->front().id == entry.last_event_id;
      for (std::size_t i = 1; folded && i < events->size(); ++i) {
        const store::RecordedEvent& e = (*events)[i];
        auto event = A::decode(e.type, e.data);
        folded = event.has_value() && e.stream_version == entry.loaded.version + 1;
        if (folded) {
          A::apply(entry.loaded.state, *event);
          entry.loaded.version = e.stream_version;
          entry.last_event_id = e.id;
        }
      }
    }
    if (!folded) {
      auto full = runner.load<A>(id);
      if (!full)
        return unexpected(std::move(full).error());
      auto last = runner.store().read_stream(stream, full->version, store::Direction::forward, 1);
      if (!last || last->empty() || last->front().stream_version != full->version)
        return std::move(*full);  // not cached: it moved on meanwhile
      entry = Entry{std::move(*full), last->front().id};
    }
    std::lock_guard lock(mu_);
    if (states_.size() >= kMaxEntries)
      states_.clear();
    auto& slot = states_[id];
    if (slot.loaded.version <= entry.loaded.version)
      slot = entry;
    return entry.loaded;
  }

 private:
  struct Entry {
    Loaded<State> loaded;
    std::string last_event_id;
  };
  static constexpr std::size_t kMaxEntries = 100'000;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> states_;
};

template <class A>
StateCache<A>& cache() {
  static StateCache<A> c;
  return c;
}

}  // namespace

const char* to_string(DocumentKind k) noexcept {
  switch (k) {
    case DocumentKind::receipt:
      return "receipt";
    case DocumentKind::issue:
      return "issue";
    case DocumentKind::transfer:
      return "transfer";
    case DocumentKind::adjustment:
      return "adjustment";
  }
  return "receipt";
}

Outcome record_stock_document(CommandRunner& runner, const StockDocument& doc,
                              const CommandOptions& options, StockOptions limits) {
  const std::string document_id = runner.new_id(options, "document");
  // A keyed document that was already recorded: answer as the first time.
  if (auto r = runner.replay(options); !r) {
    return failed(std::move(r).error());
  } else if (*r && !(*r)->empty()) {
    return StockResult{document_id, (*r)->back().position, 1, (*r)->size()};
  }

  // ---- references and fields, checked once (products and warehouses are never deleted) ----
  std::vector<domain::FieldError> errors;
  auto bad = [&](std::string field, std::string message) {
    errors.push_back({std::move(field), std::move(message)});
  };
  const bool transfer = doc.kind == DocumentKind::transfer;
  auto load_warehouse = [&](const std::string& id, const char* field) -> std::optional<bool> {
    if (id.empty()) {
      bad(field, "required");
      return std::nullopt;
    }
    auto w = cache<warehouse::Aggregate>().load(runner, id);
    if (!w || !w->state.exists) {
      bad(field, "no such warehouse");
      return std::nullopt;
    }
    return w->state.negative_stock_allowed;
  };
  const char* from_field = transfer ? "from_warehouse_id" : "warehouse_id";
  auto negative_from = load_warehouse(doc.warehouse_id, from_field);
  std::optional<bool> negative_to;
  if (transfer) {
    if (!doc.to_warehouse_id.empty() && doc.to_warehouse_id == doc.warehouse_id)
      bad("to_warehouse_id", "must be another warehouse than from_warehouse_id");
    else
      negative_to = load_warehouse(doc.to_warehouse_id, "to_warehouse_id");
  }
  if (doc.lines.empty())
    bad("lines", "at least one line");
  if (doc.kind == DocumentKind::adjustment && doc.reason.empty())
    bad("reason", "required for an adjustment");

  std::optional<std::string> account_id = doc.account_id;
  if (doc.kind == DocumentKind::issue) {
    if (doc.account_id) {
      auto a = runner.store().stream_version(
          domain::stream_name(domain::account::kCategory, *doc.account_id));
      if (!a || *a < 0)
        bad("account_id", "no such account");
    }
    if (doc.order_id) {
      auto o = runner.load<domain::order::Aggregate>(*doc.order_id);
      if (!o || o->state.status == domain::order::Status::none) {
        bad("order_id", "no such order");
      } else if (o->state.status == domain::order::Status::cancelled) {
        bad("order_id", "the order is cancelled");
      } else if (doc.account_id && *doc.account_id != o->state.account_id) {
        bad("order_id", "belongs to another account");
      } else {
        account_id = o->state.account_id;
      }
    }
  }

  std::map<std::string, product::State> products;
  for (std::size_t i = 0; i < doc.lines.size(); ++i) {
    const StockLine& line = doc.lines[i];
    const std::string at = "lines[" + std::to_string(i) + "].";
    auto found = products.find(line.product_id);
    if (found == products.end()) {
      auto p = line.product_id.empty() ? Result<Loaded<product::State>>(Loaded<product::State>{})
                                       : cache<product::Aggregate>().load(runner, line.product_id);
      if (!p || !p->state.exists) {
        bad(at + "product_id", line.product_id.empty() ? "required" : "no such product");
        continue;
      }
      found = products.emplace(line.product_id, std::move(p->state)).first;
    }
    const product::State& p = found->second;
    auto precise = [&](const std::optional<Decimal>& q, const std::string& field) {
      if (q && !product::fits_precision(*q, p.decimals))
        bad(at + field,
            "at most " + std::to_string(p.decimals) + " fractional digits for " + p.sku);
    };
    if (doc.kind == DocumentKind::adjustment) {
      if (line.counted.has_value() == line.difference.has_value())
        bad(at + "counted", "give either counted or difference");
      precise(line.counted, "counted");
      precise(line.difference, "difference");
    } else {
      if (!line.quantity)
        bad(at + "quantity", "required");
      else if (*line.quantity <= Decimal{})
        bad(at + "quantity", "must be greater than zero");
      precise(line.quantity, "quantity");
    }
    if (doc.kind == DocumentKind::receipt) {
      if (!p.active)
        bad(at + "product_id", "the product is inactive");
      if (!line.unit_cost)
        bad(at + "unit_cost", "required");
      else if (line.unit_cost->amount < Decimal{})
        bad(at + "unit_cost", "must not be negative");
      else if (!line.unit_cost->currency.empty() && line.unit_cost->currency != p.currency)
        bad(at + "unit_cost.currency", "must be the product's currency, " + p.currency);
    }
  }
  if (!errors.empty())
    return failed(Error{errc::validation, "the document is invalid", {}, std::move(errors)});

  // ---- decide every line on the current balances, append, decide again on conflict ----
  auto ctx = runner.context(document_id, options);
  if (!ctx)
    return failed(std::move(ctx).error());
  std::vector<std::string> touched;
  for (const StockLine& line : doc.lines) {
    touched.push_back(stock::stock_id(line.product_id, doc.warehouse_id));
    if (transfer)
      touched.push_back(stock::stock_id(line.product_id, doc.to_warehouse_id));
  }
  const auto held =
      limits.serialize ? stock_locks().lock(touched) : std::vector<std::unique_lock<std::mutex>>{};
  for (int attempt = 1;; ++attempt) {
    std::vector<Slot> slots;
    std::map<std::string, std::size_t> index;
    auto slot = [&](const std::string& product_id,
                    const std::string& warehouse_id) -> eventcrm::Result<Slot*, Error> {
      std::string id = stock::stock_id(product_id, warehouse_id);
      if (auto it = index.find(id); it != index.end())
        return &slots[it->second];
      auto loaded = cache<stock::Aggregate>().load(runner, id);
      if (!loaded)
        return unexpected(std::move(loaded).error());
      index.emplace(id, slots.size());
      slots.push_back(Slot{id, loaded->version, std::move(loaded->state), {}});
      return &slots.back();
    };
    auto decide = [&](Slot& s, const stock::Command& c, std::size_t line,
                      Decimal requested) -> std::optional<StockFailure> {
      ctx->id = s.id;
      auto decided = stock::Aggregate::decide(s.state, c, *ctx);
      if (!decided) {
        domain::Error e = std::move(decided).error();
        if (e.code == domain::errc::conflict && e.message == stock::kInsufficient) {
          auto [p, w] = stock::split_id(s.id);
          const auto* issue = std::get_if<stock::Issue>(&c);
          Decimal available =
              stock::available(s.state, issue != nullptr ? issue->order_id : std::nullopt);
          return StockFailure{
              Error{errc::conflict, "insufficient stock of product " + p + " in warehouse " + w},
              Shortage{p, w, available, requested}};
        }
        for (auto& f : e.fields)
          f.field = "lines[" + std::to_string(line) + "]." + f.field;
        return StockFailure{CommandRunner::from_domain(std::move(e)), std::nullopt};
      }
      for (const stock::Event& ev : *decided) {
        stock::Aggregate::apply(s.state, ev);
        s.events.push_back(ev);
      }
      return std::nullopt;
    };

    for (std::size_t i = 0; i < doc.lines.size(); ++i) {
      const StockLine& line = doc.lines[i];
      auto from = slot(line.product_id, doc.warehouse_id);
      if (!from)
        return failed(std::move(from).error());
      std::optional<StockFailure> refused;
      const Decimal qty = line.quantity.value_or(Decimal{});
      switch (doc.kind) {
        case DocumentKind::receipt:
          refused =
              decide(**from, stock::Receive{document_id, qty, line.unit_cost->amount, doc.supplier},
                     i, qty);
          break;
        case DocumentKind::issue:
          refused = decide(**from,
                           stock::Issue{document_id, qty, account_id, doc.order_id, *negative_from},
                           i, qty);
          break;
        case DocumentKind::adjustment: {
          Decimal asked =
              line.difference ? Decimal{}.minus(*line.difference).value_or(Decimal{}) : Decimal{};
          refused = decide(
              **from,
              stock::Adjust{document_id, line.counted, line.difference, doc.reason, *negative_from},
              i, asked);
          break;
        }
        case DocumentKind::transfer: {
          const Decimal cost = (*from)->state.average_cost;
          refused = decide(
              **from, stock::TransferOut{document_id, doc.to_warehouse_id, qty, *negative_from}, i,
              qty);
          if (refused)
            break;
          auto to = slot(line.product_id, doc.to_warehouse_id);
          if (!to)
            return failed(std::move(to).error());
          refused =
              decide(**to, stock::TransferIn{document_id, doc.warehouse_id, qty, cost}, i, qty);
          break;
        }
      }
      if (refused)
        return unexpected(std::move(*refused));
    }
    (void)negative_to;  // a transfer's receipt half never lowers a balance

    std::vector<store::StreamAppend> parts;
    std::size_t movements = 0;
    for (const Slot& s : slots) {
      if (s.events.empty())
        continue;
      movements += s.events.size();
      parts.push_back({domain::stream_name(stock::kCategory, s.id),
                       s.version < 0 ? store::ExpectedVersion::no_stream()
                                     : store::ExpectedVersion::exact(s.version),
                       runner.to_new_events<stock::Aggregate>(s.events, options)});
    }
    if (parts.empty())
      return StockResult{document_id, 0, attempt, 0};
    if (limits.also_append) {
      auto extra = limits.also_append(document_id);
      if (!extra)
        return failed(std::move(extra).error());
      parts.push_back(std::move(*extra));
    }
    CommandRunner::stamp(parts, options);
    auto appended = runner.store().append_multi(std::move(parts));
    if (appended)
      return StockResult{document_id, appended->last_position, attempt, movements};
    if (!options.idempotency_key.empty()) {
      // A concurrent request with the same key may have won the race.
      if (auto r = runner.replay(options); !r) {
        return failed(std::move(r).error());
      } else if (*r && !(*r)->empty()) {
        return StockResult{document_id, (*r)->back().position, attempt, (*r)->size()};
      }
    }
    store::Error err = std::move(appended).error();
    if (err.code != store::errc::wrong_expected_version || attempt >= limits.max_attempts)
      return failed(CommandRunner::from_store(std::move(err)));
  }
}

namespace {

namespace reservation = domain::reservation;
namespace order = domain::order;

// The lines an order was created with (its creation event; orders never change lines).
Result<std::vector<domain::quote::Line>> order_lines(CommandRunner& runner,
                                                     const std::string& order_id) {
  auto first = runner.store().read_stream(domain::stream_name(order::kCategory, order_id), 0,
                                          store::Direction::forward, 1);
  if (!first)
    return unexpected(CommandRunner::from_store(std::move(first).error()));
  if (first->empty())
    return unexpected(Error{errc::not_found, "no such order"});
  auto created = order::Aggregate::decode(first->front().type, first->front().data);
  const auto* c = created ? std::get_if<order::Created>(&*created) : nullptr;
  if (c == nullptr)
    return unexpected(Error{errc::corrupted, "the order's first event is not its creation"});
  return c->lines;
}

std::optional<Result<CommandResult>> replayed_for(CommandRunner& runner,
                                                  const CommandOptions& options,
                                                  const std::string& stream,
                                                  const std::string& id) {
  auto r = runner.replay(options);
  if (!r)
    return Result<CommandResult>(unexpected(std::move(r).error()));
  if (!*r || (*r)->empty())
    return std::nullopt;
  CommandResult out{id, -1, (*r)->back().position};
  for (const store::RecordedEvent& e : **r) {
    if (e.stream == stream)
      out.version = e.stream_version;
  }
  return Result<CommandResult>(std::move(out));
}

store::ExpectedVersion expect(std::int64_t version) {
  return version < 0 ? store::ExpectedVersion::no_stream() : store::ExpectedVersion::exact(version);
}

}  // namespace

eventcrm::Result<StockResult, StockFailure> reserve_order(CommandRunner& runner,
                                                          const std::string& order_id,
                                                          const std::string& warehouse_id,
                                                          const CommandOptions& options) {
  const std::string reservation_stream = domain::stream_name(reservation::kCategory, order_id);
  if (auto r = replayed_for(runner, options, reservation_stream, order_id)) {
    if (!*r)
      return failed(std::move(*r).error());
    return StockResult{order_id, (*r)->position, 1, 0};
  }
  auto o = runner.load<order::Aggregate>(order_id);
  if (!o)
    return failed(std::move(o).error());
  if (o->state.status == order::Status::none)
    return failed(Error{errc::not_found, "no such order"});
  if (o->state.status == order::Status::cancelled)
    return failed(Error{errc::invalid_transition, "the order is cancelled"});
  auto w = cache<warehouse::Aggregate>().load(runner, warehouse_id);
  if (!w || !w->state.exists)
    return failed(
        Error{errc::validation, "no such warehouse", {}, {{"warehouse_id", "no such warehouse"}}});
  const bool negative = w->state.negative_stock_allowed;
  auto lines = order_lines(runner, order_id);
  if (!lines)
    return failed(std::move(lines).error());
  // One reservation line per catalogue product of the order.
  std::vector<reservation::Line> wanted;
  for (const auto& l : *lines) {
    if (l.product_id.empty())
      continue;
    auto p = cache<product::Aggregate>().load(runner, l.product_id);
    if (!p)
      return failed(std::move(p).error());
    if (!p->state.exists)
      continue;
    auto same = std::find_if(wanted.begin(), wanted.end(),
                             [&](const auto& x) { return x.product_id == l.product_id; });
    if (same == wanted.end())
      wanted.push_back({l.product_id, l.quantity});
    else
      same->quantity = same->quantity.plus(l.quantity).value_or(same->quantity);
  }
  std::vector<std::string> touched;
  for (const auto& l : wanted)
    touched.push_back(stock::stock_id(l.product_id, warehouse_id));
  const auto held = stock_locks().lock(touched);
  auto ctx = runner.context(order_id, options);
  if (!ctx)
    return failed(std::move(ctx).error());
  const std::string account = o->state.account_id;
  for (int attempt = 1;; ++attempt) {
    auto r = runner.load<reservation::Aggregate>(order_id);
    if (!r)
      return failed(std::move(r).error());
    ctx->id = order_id;
    auto made = reservation::Aggregate::decide(
        r->state, reservation::Make{account, warehouse_id, wanted}, *ctx);
    if (!made)
      return failed(CommandRunner::from_domain(std::move(made).error()));
    std::vector<store::StreamAppend> parts;
    parts.push_back({reservation_stream, expect(r->version),
                     runner.to_new_events<reservation::Aggregate>(*made, options)});
    for (const auto& l : wanted) {
      const std::string id = stock::stock_id(l.product_id, warehouse_id);
      auto s = cache<stock::Aggregate>().load(runner, id);
      if (!s)
        return failed(std::move(s).error());
      ctx->id = id;
      auto decided = stock::Aggregate::decide(
          s->state, stock::Reserve{order_id, account, l.quantity, negative}, *ctx);
      if (!decided) {
        domain::Error e = std::move(decided).error();
        if (e.code == domain::errc::conflict)
          return unexpected(StockFailure{
              Error{errc::conflict, "insufficient stock of product " + l.product_id +
                                        " in warehouse " + warehouse_id},
              Shortage{l.product_id, warehouse_id, stock::available(s->state), l.quantity}});
        return failed(CommandRunner::from_domain(std::move(e)));
      }
      parts.push_back({domain::stream_name(stock::kCategory, id), expect(s->version),
                       runner.to_new_events<stock::Aggregate>(*decided, options)});
    }
    const std::size_t movements = parts.size() - 1;
    CommandRunner::stamp(parts, options);
    auto appended = runner.store().append_multi(std::move(parts));
    if (appended)
      return StockResult{order_id, appended->last_position, attempt, movements};
    if (auto again = replayed_for(runner, options, reservation_stream, order_id)) {
      if (!*again)
        return failed(std::move(*again).error());
      return StockResult{order_id, (*again)->position, attempt, 0};
    }
    store::Error err = std::move(appended).error();
    if (err.code != store::errc::wrong_expected_version || attempt >= 64)
      return failed(CommandRunner::from_store(std::move(err)));
  }
}

eventcrm::Result<StockResult, StockFailure> fulfil_order(CommandRunner& runner,
                                                         const std::string& order_id,
                                                         const CommandOptions& options) {
  auto r = runner.load<reservation::Aggregate>(order_id);
  if (!r)
    return failed(std::move(r).error());
  if (r->state.status != reservation::Status::active) {
    auto o = runner.store().stream_version(domain::stream_name(order::kCategory, order_id));
    if (o && *o < 0)
      return failed(Error{errc::not_found, "no such order"});
    if (r->state.status == reservation::Status::fulfilled)
      return failed(Error{errc::invalid_transition, "the order was fulfilled"});
    if (r->state.status == reservation::Status::released)
      return failed(Error{errc::invalid_transition, "the order is cancelled"});
    return failed(Error{
        errc::invalid_transition, "nothing is reserved for the order: reserve first", {"reserve"}});
  }
  StockDocument doc;
  doc.kind = DocumentKind::issue;
  doc.warehouse_id = r->state.warehouse_id;
  doc.order_id = order_id;
  for (const auto& l : r->state.lines)
    doc.lines.push_back({l.product_id, l.quantity, {}, {}, {}});
  StockOptions limits;
  limits.also_append = [&runner, &options,
                        order_id](const std::string& document_id) -> Result<store::StreamAppend> {
    auto now = runner.load<reservation::Aggregate>(order_id);
    if (!now)
      return unexpected(std::move(now).error());
    auto ctx = runner.context(order_id, options);
    if (!ctx)
      return unexpected(std::move(ctx).error());
    auto done = reservation::Aggregate::decide(now->state, reservation::Fulfil{document_id}, *ctx);
    if (!done)
      return unexpected(CommandRunner::from_domain(std::move(done).error()));
    return store::StreamAppend{domain::stream_name(reservation::kCategory, order_id),
                               expect(now->version),
                               runner.to_new_events<reservation::Aggregate>(*done, options)};
  };
  return record_stock_document(runner, doc, options, limits);
}

Result<CommandResult> cancel_order(CommandRunner& runner, const std::string& order_id,
                                   const std::string& reason, const CommandOptions& options) {
  const std::string order_stream = domain::stream_name(order::kCategory, order_id);
  if (auto r = replayed_for(runner, options, order_stream, order_id))
    return std::move(*r);
  const bool retry = !options.expected_version;
  for (int attempt = 1;; ++attempt) {
    auto o = runner.load<order::Aggregate>(order_id);
    if (!o)
      return unexpected(std::move(o).error());
    if (options.expected_version && *options.expected_version != o->version)
      return unexpected(
          Error{errc::conflict, "the record is at another version", {}, {}, o->version});
    auto ctx = runner.context(order_id, options);
    if (!ctx)
      return unexpected(std::move(ctx).error());
    auto cancelled = order::Aggregate::decide(o->state, order::Cancel{reason}, *ctx);
    if (!cancelled)
      return unexpected(CommandRunner::from_domain(std::move(cancelled).error()));
    std::vector<store::StreamAppend> parts;
    parts.push_back({order_stream, expect(o->version),
                     runner.to_new_events<order::Aggregate>(*cancelled, options)});
    auto r = runner.load<reservation::Aggregate>(order_id);
    if (!r)
      return unexpected(std::move(r).error());
    auto released = reservation::Aggregate::decide(
        r->state, reservation::Release{o->state.account_id, reason}, *ctx);
    if (!released)
      return unexpected(CommandRunner::from_domain(std::move(released).error()));
    if (!released->empty()) {
      parts.push_back({domain::stream_name(reservation::kCategory, order_id), expect(r->version),
                       runner.to_new_events<reservation::Aggregate>(*released, options)});
    }
    if (r->state.status == reservation::Status::active) {
      for (const auto& l : r->state.lines) {
        const std::string id = stock::stock_id(l.product_id, r->state.warehouse_id);
        auto s = cache<stock::Aggregate>().load(runner, id);
        if (!s)
          return unexpected(std::move(s).error());
        ctx->id = id;
        auto freed = stock::Aggregate::decide(
            s->state, stock::Release{order_id, o->state.account_id, reason}, *ctx);
        if (!freed)
          return unexpected(CommandRunner::from_domain(std::move(freed).error()));
        if (!freed->empty())
          parts.push_back({domain::stream_name(stock::kCategory, id), expect(s->version),
                           runner.to_new_events<stock::Aggregate>(*freed, options)});
      }
    }
    CommandRunner::stamp(parts, options);
    auto appended = runner.store().append_multi(std::move(parts));
    if (appended)
      return CommandResult{order_id, appended->streams.front().last_version,
                           appended->last_position};
    if (auto again = replayed_for(runner, options, order_stream, order_id))
      return std::move(*again);
    Error err = CommandRunner::from_store(std::move(appended).error());
    if (err.code != errc::conflict || !retry || attempt >= runner.options().max_attempts * 4) {
      if (err.code == errc::conflict) {
        auto now = runner.store().stream_version(order_stream);
        err.current_version = now ? std::optional<std::int64_t>(*now) : std::nullopt;
      }
      return unexpected(std::move(err));
    }
  }
}

}  // namespace eventcrm::app
