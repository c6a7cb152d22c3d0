// Vouchers as listed and shown, and the payments read model. Payments rows (local keys):
//   'O' order                    → the order's total and what its vouchers paid
//   'V' voucher                  → what the voucher counted for (to take it back when voided)
//   'K' currency \0 date         → that day's cash in and out
#include "projections/vouchers.hpp"

#include <stdexcept>

#include "domain/order.hpp"
#include "domain/voucher.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace voucher = domain::voucher;
namespace order = domain::order;
using domain::Decimal;
using domain::codec::decimal_text;

struct VoucherRow {
  std::string id;
  std::string kind;
  domain::Money amount;
  std::string method;
  domain::Date date;
  std::optional<std::string> account_id, supplier, order_id, contract_id, description;
  std::string status = "recorded";  // recorded | voided
  std::optional<std::string> void_reason;
  std::string recorded_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("kind", s.kind);
    f("amount", s.amount);
    f("method", s.method);
    f("date", s.date);
    f("account_id", s.account_id);
    f("supplier", s.supplier);
    f("order_id", s.order_id);
    f("contract_id", s.contract_id);
    f("description", s.description);
    f("status", s.status);
    f("void_reason", s.void_reason);
    f("recorded_by", s.recorded_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

class Vouchers final : public RecordProjection<voucher::Aggregate, VoucherRow> {
 public:
  std::string name() const override { return std::string(kVouchers); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return vouchers_spec(); }

 protected:
  void update(VoucherRow& row, const voucher::Event& event, const store::RecordedEvent&) override {
    std::visit(domain::codec::overloaded{
                   [&](const voucher::Recorded& e) {
                     row.kind = to_string(e.kind);
                     row.amount = e.amount;
                     row.method = e.method;
                     row.date = e.date;
                     row.account_id = e.account_id;
                     row.supplier = e.supplier;
                     row.order_id = e.order_id;
                     row.contract_id = e.contract_id;
                     row.description = e.description;
                     row.recorded_by = e.recorded_by;
                   },
                   [&](const voucher::Voided& e) {
                     row.status = "voided";
                     row.void_reason = e.reason;
                   },
               },
               event);
  }
  records::Facets facets(const VoucherRow& row) const override {
    records::Facets f{{"kind", row.kind},
                      {"method", row.method},
                      {"status", row.status},
                      {"currency", row.amount.currency},
                      {"date", row.date.to_string()},
                      {"created_at", row.created_at.to_string()}};
    if (row.account_id)
      f.emplace_back("account_id", *row.account_id);
    if (row.order_id)
      f.emplace_back("order_id", *row.order_id);
    if (row.contract_id)
      f.emplace_back("contract_id", *row.contract_id);
    if (row.supplier)
      f.emplace_back("supplier", *row.supplier);
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(const VoucherRow& row) const override {
    return {{"date", row.date.to_string()},
            {"created_at", row.created_at.to_string()},
            {"amount", records::key_decimal(row.amount.amount)}};
  }
};

struct OrderPaid {
  std::string account_id;
  std::string currency;
  Decimal total;
  Decimal paid;  // receipts less payments (refunds)
  std::int64_t vouchers = 0;
  bool cancelled = false;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("account_id", s.account_id);
    f("currency", s.currency);
    f("total", s.total);
    f("paid", s.paid);
    f("vouchers", s.vouchers);
    f("cancelled", s.cancelled);
  }
};

struct Counted {
  std::optional<std::string> order_id;
  bool receipt = true;
  domain::Money amount;
  domain::Date date;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("order_id", s.order_id);
    f("receipt", s.receipt);
    f("amount", s.amount);
    f("date", s.date);
  }
};

struct CashDay {
  Decimal in, out;
  std::int64_t receipts = 0, payments = 0;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("in", s.in);
    f("out", s.out);
    f("receipts", s.receipts);
    f("payments", s.payments);
  }
};

template <class T>
std::optional<T> read(const std::optional<std::string>& bytes) {
  if (!bytes)
    return std::nullopt;
  auto r = domain::codec::decode<T>(*bytes);
  if (!r)
    throw std::runtime_error("payments row does not decode: " + r.error().message);
  return std::move(*r);
}

std::string cash_key(const std::string& currency, domain::Date date) {
  std::string k = "K" + currency;
  k.push_back('\0');
  k += date.to_string();
  return k;
}

