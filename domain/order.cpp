// Order decisions.
#include "domain/order.hpp"

#include "domain/codec.hpp"

namespace eventcrm::domain::order {

Result<Created> from_quote(const quote::State& q, const Context& ctx) {
  if (q.status != quote::Status::accepted || q.order_id.empty()) {
    return invalid_transition("only an accepted quote becomes an order", {"accept"});
  }
  return Created{q.order_id, q.account_id, q.id,      q.opportunity_id, q.currency,
                 q.lines,    q.totals,     ctx.actor, ctx.now};
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.status = Status::open;
                   s.id = x.order_id;
                   s.account_id = x.account_id;
                   s.quote_id = x.quote_id;
                   s.totals = x.totals;
                 },
                 [&](const Cancelled&) { s.status = Status::cancelled; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd, const Context&) {
  const auto& c = std::get<Cancel>(cmd);
  if (s.status == Status::none)
    return fail(errc::not_found, "no such order");
  if (s.status == Status::cancelled)
    return invalid_transition("the order is cancelled", {});
  Validation v;
  v.require(!c.reason.empty(), "reason", "required");
  if (!v.ok())
    return v.error();
  return std::vector<Event>{Cancelled{s.id, s.account_id, c.reason}};
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

}  // namespace eventcrm::domain::order
