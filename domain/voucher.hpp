// Receipt and payment vouchers (phiếu thu / phiếu chi, R-INV 4): money in from, or out to, a
// customer, supplier, order or contract, with the method and amount. An order's paid and
// outstanding amounts follow from the vouchers naming it (projections/order_payments.cpp); a
// voided voucher no longer counts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/money.hpp"

namespace eventcrm::domain::voucher {

inline constexpr std::string_view kCategory = "voucher";

// receipt: money in (a customer pays); payment: money out (to a supplier, or a refund).
enum class Kind { receipt, payment };
const char* to_string(Kind k) noexcept;
bool from_string(std::string_view s, Kind& out) noexcept;

// cash, bank_transfer, card, e_wallet, cheque, other
bool valid_method(std::string_view method) noexcept;

struct Recorded {
  static constexpr std::string_view kType = "voucher.recorded.v1";
  std::string voucher_id;
  Kind kind = Kind::receipt;
  Money amount;
  std::string method;
  Date date;  // the business date the money moved
  std::optional<std::string> account_id;
  std::optional<std::string> supplier;
  std::optional<std::string> order_id;
  std::optional<std::string> contract_id;
  std::optional<std::string> description;
  std::string recorded_by;
  Timestamp recorded_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("voucher_id", s.voucher_id);
    f("kind", s.kind);
    f("amount", s.amount);
    f("method", s.method);
    f("date", s.date);
    f("account_id", s.account_id);
    f("supplier", s.supplier);
    f("order_id", s.order_id);
    f("contract_id", s.contract_id);
    f("description", s.description);
    f("recorded_by", s.recorded_by);
    f("recorded_at", s.recorded_at);
  }
  bool operator==(const Recorded&) const = default;
};

struct Voided {
  static constexpr std::string_view kType = "voucher.voided.v1";
  std::string voucher_id;
  std::optional<std::string> account_id;
  std::optional<std::string> order_id;
  std::string reason;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("voucher_id", s.voucher_id);
    f("account_id", s.account_id);
    f("order_id", s.order_id);
    f("reason", s.reason);
  }
  bool operator==(const Voided&) const = default;
};

using Event = std::variant<Recorded, Voided>;

enum class Status { none, recorded, voided };
struct State {
  Status status = Status::none;
  std::string id;
  std::optional<std::string> account_id;
  std::optional<std::string> order_id;
};

struct Record {
  Kind kind = Kind::receipt;
  Money amount;
  std::string method;
  std::optional<Date> date;  // default: today (UTC)
  std::optional<std::string> account_id;
  std::optional<std::string> supplier;
  std::optional<std::string> order_id;
  std::optional<std::string> contract_id;
  std::optional<std::string> description;
};
struct Void {
  std::string reason;
};
using Command = std::variant<Record, Void>;

struct Aggregate {
  using State = voucher::State;
  using Event = voucher::Event;
  using Command = voucher::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Record>(c); }
};

}  // namespace eventcrm::domain::voucher
