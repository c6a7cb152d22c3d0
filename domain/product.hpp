// Products of the warehouse catalogue (R-INV 1): SKU, name, unit of measure, prices, the
// number of fractional digits its quantities may have, an active flag and a reorder level.
// SKU uniqueness is enforced by the app layer with an identity claim (app/duplicates.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/money.hpp"

namespace eventcrm::domain::product {

inline constexpr std::string_view kCategory = "product";

struct Created {
  static constexpr std::string_view kType = "product.created.v1";
  std::string product_id;
  std::string sku;
  std::string name;
  std::string unit;
  int decimals = 4;      // fractional digits a quantity of it may have (0..4)
  std::string currency;  // what its prices and stock values are in
  std::optional<Decimal> sale_price;
  std::optional<Decimal> cost;  // standard cost (informational; stock is valued at moving average)
  Decimal reorder_level;
  bool active = true;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("sku", s.sku);
    f("name", s.name);
    f("unit", s.unit);
    f("decimals", s.decimals);
    f("currency", s.currency);
    f("sale_price", s.sale_price);
    f("cost", s.cost);
    f("reorder_level", s.reorder_level);
    f("active", s.active);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

// A plain edit: only the fields present changed (the SKU and the currency never change).
struct Updated {
  static constexpr std::string_view kType = "product.updated.v1";
  std::string product_id;
  std::optional<std::string> name;
  std::optional<std::string> unit;
  std::optional<Decimal> sale_price;
  std::optional<Decimal> cost;
  std::optional<Decimal> reorder_level;
  std::optional<bool> active;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("name", s.name);
    f("unit", s.unit);
    f("sale_price", s.sale_price);
    f("cost", s.cost);
    f("reorder_level", s.reorder_level);
    f("active", s.active);
  }
  bool operator==(const Updated&) const = default;
};

using Event = std::variant<Created, Updated>;

struct State {
  bool exists = false;
  std::string id;
  std::string sku;
  std::string name;
  std::string unit;
  int decimals = 4;
  std::string currency;
  Decimal reorder_level;
  bool active = false;
};

struct Create {
  std::string sku;
  std::string name;
  std::string unit;
  std::optional<int> decimals;
  std::optional<Money> sale_price;
  std::optional<Money> cost;
  std::optional<Decimal> reorder_level;
  std::optional<bool> active;
};
struct Update {
  std::optional<std::string> name;
  std::optional<std::string> unit;
  std::optional<Money> sale_price;
  std::optional<Money> cost;
  std::optional<Decimal> reorder_level;
  std::optional<bool> active;
};
using Command = std::variant<Create, Update>;

// The SKU as claimed for uniqueness: trimmed and upper-cased ("ab-1 " and "AB-1" are one SKU).
std::string normalize_sku(std::string_view sku);
// Whether `quantity` has no more fractional digits than `decimals`.
bool fits_precision(Decimal quantity, int decimals);

struct Aggregate {
  using State = product::State;
  using Event = product::Event;
  using Command = product::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
};

}  // namespace eventcrm::domain::product
