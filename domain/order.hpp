// Orders: created from an accepted quote (the order's creation event carries its lines and
// totals), and cancellable.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/quote.hpp"

namespace eventcrm::domain::order {

inline constexpr std::string_view kCategory = "order";

struct Created {
  static constexpr std::string_view kType = "order.created.v1";
  std::string order_id;
  std::string account_id;
  std::string quote_id;
  std::optional<std::string> opportunity_id;
  std::string currency;
  std::vector<quote::Line> lines;
  quote::Totals totals;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("order_id", s.order_id);
    f("account_id", s.account_id);
    f("quote_id", s.quote_id);
    f("opportunity_id", s.opportunity_id);
    f("currency", s.currency);
    f("lines", s.lines);
    f("totals", s.totals);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

struct Cancelled {
  static constexpr std::string_view kType = "order.cancelled.v1";
  std::string order_id;
  std::string account_id;
  std::string reason;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("order_id", s.order_id);
    f("account_id", s.account_id);
    f("reason", s.reason);
  }
  bool operator==(const Cancelled&) const = default;
};

using Event = std::variant<Created, Cancelled>;

enum class Status { none, open, cancelled };
struct State {
  Status status = Status::none;
  std::string id;
  std::string account_id;
  std::string quote_id;
  quote::Totals totals;
};

struct Cancel {
  std::string reason;
};
using Command = std::variant<Cancel>;

// The order an accepted quote becomes (`quote` is the quote's state after its acceptance).
Result<Created> from_quote(const quote::State& quote, const Context& ctx);

struct Aggregate {
  using State = order::State;
  using Event = order::Event;
  using Command = order::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command&) { return true; }
};

}  // namespace eventcrm::domain::order
