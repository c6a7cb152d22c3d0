// Quotes: priced lines for a customer, sent and then accepted (which creates an order) or
// rejected. Totals are computed with Decimal, never floating point.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/money.hpp"

namespace eventcrm::domain::quote {

inline constexpr std::string_view kCategory = "quote";

// A priced line: a catalogue product, or a free-text item (at least one of the two). An empty
// product_id is a free-text line (kept a string so the published event schemas stay as they are).
struct Line {
  std::string product_id;
  std::optional<std::string> description;
  Decimal quantity;
  Decimal unit_price;
  Decimal discount_percent;
  Decimal tax_percent;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("description", s.description);
    f("quantity", s.quantity);
    f("unit_price", s.unit_price);
    f("discount_percent", s.discount_percent);
    f("tax_percent", s.tax_percent);
  }
  bool operator==(const Line&) const = default;
};

// Per line: gross = quantity × unit_price; discount = gross × discount %; tax = (gross −
// discount) × tax %; the totals add the lines up.
struct Totals {
  Money subtotal;  // Σ gross
  Money discount;
  Money tax;
  Money total;  // subtotal − discount + tax
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("subtotal", s.subtotal);
    f("discount", s.discount);
    f("tax", s.tax);
    f("total", s.total);
  }
  bool operator==(const Totals&) const = default;
};

// nullopt on overflow.
std::optional<Totals> compute_totals(const std::vector<Line>& lines, const std::string& currency);

struct Created {
  static constexpr std::string_view kType = "quote.created.v1";
  std::string quote_id;
  std::string account_id;
  std::optional<std::string> opportunity_id;
  std::optional<std::string> contact_id;
  std::string currency;
  std::vector<Line> lines;
  Totals totals;
  std::optional<Date> valid_until;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("quote_id", s.quote_id);
    f("account_id", s.account_id);
    f("opportunity_id", s.opportunity_id);
    f("contact_id", s.contact_id);
    f("currency", s.currency);
    f("lines", s.lines);
    f("totals", s.totals);
    f("valid_until", s.valid_until);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

struct LinesReplaced {
  static constexpr std::string_view kType = "quote.lines_replaced.v1";
  std::string quote_id;
  std::string account_id;
  std::vector<Line> lines;
  Totals totals;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("quote_id", s.quote_id);
    f("account_id", s.account_id);
    f("lines", s.lines);
    f("totals", s.totals);
  }
  bool operator==(const LinesReplaced&) const = default;
};

struct Sent {
  static constexpr std::string_view kType = "quote.sent.v1";
  std::string quote_id;
  std::string account_id;
  Timestamp sent_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("quote_id", s.quote_id);
    f("account_id", s.account_id);
    f("sent_at", s.sent_at);
  }
  bool operator==(const Sent&) const = default;
};

struct Accepted {
  static constexpr std::string_view kType = "quote.accepted.v1";
  std::string quote_id;
  std::string account_id;
  std::string order_id;  // the order created from it
  Timestamp accepted_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("quote_id", s.quote_id);
    f("account_id", s.account_id);
    f("order_id", s.order_id);
    f("accepted_at", s.accepted_at);
  }
  bool operator==(const Accepted&) const = default;
};

struct Rejected {
  static constexpr std::string_view kType = "quote.rejected.v1";
  std::string quote_id;
  std::string account_id;
  std::optional<std::string> reason;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("quote_id", s.quote_id);
    f("account_id", s.account_id);
    f("reason", s.reason);
  }
  bool operator==(const Rejected&) const = default;
};

using Event = std::variant<Created, LinesReplaced, Sent, Accepted, Rejected>;

enum class Status { none, draft, sent, accepted, rejected };

struct State {
  Status status = Status::none;
  std::string id;
  std::string account_id;
  std::optional<std::string> opportunity_id;
  std::string currency;
  std::vector<Line> lines;
  Totals totals;
  std::optional<Date> valid_until;
  std::string order_id;
};

struct Create {
  std::string account_id;
  std::optional<std::string> opportunity_id;
  std::optional<std::string> contact_id;
  std::string currency;
  std::vector<Line> lines;
  std::optional<Date> valid_until;
};
struct ReplaceLines {
  std::vector<Line> lines;
};
struct Send {};
// Accepting needs the id of the order to create; the app appends the quote's and the order's
// events together (see order::from_quote).
struct Accept {
  std::string order_id;
};
struct Reject {
  std::optional<std::string> reason;
};
using Command = std::variant<Create, ReplaceLines, Send, Accept, Reject>;

struct Aggregate {
  using State = quote::State;
  using Event = quote::Event;
  using Command = quote::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
};

}  // namespace eventcrm::domain::quote
