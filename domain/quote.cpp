// Quote decisions and totals.
#include "domain/quote.hpp"

#include "domain/codec.hpp"

namespace eventcrm::domain::quote {
namespace {
using Events = std::vector<Event>;

std::vector<std::string> allowed_actions(Status s) {
  switch (s) {
    case Status::draft:
      return {"replace-lines", "send"};
    case Status::sent:
      return {"accept", "reject"};
    default:
      return {};
  }
}
Unexpected<Error> not_allowed(const State& s, const char* what) {
  return invalid_transition(what, allowed_actions(s.status));
}

void check_lines(Validation& v, const std::vector<Line>& lines) {
  v.require(!lines.empty(), "lines", "at least one line");
  const Decimal hundred = Decimal::from_int(100);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string at = "lines[" + std::to_string(i) + "].";
    const Line& l = lines[i];
    const bool product = !l.product_id.empty();
    const bool described = l.description && !l.description->empty();
    v.require(product || described, at + "product_id", "a product_id or a description");
    v.require(l.quantity > Decimal{}, at + "quantity", "must be positive");
    v.require(l.unit_price >= Decimal{}, at + "unit_price", "must not be negative");
    v.require(l.discount_percent >= Decimal{} && l.discount_percent <= hundred,
              at + "discount_percent", "0 to 100");
    v.require(l.tax_percent >= Decimal{} && l.tax_percent <= hundred, at + "tax_percent",
              "0 to 100");
  }
}

Result<Totals> totals_or_error(const std::vector<Line>& lines, const std::string& currency) {
  auto t = compute_totals(lines, currency);
  if (!t) {
    Validation v;
    v.add("lines", "amounts too large");
    return v.error();
  }
  return *t;
}
}  // namespace

std::optional<Totals> compute_totals(const std::vector<Line>& lines, const std::string& currency) {
  Decimal subtotal, discount, tax;
  for (const auto& l : lines) {
    auto gross = l.quantity.times(l.unit_price);
    if (!gross)
      return std::nullopt;
    auto off = gross->percent(l.discount_percent);
    if (!off)
      return std::nullopt;
    auto net = gross->minus(*off);
    if (!net)
      return std::nullopt;
    auto line_tax = net->percent(l.tax_percent);
    auto s = subtotal.plus(*gross);
    auto d = line_tax ? discount.plus(*off) : std::nullopt;
    auto t = line_tax ? tax.plus(*line_tax) : std::nullopt;
    if (!s || !d || !t)
      return std::nullopt;
    subtotal = *s, discount = *d, tax = *t;
  }
  auto net = subtotal.minus(discount);
  auto total = net ? net->plus(tax) : std::nullopt;
  if (!total)
    return std::nullopt;
  return Totals{{subtotal, currency}, {discount, currency}, {tax, currency}, {*total, currency}};
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.status = Status::draft;
                   s.id = x.quote_id;
                   s.account_id = x.account_id;
                   s.opportunity_id = x.opportunity_id;
                   s.currency = x.currency;
                   s.lines = x.lines;
                   s.totals = x.totals;
                   s.valid_until = x.valid_until;
                 },
                 [&](const LinesReplaced& x) {
                   s.lines = x.lines;
                   s.totals = x.totals;
                 },
                 [&](const Sent&) { s.status = Status::sent; },
                 [&](const Accepted& x) {
                   s.status = Status::accepted;
                   s.order_id = x.order_id;
                 },
                 [&](const Rejected&) { s.status = Status::rejected; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Create>(&cmd)) {
    if (s.status != Status::none)
      return fail(errc::already_exists, "quote already exists");
    Validation v;
    v.require(!c->account_id.empty(), "account_id", "required");
    v.require(valid_currency(c->currency), "currency", "an ISO 4217 code");
    check_lines(v, c->lines);
    if (c->valid_until)
      v.require(*c->valid_until >= ctx.now.date(), "valid_until", "in the past");
    if (!v.ok())
      return v.error();
    auto totals = totals_or_error(c->lines, c->currency);
    if (!totals)
      return unexpected(std::move(totals).error());
    return Events{Created{ctx.id, c->account_id, c->opportunity_id, c->contact_id, c->currency,
                          c->lines, *totals, c->valid_until, ctx.actor, ctx.now}};
  }
  if (s.status == Status::none)
    return fail(errc::not_found, "no such quote");
  return std::visit(
      codec::overloaded{
          [&](const ReplaceLines& c) -> Result<Events> {
            if (s.status != Status::draft)
              return not_allowed(s, "only a draft quote changes");
            Validation v;
            check_lines(v, c.lines);
            if (!v.ok())
              return v.error();
            auto totals = totals_or_error(c.lines, s.currency);
            if (!totals)
              return unexpected(std::move(totals).error());
            return Events{LinesReplaced{s.id, s.account_id, c.lines, *totals}};
          },
          [&](const Send&) -> Result<Events> {
            if (s.status != Status::draft)
              return not_allowed(s, "only a draft quote is sent");
            return Events{Sent{s.id, s.account_id, ctx.now}};
          },
          [&](const Accept& c) -> Result<Events> {
            if (s.status != Status::sent)
              return not_allowed(s, "only a sent quote is accepted");
            if (s.valid_until && ctx.now.date() > *s.valid_until) {
              return invalid_transition("the quote expired", {"reject"});
            }
            Validation v;
            v.require(!c.order_id.empty(), "order_id", "required");
            if (!v.ok())
              return v.error();
            return Events{Accepted{s.id, s.account_id, c.order_id, ctx.now}};
          },
          [&](const Reject& c) -> Result<Events> {
            if (s.status != Status::sent)
              return not_allowed(s, "only a sent quote is rejected");
            return Events{Rejected{s.id, s.account_id, c.reason}};
          },
          [&](const Create&) -> Result<Events> { return fail(errc::already_exists, "exists"); },
      },
      cmd);
}

std::string Aggregate::encode(const Event& e) {
  return codec::encode_event(e);
}
Result<Event> Aggregate::decode(std::string_view type, std::string_view json) {
  return codec::decode_event<Event>(type, json);
}
std::string_view Aggregate::type_of(const Event& e) {
  return codec::type_of(e);
}
std::vector<std::string_view> Aggregate::event_types() {
  return codec::event_types<Event>();
}

}  // namespace eventcrm::domain::quote
