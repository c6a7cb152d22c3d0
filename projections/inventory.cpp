// The inventory read model. Rows (projection-local keys):
//   'P' product                          → the product's catalogue fields
//   'W' warehouse                        → the warehouse's code and name
//   'B' product \0 warehouse             → the balance (on hand, reserved, average cost, version)
//   'X' warehouse \0 product             → (empty) balances by warehouse
//   'L' product \0 be64(position)        → one movement, as served by the ledger
//   'D' document \0 be64(position)       → the movement's product (a document's lines)
//   'C' warehouse \0 product             → cumulative in / out so far
//   'M' warehouse \0 product \0 date     → cumulative in / out through the end of that UTC day
// The report for [from, to] reads, per product × warehouse, the last 'M' row before `from`
// (opening) and the last one up to `to` (closing): any past period, from what the log says
// happened on each day, not from today's balance.
#include "projections/inventory.hpp"

#include <stdexcept>

#include "domain/codec.hpp"
#include "domain/product.hpp"
#include "domain/stock.hpp"
#include "domain/warehouse.hpp"
#include "projections/bytes.hpp"

namespace eventcrm::projections {
namespace {

namespace stock = domain::stock;
namespace product = domain::product;
namespace warehouse = domain::warehouse;
using domain::Decimal;
using domain::codec::decimal_text;

struct ProductInfo {
  std::string sku, name, unit, currency;
  Decimal reorder_level;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("sku", s.sku);
    f("name", s.name);
    f("unit", s.unit);
    f("currency", s.currency);
    f("reorder_level", s.reorder_level);
  }
};

struct WarehouseInfo {
  std::string code, name;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("code", s.code);
    f("name", s.name);
  }
};

struct Balance {
  Decimal on_hand, reserved, average_cost;
  std::int64_t version = -1;
  std::int64_t updated_ms = 0;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("on_hand", s.on_hand);
    f("reserved", s.reserved);
    f("average_cost", s.average_cost);
    f("version", s.version);
    f("updated_ms", s.updated_ms);
  }
};

struct Totals {
  Decimal in, out;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("in", s.in);
    f("out", s.out);
  }
};

struct Movement {
  std::int64_t position = 0;
  domain::Timestamp time;
  std::string type;  // receipt | issue | transfer_out | transfer_in | adjustment
  std::string document_id;
  std::string product_id;
  std::string warehouse_id;
  Decimal quantity;  // the signed change of on hand
  Decimal on_hand;
  Decimal unit_cost;
  Decimal average_cost;
  std::optional<std::string> supplier, account_id, order_id, from_warehouse_id, to_warehouse_id;
  std::optional<Decimal> counted;
  std::optional<std::string> reason;
  std::string actor;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("position", s.position);
    f("time", s.time);
    f("type", s.type);
    f("document_id", s.document_id);
    f("product_id", s.product_id);
    f("warehouse_id", s.warehouse_id);
    f("quantity", s.quantity);
    f("on_hand", s.on_hand);
    f("unit_cost", s.unit_cost);
    f("average_cost", s.average_cost);
    f("supplier", s.supplier);
    f("account_id", s.account_id);
    f("order_id", s.order_id);
    f("from_warehouse_id", s.from_warehouse_id);
    f("to_warehouse_id", s.to_warehouse_id);
    f("counted", s.counted);
    f("reason", s.reason);
    f("actor", s.actor);
  }
};

template <class T>
std::optional<T> read(const std::optional<std::string>& bytes) {
  if (!bytes)
    return std::nullopt;
  auto r = domain::codec::decode<T>(*bytes);
  if (!r)
    throw std::runtime_error("inventory row does not decode: " + r.error().message);
  return std::move(*r);
}

