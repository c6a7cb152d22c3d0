// Products and warehouses as listed and shown.
#include "projections/products.hpp"

#include "domain/product.hpp"
#include "domain/warehouse.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace product = domain::product;
namespace warehouse = domain::warehouse;

struct ProductRow {
  std::string id;
  std::string sku;
  std::string name;
  std::string unit;
  int decimals = 4;
  std::optional<domain::Money> sale_price;
  std::optional<domain::Money> cost;
  domain::Decimal reorder_level;
  bool active = true;
  std::string currency;
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("sku", s.sku);
    f("name", s.name);
    f("unit", s.unit);
    f("decimals", s.decimals);
    f("sale_price", s.sale_price);
    f("cost", s.cost);
    f("reorder_level", s.reorder_level);
    f("active", s.active);
    f("currency", s.currency);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

std::optional<domain::Money> priced(const std::optional<domain::Decimal>& d,
                                    const std::string& currency) {
  if (!d)
    return std::nullopt;
  return domain::Money{*d, currency};
}

class Products final : public RecordProjection<product::Aggregate, ProductRow> {
 public:
  std::string name() const override { return std::string(kProducts); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return products_spec(); }

 protected:
  void update(ProductRow& row, const product::Event& event, const store::RecordedEvent&) override {
    std::visit(domain::codec::overloaded{
                   [&](const product::Created& e) {
                     row.sku = e.sku;
                     row.name = e.name;
                     row.unit = e.unit;
                     row.decimals = e.decimals;
                     row.currency = e.currency;
                     row.sale_price = priced(e.sale_price, e.currency);
                     row.cost = priced(e.cost, e.currency);
                     row.reorder_level = e.reorder_level;
                     row.active = e.active;
                     row.created_by = e.created_by;
                   },
                   [&](const product::Updated& e) {
                     if (e.name)
                       row.name = *e.name;
                     if (e.unit)
                       row.unit = *e.unit;
                     if (e.sale_price)
                       row.sale_price = priced(e.sale_price, row.currency);
                     if (e.cost)
                       row.cost = priced(e.cost, row.currency);
                     if (e.reorder_level)
                       row.reorder_level = *e.reorder_level;
                     if (e.active)
                       row.active = *e.active;
                   },
               },
               event);
  }
  records::Facets facets(const ProductRow& row) const override {
    return {{"sku", row.sku},
            {"active", row.active ? "true" : "false"},
            {"unit", row.unit},
            {"name", row.name},
            {"created_at", row.created_at.to_string()}};
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(const ProductRow& row) const override {
    return {{"sku", records::key_text(row.sku)},
            {"name", records::key_text(row.name)},
            {"created_at", row.created_at.to_string()}};
  }
};

struct WarehouseRow {
  std::string id;
  std::string code;
  std::string name;
  bool negative_stock_allowed = false;
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("code", s.code);
    f("name", s.name);
    f("negative_stock_allowed", s.negative_stock_allowed);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

class Warehouses final : public RecordProjection<warehouse::Aggregate, WarehouseRow> {
 public:
  std::string name() const override { return std::string(kWarehouses); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return warehouses_spec(); }

 protected:
  void update(WarehouseRow& row, const warehouse::Event& event,
              const store::RecordedEvent&) override {
    std::visit(
        domain::codec::overloaded{
            [&](const warehouse::Created& e) {
              row.code = e.code;
              row.name = e.name;
              row.created_by = e.created_by;
            },
            [&](const warehouse::NegativeStockSet& e) { row.negative_stock_allowed = e.allowed; },
        },
        event);
  }
  records::Facets facets(const WarehouseRow& row) const override {
    return {{"code", row.code}, {"name", row.name}, {"created_at", row.created_at.to_string()}};
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(
      const WarehouseRow& row) const override {
    return {{"code", records::key_text(row.code)}, {"created_at", row.created_at.to_string()}};
  }
};

}  // namespace

const records::Spec& products_spec() {
  static const records::Spec spec{
      {"sku", "-sku", "name", "-name", "-created_at", "created_at"},
      {"sku", "active"},
      {"sku", "name"},
  };
  return spec;
}

const records::Spec& warehouses_spec() {
  static const records::Spec spec{
      {"code", "-code", "-created_at", "created_at"}, {"code"}, {"code", "name"}};
  return spec;
}

std::unique_ptr<Projection> make_products() {
  return std::make_unique<Products>();
}
std::unique_ptr<Projection> make_warehouses() {
  return std::make_unique<Warehouses>();
}

}  // namespace eventcrm::projections
