// The stock of one product in one warehouse (R-INV 2, 5): one stream per product × warehouse,
// `stock-<product_id>.<warehouse_id>`, each event one movement line of a document (goods
// receipt, goods issue, either half of a transfer, a count adjustment) or a reservation for an
// order. Keeping each balance in its own stream makes "on hand never goes negative" a decision
// on that stream's state, appended with its expected version: concurrent issues of the same
// stock conflict in the store and are decided again on the fresh balance, while issues of other
// products never touch each other. Every movement records the balance and the moving-average
// unit cost after it, so the log alone proves the invariant.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/money.hpp"

namespace eventcrm::domain::stock {

inline constexpr std::string_view kCategory = "stock";

// The id of a stock stream and its parts.
std::string stock_id(std::string_view product_id, std::string_view warehouse_id);
// {product_id, warehouse_id}; empty strings when `id` is not a stock id.
std::pair<std::string, std::string> split_id(std::string_view id);

struct Received {
  static constexpr std::string_view kType = "stock.received.v1";
  std::string product_id;
  std::string warehouse_id;
  std::string document_id;
  Decimal quantity;
  Decimal unit_cost;
  std::optional<std::string> supplier;
  Decimal on_hand;       // after the movement
  Decimal average_cost;  // after the movement
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("warehouse_id", s.warehouse_id);
    f("document_id", s.document_id);
    f("quantity", s.quantity);
    f("unit_cost", s.unit_cost);
    f("supplier", s.supplier);
    f("on_hand", s.on_hand);
    f("average_cost", s.average_cost);
  }
  bool operator==(const Received&) const = default;
};

struct Issued {
  static constexpr std::string_view kType = "stock.issued.v1";
  std::string product_id;
  std::string warehouse_id;
  std::string document_id;
  Decimal quantity;
  Decimal unit_cost;  // the average cost it leaves at
  std::optional<std::string> account_id;
  std::optional<std::string> order_id;
  Decimal reservation_consumed;  // of the order's reservation here
  Decimal on_hand;
  Decimal average_cost;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("warehouse_id", s.warehouse_id);
    f("document_id", s.document_id);
    f("quantity", s.quantity);
    f("unit_cost", s.unit_cost);
    f("account_id", s.account_id);
    f("order_id", s.order_id);
    f("reservation_consumed", s.reservation_consumed);
    f("on_hand", s.on_hand);
    f("average_cost", s.average_cost);
  }
  bool operator==(const Issued&) const = default;
};

struct TransferredOut {
  static constexpr std::string_view kType = "stock.transferred_out.v1";
  std::string product_id;
  std::string warehouse_id;
  std::string document_id;
  std::string to_warehouse_id;
  Decimal quantity;
  Decimal unit_cost;
  Decimal on_hand;
  Decimal average_cost;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("warehouse_id", s.warehouse_id);
    f("document_id", s.document_id);
    f("to_warehouse_id", s.to_warehouse_id);
    f("quantity", s.quantity);
    f("unit_cost", s.unit_cost);
    f("on_hand", s.on_hand);
    f("average_cost", s.average_cost);
  }
  bool operator==(const TransferredOut&) const = default;
};

struct TransferredIn {
  static constexpr std::string_view kType = "stock.transferred_in.v1";
  std::string product_id;
  std::string warehouse_id;
  std::string document_id;
  std::string from_warehouse_id;
  Decimal quantity;
  Decimal unit_cost;  // the source's average cost: the value moves with the goods
  Decimal on_hand;
  Decimal average_cost;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("warehouse_id", s.warehouse_id);
    f("document_id", s.document_id);
    f("from_warehouse_id", s.from_warehouse_id);
    f("quantity", s.quantity);
    f("unit_cost", s.unit_cost);
    f("on_hand", s.on_hand);
    f("average_cost", s.average_cost);
  }
  bool operator==(const TransferredIn&) const = default;
};

// A stock count: `quantity` is the signed difference it made (counted − on hand before).
struct Adjusted {
  static constexpr std::string_view kType = "stock.adjusted.v1";
  std::string product_id;
  std::string warehouse_id;
  std::string document_id;
  Decimal quantity;
  std::optional<Decimal> counted;
  std::string reason;
  Decimal unit_cost;
  Decimal on_hand;
  Decimal average_cost;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("warehouse_id", s.warehouse_id);
    f("document_id", s.document_id);
    f("quantity", s.quantity);
    f("counted", s.counted);
    f("reason", s.reason);
    f("unit_cost", s.unit_cost);
    f("on_hand", s.on_hand);
    f("average_cost", s.average_cost);
  }
  bool operator==(const Adjusted&) const = default;
};