std::string pair_key(char tag, std::string_view a, std::string_view b) {
  std::string k(1, tag);
  k.append(a);
  k.push_back('\0');
  k.append(b);
  return k;
}
std::string prefix_key(char tag, std::string_view a) {
  std::string k(1, tag);
  k.append(a);
  k.push_back('\0');
  return k;
}
// The smallest key after every key starting with `prefix`.
std::string prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF)
    prefix.pop_back();
  if (!prefix.empty())
    prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

class Inventory final : public Projection {
 public:
  std::string name() const override { return std::string(kInventory); }
  std::uint32_t version() const override { return 1; }
  store::Filter filter() const override {
    return {{},
            {std::string(stock::kCategory), std::string(product::kCategory),
             std::string(warehouse::kCategory)}};
  }

  void apply(const store::RecordedEvent& e, Batch& batch) override {
    const std::string category = e.category();
    if (category == product::kCategory)
      return apply_product(e, batch);
    if (category == warehouse::kCategory)
      return apply_warehouse(e, batch);
    auto event = stock::Aggregate::decode(e.type, e.data);
    if (!event)
      throw std::runtime_error("event " + e.id + " (" + e.type + ") does not decode");
    std::string product_id, warehouse_id;
    std::visit(
        [&](const auto& x) {
          product_id = x.product_id;
          warehouse_id = x.warehouse_id;
        },
        *event);
    const std::string balance_key = pair_key('B', product_id, warehouse_id);
    auto balance = read<Balance>(batch.get(balance_key));
    if (!balance) {
      balance = Balance{};
      batch.put(pair_key('X', warehouse_id, product_id), "");
    }
    balance->version = e.stream_version;
    balance->updated_ms = e.time_ms;

    Movement m;
    m.position = static_cast<std::int64_t>(e.position);
    m.time = domain::Timestamp{e.time_ms};
    m.product_id = product_id;
    m.warehouse_id = warehouse_id;
    m.actor = e.metadata.actor;
    bool movement = true;
    std::visit(domain::codec::overloaded{
                   [&](const stock::Received& x) {
                     m.type = "receipt";
                     m.document_id = x.document_id;
                     m.quantity = x.quantity;
                     m.on_hand = x.on_hand;
                     m.unit_cost = x.unit_cost;
                     m.average_cost = x.average_cost;
                     m.supplier = x.supplier;
                   },
                   [&](const stock::Issued& x) {
                     m.type = "issue";
                     m.document_id = x.document_id;
                     m.quantity = Decimal{}.minus(x.quantity).value_or(Decimal{});
                     m.on_hand = x.on_hand;
                     m.unit_cost = x.unit_cost;
                     m.average_cost = x.average_cost;
                     m.account_id = x.account_id;
                     m.order_id = x.order_id;
                     balance->reserved =
                         balance->reserved.minus(x.reservation_consumed).value_or(Decimal{});
                   },
                   [&](const stock::TransferredOut& x) {
                     m.type = "transfer_out";
                     m.document_id = x.document_id;
                     m.quantity = Decimal{}.minus(x.quantity).value_or(Decimal{});
                     m.on_hand = x.on_hand;
                     m.unit_cost = x.unit_cost;
                     m.average_cost = x.average_cost;
                     m.to_warehouse_id = x.to_warehouse_id;
                   },
                   [&](const stock::TransferredIn& x) {
                     m.type = "transfer_in";
                     m.document_id = x.document_id;
                     m.quantity = x.quantity;
                     m.on_hand = x.on_hand;
                     m.unit_cost = x.unit_cost;
                     m.average_cost = x.average_cost;
                     m.from_warehouse_id = x.from_warehouse_id;
                   },
                   [&](const stock::Adjusted& x) {
                     m.type = "adjustment";
                     m.document_id = x.document_id;
                     m.quantity = x.quantity;
                     m.on_hand = x.on_hand;
                     m.unit_cost = x.unit_cost;
                     m.average_cost = x.average_cost;
                     m.counted = x.counted;
                     m.reason = x.reason;
                   },
                   [&](const stock::Reserved& x) {
                     movement = false;
                     balance->reserved = x.reserved;
                   },
                   [&](const stock::Released& x) {
                     movement = false;
                     balance->reserved = x.reserved;
                   },
               },
               *event);
    if (movement) {
      balance->on_hand = m.on_hand;
      balance->average_cost = m.average_cost;
      std::string ledger_key = prefix_key('L', product_id);
      bytes::put_be64(ledger_key, e.position);
      batch.put(ledger_key, domain::codec::encode(m));
      std::string doc_key = prefix_key('D', m.document_id);
      bytes::put_be64(doc_key, e.position);
      batch.put(doc_key, product_id);

      const std::string cumulative_key = pair_key('C', warehouse_id, product_id);
      Totals totals = read<Totals>(batch.get(cumulative_key)).value_or(Totals{});
      if (m.quantity > Decimal{})
        totals.in = totals.in.plus(m.quantity).value_or(totals.in);
      else
        totals.out = totals.out.minus(m.quantity).value_or(totals.out);
      const std::string encoded = domain::codec::encode(totals);
      batch.put(cumulative_key, encoded);
      std::string day_key = pair_key('M', warehouse_id, product_id);
      day_key.push_back('\0');
      day_key += m.time.date().to_string();
      batch.put(day_key, encoded);
    }
    batch.put(balance_key, domain::codec::encode(*balance));
  }

