// Orders as listed and shown: the accepted quote's lines and totals, and whether the order is
// open or cancelled.
#include "projections/orders.hpp"

#include "domain/order.hpp"
#include "projections/quotes.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace order = domain::order;

struct OrderRow {
  std::string id;
  std::string account_id;
  std::string quote_id;
  std::optional<std::string> opportunity_id;
  std::string currency;
  std::vector<PricedLine> lines;
  domain::quote::Totals totals;
  std::string status = "open";  // open | cancelled
  std::optional<std::string> cancellation_reason;
  std::optional<domain::Timestamp> cancelled_at;
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("quote_id", s.quote_id);
    f("opportunity_id", s.opportunity_id);
    f("currency", s.currency);
    f("lines", s.lines);
    f("totals", s.totals);
    f("status", s.status);
    f("cancellation_reason", s.cancellation_reason);
    f("cancelled_at", s.cancelled_at);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

class Orders final : public RecordProjection<order::Aggregate, OrderRow> {
 public:
  std::string name() const override { return std::string(kOrders); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return orders_spec(); }

 protected:
  void update(OrderRow& row, const order::Event& event,
              const store::RecordedEvent& recorded) override {
    std::visit(domain::codec::overloaded{
                   [&](const order::Created& e) {
                     row.account_id = e.account_id;
                     row.quote_id = e.quote_id;
                     row.opportunity_id = e.opportunity_id;
                     row.currency = e.currency;
                     row.lines = priced_lines(e.lines, e.currency);
                     row.totals = e.totals;
                     row.created_by = e.created_by;
                   },
                   [&](const order::Cancelled& e) {
                     row.status = "cancelled";
                     row.cancellation_reason = e.reason;
                     row.cancelled_at = domain::Timestamp{recorded.time_ms};
                   },
               },
               event);
  }
  records::Facets facets(const OrderRow& row) const override {
    records::Facets f{{"account_id", row.account_id},
                      {"status", row.status},
                      {"quote_id", row.quote_id},
                      {"currency", row.currency},
                      {"created_at", row.created_at.to_string()}};
    if (row.opportunity_id)
      f.emplace_back("opportunity_id", *row.opportunity_id);
    if (std::string text = lines_text(row.lines); !text.empty())
      f.emplace_back("lines", std::move(text));
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(const OrderRow& row) const override {
    return {{"created_at", row.created_at.to_string()},
            {"updated_at", row.updated_at.to_string()},
            {"total", records::key_decimal(row.totals.total.amount)}};
  }
};

}  // namespace

const records::Spec& orders_spec() {
  static const records::Spec spec{
      {"-created_at", "created_at", "-updated_at", "-total", "total"},
      {"account_id", "status", "quote_id"},
      {"lines"},
  };
  return spec;
}

std::unique_ptr<Projection> make_orders() {
  return std::make_unique<Orders>();
}

}  // namespace eventcrm::projections