class Payments final : public Projection {
 public:
  std::string name() const override { return std::string(kPayments); }
  std::uint32_t version() const override { return 1; }
  store::Filter filter() const override {
    return {{}, {std::string(order::kCategory), std::string(voucher::kCategory)}};
  }
  void apply(const store::RecordedEvent& e, Batch& batch) override {
    if (e.category() == order::kCategory) {
      auto event = order::Aggregate::decode(e.type, e.data);
      if (!event)
        throw std::runtime_error("event " + e.id + " does not decode");
      const std::string key = "O" + e.stream.substr(order::kCategory.size() + 1);
      OrderPaid row = read<OrderPaid>(batch.get(key)).value_or(OrderPaid{});
      if (const auto* c = std::get_if<order::Created>(&*event)) {
        row.account_id = c->account_id;
        row.currency = c->totals.total.currency;
        row.total = c->totals.total.amount;
      } else {
        row.cancelled = true;
      }
      batch.put(key, domain::codec::encode(row));
      return;
    }
    auto event = voucher::Aggregate::decode(e.type, e.data);
    if (!event)
      throw std::runtime_error("event " + e.id + " does not decode");
    std::string vkey = "V" + e.stream.substr(voucher::kCategory.size() + 1);
    Counted counted;
    int sign = 1;
    if (const auto* r = std::get_if<voucher::Recorded>(&*event)) {
      counted = Counted{r->order_id, r->kind == voucher::Kind::receipt, r->amount, r->date};
      batch.put(vkey, domain::codec::encode(counted));
    } else {
      auto before = read<Counted>(batch.get(vkey));
      if (!before)
        return;
      counted = *before;
      sign = -1;
    }
    // The day's cash.
    const std::string ck = cash_key(counted.amount.currency, counted.date);
    CashDay day = read<CashDay>(batch.get(ck)).value_or(CashDay{});
    const Decimal delta = sign > 0 ? counted.amount.amount
                                   : Decimal{}.minus(counted.amount.amount).value_or(Decimal{});
    if (counted.receipt) {
      day.in = day.in.plus(delta).value_or(day.in);
      day.receipts += sign;
    } else {
      day.out = day.out.plus(delta).value_or(day.out);
      day.payments += sign;
    }
    batch.put(ck, domain::codec::encode(day));
    // The order's paid amount.
    if (counted.order_id) {
      const std::string key = "O" + *counted.order_id;
      auto row = read<OrderPaid>(batch.get(key));
      if (row) {
        const Decimal paid_delta =
            counted.receipt ? delta : Decimal{}.minus(delta).value_or(Decimal{});
        row->paid = row->paid.plus(paid_delta).value_or(row->paid);
        row->vouchers += sign;
        batch.put(key, domain::codec::encode(*row));
      }
    }
  }
};

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

const char* payment_status(const OrderPaid& o) {
  if (o.paid <= Decimal{})
    return "unpaid";
  if (o.paid < o.total)
    return "partially_paid";
  if (o.paid == o.total)
    return "paid";
  return "overpaid";
}

std::string render(const std::string& order_id, const OrderPaid& o) {
  domain::json::Writer w;
  w.begin_object();
  w.key("order_id");
  w.string(order_id);
  w.key("account_id");
  w.string(o.account_id);
  w.key("status");
  w.string(o.cancelled ? "cancelled" : "open");
  money(w, "total", o.total, o.currency);
  money(w, "paid", o.paid, o.currency);
  money(w, "outstanding", o.total.minus(o.paid).value_or(Decimal{}), o.currency);
  w.key("payment_status");
  w.string(payment_status(o));
  w.key("vouchers");
  w.integer(o.vouchers);
  w.end_object();
  return w.take();
}

}  // namespace

const records::Spec& vouchers_spec() {
  static const records::Spec spec{
      {"-date", "date", "-created_at", "created_at", "-amount", "amount"},
      {"account_id", "order_id", "kind", "status"},
      {"description", "supplier"},
  };
  return spec;
}

std::unique_ptr<Projection> make_vouchers() {
  return std::make_unique<Vouchers>();
}
std::unique_ptr<Projection> make_payments() {
  return std::make_unique<Payments>();
}

namespace payments {

std::optional<std::string> order_payment(const View& view, const std::string& order_id) {
  auto bytes = view.get("O" + order_id);
  if (!bytes)
    return std::nullopt;
  auto o = domain::codec::decode<OrderPaid>(*bytes);
  if (!o)
    return std::nullopt;
  return render(order_id, *o);
}

Page order_payments(const View& view, const OrderQuery& q) {
  Page page;
  std::string from = q.cursor.empty() ? std::string("O") : "O" + q.cursor + std::string(1, '\0');
  std::size_t scanned = 0;
  std::string last;
  view.scan(from, "P", [&](std::string_view key, std::string_view value) {
    if (page.items.size() >= q.limit || ++scanned > 20'000) {
      page.next_cursor = last;
      return false;
    }
    last.assign(key.substr(1));
    auto o = domain::codec::decode<OrderPaid>(value);
    if (!o)
      return true;
    if (q.account_id && o->account_id != *q.account_id)
      return true;
    if (q.payment_status && *q.payment_status != payment_status(*o))
      return true;
    page.items.push_back(render(last, *o));
    return true;
  });
  return page;
}

std::vector<std::string> cash_report(const View& view, domain::Date from, domain::Date to,
                                     const std::optional<std::string>& currency) {
  std::vector<std::string> out;
  const std::string from_text = from.to_string(), to_text = to.to_string();
  view.scan("K", "L", [&](std::string_view key, std::string_view value) {
    std::string_view rest = key.substr(1);
    const auto nul = rest.find('\0');
    const std::string cur(rest.substr(0, nul));
    const std::string date(rest.substr(nul + 1));
    if (currency && cur != *currency)
      return true;
    if (date < from_text || date > to_text)
      return true;
    auto day = domain::codec::decode<CashDay>(value);
    if (!day || (day->receipts == 0 && day->payments == 0))
      return true;
    domain::json::Writer w;
    w.begin_object();
    w.key("date");
    w.string(date);
    w.key("currency");
    w.string(cur);
    money(w, "in", day->in, cur);
    money(w, "out", day->out, cur);
    money(w, "net", day->in.minus(day->out).value_or(Decimal{}), cur);
    w.key("receipts");
    w.integer(day->receipts);
    w.key("payments");
    w.integer(day->payments);
    w.end_object();
    out.push_back(w.take());
    return true;
  });
  return out;
}

}  // namespace payments
}  // namespace eventcrm::projections