 private:
  void apply_product(const store::RecordedEvent& e, Batch& batch) {
    auto event = product::Aggregate::decode(e.type, e.data);
    if (!event)
      throw std::runtime_error("event " + e.id + " (" + e.type + ") does not decode");
    const std::string id = e.stream.substr(product::kCategory.size() + 1);
    const std::string key = "P" + id;
    ProductInfo p = read<ProductInfo>(batch.get(key)).value_or(ProductInfo{});
    std::visit(domain::codec::overloaded{
                   [&](const product::Created& x) {
                     p = ProductInfo{x.sku, x.name, x.unit, x.currency, x.reorder_level};
                   },
                   [&](const product::Updated& x) {
                     if (x.name)
                       p.name = *x.name;
                     if (x.unit)
                       p.unit = *x.unit;
                     if (x.reorder_level)
                       p.reorder_level = *x.reorder_level;
                   },
               },
               *event);
    batch.put(key, domain::codec::encode(p));
  }
  void apply_warehouse(const store::RecordedEvent& e, Batch& batch) {
    auto event = warehouse::Aggregate::decode(e.type, e.data);
    if (!event)
      throw std::runtime_error("event " + e.id + " (" + e.type + ") does not decode");
    if (const auto* x = std::get_if<warehouse::Created>(&*event))
      batch.put("W" + x->warehouse_id, domain::codec::encode(WarehouseInfo{x->code, x->name}));
  }
};

// ---- queries ----

template <class T>
std::optional<T> read_view(const View& v, const std::string& key) {
  auto bytes = v.get(key);
  if (!bytes)
    return std::nullopt;
  auto r = domain::codec::decode<T>(*bytes);
  if (!r)
    return std::nullopt;
  return std::move(*r);
}

void money(domain::json::Writer& w, std::string_view key, Decimal amount,
           const std::string& currency) {
  w.key(key);
  w.begin_object();
  w.key("amount");
  w.string(decimal_text(amount));
  w.key("currency");
  w.string(currency);
  w.end_object();
}