struct Reserved {
  static constexpr std::string_view kType = "stock.reserved.v1";
  std::string product_id;
  std::string warehouse_id;
  std::string order_id;
  std::optional<std::string> account_id;
  Decimal quantity;
  Decimal reserved;  // the stock's whole reservation after it
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("warehouse_id", s.warehouse_id);
    f("order_id", s.order_id);
    f("account_id", s.account_id);
    f("quantity", s.quantity);
    f("reserved", s.reserved);
  }
  bool operator==(const Reserved&) const = default;
};

struct Released {
  static constexpr std::string_view kType = "stock.reservation_released.v1";
  std::string product_id;
  std::string warehouse_id;
  std::string order_id;
  std::optional<std::string> account_id;
  Decimal quantity;
  Decimal reserved;
  std::optional<std::string> reason;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("warehouse_id", s.warehouse_id);
    f("order_id", s.order_id);
    f("account_id", s.account_id);
    f("quantity", s.quantity);
    f("reserved", s.reserved);
    f("reason", s.reason);
  }
  bool operator==(const Released&) const = default;
};

using Event =
    std::variant<Received, Issued, TransferredOut, TransferredIn, Adjusted, Reserved, Released>;

struct Reservation {
  std::string order_id;
  Decimal quantity;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("order_id", s.order_id);
    f("quantity", s.quantity);
  }
  bool operator==(const Reservation&) const = default;
};

struct State {
  std::string product_id;
  std::string warehouse_id;
  Decimal on_hand;
  Decimal reserved;
  Decimal average_cost;
  std::vector<Reservation> reservations;  // open reservations by order
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("warehouse_id", s.warehouse_id);
    f("on_hand", s.on_hand);
    f("reserved", s.reserved);
    f("average_cost", s.average_cost);
    f("reservations", s.reservations);
  }
};

// What an issue may take: on hand less what other orders hold (an issue for `order_id` may
// also take that order's own reservation).
Decimal available(const State& s, const std::optional<std::string>& order_id = std::nullopt);
Decimal reserved_for(const State& s, std::string_view order_id);

struct Receive {
  std::string document_id;
  Decimal quantity;
  Decimal unit_cost;
  std::optional<std::string> supplier;
};
struct Issue {
  std::string document_id;
  Decimal quantity;
  std::optional<std::string> account_id;
  std::optional<std::string> order_id;
  bool allow_negative = false;  // the warehouse's setting
};
struct TransferOut {
  std::string document_id;
  std::string to_warehouse_id;
  Decimal quantity;
  bool allow_negative = false;
};
struct TransferIn {
  std::string document_id;
  std::string from_warehouse_id;
  Decimal quantity;
  Decimal unit_cost;
};
// Exactly one of `counted` (what the count found) and `difference` (a signed correction).
struct Adjust {
  std::string document_id;
  std::optional<Decimal> counted;
  std::optional<Decimal> difference;
  std::string reason;
  bool allow_negative = false;
};
struct Reserve {
  std::string order_id;
  std::optional<std::string> account_id;
  Decimal quantity;
  bool allow_negative = false;
};
struct Release {
  std::string order_id;
  std::optional<std::string> account_id;
  std::optional<std::string> reason;
};
using Command = std::variant<Receive, Issue, TransferOut, TransferIn, Adjust, Reserve, Release>;

// A refused issue, transfer, reservation or adjustment for lack of stock is errc::conflict with
// this message; the caller reports available() of the state it decided on.
inline constexpr std::string_view kInsufficient = "insufficient stock";

struct Aggregate {
  using State = stock::State;
  using Event = stock::Event;
  using Command = stock::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  // ctx.id is the stock id (product.warehouse).
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static std::string encode_state(const State& s);
  static bool decode_state(std::string_view bytes, State& s);
  // Deciding again on a fresh balance is always sound: the command says what to move, not what
  // the balance was.
  static bool retryable(const Command&) { return true; }
};

}  // namespace eventcrm::domain::stock
