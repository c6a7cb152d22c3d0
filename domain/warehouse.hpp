// Warehouses (R-INV 1): a code (unique, claimed by the app layer), a name, and whether an
// administrator allows its stock to go negative (off by default: issues beyond what is on hand
// are refused).
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"

namespace eventcrm::domain::warehouse {

inline constexpr std::string_view kCategory = "warehouse";

struct Created {
  static constexpr std::string_view kType = "warehouse.created.v1";
  std::string warehouse_id;
  std::string code;
  std::string name;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("warehouse_id", s.warehouse_id);
    f("code", s.code);
    f("name", s.name);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

struct NegativeStockSet {
  static constexpr std::string_view kType = "warehouse.negative_stock_set.v1";
  std::string warehouse_id;
  bool allowed = false;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("warehouse_id", s.warehouse_id);
    f("allowed", s.allowed);
  }
  bool operator==(const NegativeStockSet&) const = default;
};

using Event = std::variant<Created, NegativeStockSet>;

struct State {
  bool exists = false;
  std::string id;
  std::string code;
  std::string name;
  bool negative_stock_allowed = false;
};

struct Create {
  std::string code;
  std::string name;
};
struct SetNegativeStock {
  bool allowed = false;
};
using Command = std::variant<Create, SetNegativeStock>;

// The code as claimed for uniqueness: trimmed, upper-cased.
std::string normalize_code(std::string_view code);

struct Aggregate {
  using State = warehouse::State;
  using Event = warehouse::Event;
  using Command = warehouse::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
};

}  // namespace eventcrm::domain::warehouse