// Cursors are the last key served, hex-encoded (keys hold NUL bytes).
std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}
std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2 != 0 || s.size() > 1000)
    return std::nullopt;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    int hi = nib(s[i]), lo = nib(s[i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

constexpr std::size_t kScanBudget = 20'000;

}  // namespace

std::unique_ptr<Projection> make_inventory() {
  return std::make_unique<Inventory>();
}

namespace inventory {

std::optional<Page> balances(const View& view, const BalanceQuery& q) {
  // Which rows to walk: one product's balances, one warehouse's, or all.
  std::string from, to;
  const bool by_warehouse = q.warehouse_id && !q.product_id;
  if (q.product_id) {
    from = prefix_key('B', *q.product_id);
    if (q.warehouse_id)
      from += *q.warehouse_id;
    to = q.warehouse_id ? from + std::string(1, '\0') : prefix_end(from);
  } else if (by_warehouse) {
    from = prefix_key('X', *q.warehouse_id);
    to = prefix_end(from);
  } else {
    from = "B";
    to = "C";
  }
  if (!q.cursor.empty()) {
    auto last = unhex(q.cursor);
    if (!last || *last < from || *last >= to)
      return std::nullopt;
    from = *last + std::string(1, '\0');
  }
  Page page;
  std::size_t scanned = 0;
  std::string last_key;
  bool more = false;
  view.scan(from, to, [&](std::string_view key, std::string_view value) {
    if (page.items.size() >= q.limit || ++scanned > kScanBudget) {
      more = true;
      return false;
    }
    last_key.assign(key);
    std::string_view rest = key.substr(1);
    const auto nul = rest.find('\0');
    std::string product_id, warehouse_id;
    std::optional<Balance> b;
    if (by_warehouse) {
      warehouse_id = std::string(rest.substr(0, nul));
      product_id = std::string(rest.substr(nul + 1));
      b = read_view<Balance>(view, pair_key('B', product_id, warehouse_id));
    } else {
      product_id = std::string(rest.substr(0, nul));
      warehouse_id = std::string(rest.substr(nul + 1));
      auto r = domain::codec::decode<Balance>(value);
      if (r)
        b = std::move(*r);
    }
    if (!b)
      return true;
    ProductInfo p = read_view<ProductInfo>(view, "P" + product_id).value_or(ProductInfo{});
    WarehouseInfo w = read_view<WarehouseInfo>(view, "W" + warehouse_id).value_or(WarehouseInfo{});
    const Decimal available = b->on_hand.minus(b->reserved).value_or(Decimal{});
    const bool below = p.reorder_level > Decimal{} && available <= p.reorder_level;
    if (q.below_reorder && !below)
      return true;
    domain::json::Writer out;
    out.begin_object();
    out.key("product_id");
    out.string(product_id);
    out.key("sku");
    out.string(p.sku);
    out.key("name");
    out.string(p.name);
    out.key("unit");
    out.string(p.unit);
    out.key("warehouse_id");
    out.string(warehouse_id);
    out.key("warehouse_code");
    out.string(w.code);
    out.key("on_hand");
    out.string(decimal_text(b->on_hand));
    out.key("reserved");
    out.string(decimal_text(b->reserved));
    out.key("available");
    out.string(decimal_text(available));
    money(out, "average_cost", b->average_cost, p.currency);
    money(out, "value", b->on_hand.times(b->average_cost).value_or(Decimal{}), p.currency);
    out.key("reorder_level");
    out.string(decimal_text(p.reorder_level));
    out.key("below_reorder");
    out.boolean(below);
    out.key("version");
    out.integer(b->version);
    out.key("updated_at");
    out.string(domain::Timestamp{b->updated_ms}.to_string());
    out.key("movements_url");
    out.string("/v1/stock-movements?product_id=" + product_id + "&warehouse_id=" + warehouse_id);
    out.end_object();
    page.items.push_back(out.take());
    return true;
  });
  if (more && !last_key.empty())
    page.next_cursor = hex(last_key);
  return page;
}

std::optional<Page> ledger(const View& view, const LedgerQuery& q) {
  const bool by_document = q.document_id.has_value();
  std::string from = by_document ? prefix_key('D', *q.document_id) : prefix_key('L', *q.product_id);
  const std::string to = prefix_end(from);
  if (!q.cursor.empty()) {
    auto last = unhex(q.cursor);
    if (!last || *last < from || *last >= to)
      return std::nullopt;
    from = *last + std::string(1, '\0');
  }
  Page page;
  std::size_t scanned = 0;
  std::string last_key;
  bool more = false;
  view.scan(from, to, [&](std::string_view key, std::string_view value) {
    if (page.items.size() >= q.limit || ++scanned > kScanBudget) {
      more = true;
      return false;
    }
    last_key.assign(key);
    std::optional<std::string> row;
    if (by_document) {
      std::string ledger_key = prefix_key('L', value);
      ledger_key.append(key.substr(key.size() - 8));
      row = view.get(ledger_key);
    } else {
      row = std::string(value);
    }
    if (!row)
      return true;
    auto m = domain::codec::decode<Movement>(*row);
    if (!m)
      return true;
    if (q.product_id && m->product_id != *q.product_id)
      return true;
    if (q.warehouse_id && m->warehouse_id != *q.warehouse_id)
      return true;
    if (q.from_ms && m->time.ms < *q.from_ms)
      return true;
    if (q.to_ms && m->time.ms >= *q.to_ms)
      return true;
    page.items.push_back(std::move(*row));
    return true;
  });
  if (more && !last_key.empty())
    page.next_cursor = hex(last_key);
  return page;
}

std::vector<ReportLine> stock_movement_report(const View& view, domain::Date from, domain::Date to,
                                              const std::optional<std::string>& warehouse_id) {
  std::vector<ReportLine> out;
  const std::string first = warehouse_id ? prefix_key('C', *warehouse_id) : std::string("C");
  const std::string last = warehouse_id ? prefix_end(first) : std::string("D");
  const std::string from_text = from.to_string();
  const std::string to_text = to.to_string();
  view.scan(first, last, [&](std::string_view key, std::string_view) {
    std::string_view rest = key.substr(1);
    const auto nul = rest.find('\0');
    const std::string w(rest.substr(0, nul)), p(rest.substr(nul + 1));
    const std::string days = pair_key('M', w, p) + std::string(1, '\0');
    Totals opening, closing;
    bool any_before = false;
    view.scan(days, days + from_text, [&](std::string_view, std::string_view v) {
      if (auto t = domain::codec::decode<Totals>(v)) {
        opening = *t;
        any_before = true;
      }
      return true;
    });
    closing = opening;
    view.scan(days + from_text, days + to_text + std::string(1, '\x01'),
              [&](std::string_view, std::string_view v) {
                if (auto t = domain::codec::decode<Totals>(v))
                  closing = *t;
                return true;
              });
    const Decimal in = closing.in.minus(opening.in).value_or(Decimal{});
    const Decimal outq = closing.out.minus(opening.out).value_or(Decimal{});
    const Decimal open_qty = opening.in.minus(opening.out).value_or(Decimal{});
    const Decimal close_qty = closing.in.minus(closing.out).value_or(Decimal{});
    if (!any_before && in == Decimal{} && outq == Decimal{})
      return true;  // nothing happened to it by the end of the period
    ProductInfo info = read_view<ProductInfo>(view, "P" + p).value_or(ProductInfo{});
    domain::json::Writer j;
    j.begin_object();
    j.key("product_id");
    j.string(p);
    j.key("sku");
    j.string(info.sku);
    j.key("name");
    j.string(info.name);
    j.key("unit");
    j.string(info.unit);
    j.key("warehouse_id");
    j.string(w);
    j.key("opening");
    j.string(decimal_text(open_qty));
    j.key("in");
    j.string(decimal_text(in));
    j.key("out");
    j.string(decimal_text(outq));
    j.key("closing");
    j.string(decimal_text(close_qty));
    // The movements behind the figures (ids are URL-safe: UUIDs).
    j.key("movements_url");
    j.string("/v1/stock-movements?product_id=" + p + "&warehouse_id=" + w + "&from=" + from_text +
             "&to=" + to_text);
    j.end_object();
    out.push_back({p, w, j.take()});
    return true;
  });
  return out;
}

}  // namespace inventory
}  // namespace eventcrm::projections
