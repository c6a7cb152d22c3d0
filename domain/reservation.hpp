// An order's stock reservation (R-INV 5), one stream per order: `reservation-<order_id>`. It
// says which warehouse holds the order's goods and how much of each product, so fulfilment can
// issue them and cancellation can release them; the stock itself is held by `stock.reserved`
// events in each product's stock stream, appended in the same write. Cancelling an order always
// closes its reservation stream (released, even when nothing was reserved), so a reservation
// racing a cancellation conflicts on this stream instead of holding stock for a dead order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/money.hpp"

namespace eventcrm::domain::reservation {

inline constexpr std::string_view kCategory = "reservation";

struct Line {
  std::string product_id;
  Decimal quantity;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("quantity", s.quantity);
  }
  bool operator==(const Line&) const = default;
};

struct Made {
  static constexpr std::string_view kType = "reservation.made.v1";
  std::string order_id;
  std::string account_id;
  std::string warehouse_id;
  std::vector<Line> lines;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("order_id", s.order_id);
    f("account_id", s.account_id);
    f("warehouse_id", s.warehouse_id);
    f("lines", s.lines);
  }
  bool operator==(const Made&) const = default;
};

struct Fulfilled {
  static constexpr std::string_view kType = "reservation.fulfilled.v1";
  std::string order_id;
  std::string account_id;
  std::string document_id;  // the goods issue
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("order_id", s.order_id);
    f("account_id", s.account_id);
    f("document_id", s.document_id);
  }
  bool operator==(const Fulfilled&) const = default;
};

struct Released {
  static constexpr std::string_view kType = "reservation.released.v1";
  std::string order_id;
  std::string account_id;
  std::optional<std::string> reason;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("order_id", s.order_id);
    f("account_id", s.account_id);
    f("reason", s.reason);
  }
  bool operator==(const Released&) const = default;
};

using Event = std::variant<Made, Fulfilled, Released>;

enum class Status { none, active, fulfilled, released };
struct State {
  Status status = Status::none;
  std::string order_id;
  std::string account_id;
  std::string warehouse_id;
  std::vector<Line> lines;
};

struct Make {
  std::string account_id;
  std::string warehouse_id;
  std::vector<Line> lines;  // one per product
};
struct Fulfil {
  std::string document_id;
};
struct Release {
  std::string account_id;
  std::optional<std::string> reason;
};
using Command = std::variant<Make, Fulfil, Release>;

struct Aggregate {
  using State = reservation::State;
  using Event = reservation::Event;
  using Command = reservation::Command;
  static constexpr std::string_view category = kCategory;
  // ctx.id is the order id.
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command&) { return true; }
};

}  // namespace eventcrm::domain::reservation
