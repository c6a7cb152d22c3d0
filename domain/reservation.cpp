// Reservation decisions.
#include "domain/reservation.hpp"

#include "domain/codec.hpp"

namespace eventcrm::domain::reservation {

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Made& x) {
                   s.status = Status::active;
                   s.order_id = x.order_id;
                   s.account_id = x.account_id;
                   s.warehouse_id = x.warehouse_id;
                   s.lines = x.lines;
                 },
                 [&](const Fulfilled&) { s.status = Status::fulfilled; },
                 [&](const Released& x) {
                   s.status = Status::released;
                   s.order_id = x.order_id;
                 },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  return std::visit(
      codec::overloaded{
          [&](const Make& c) -> Result<std::vector<Event>> {
            switch (s.status) {
              case Status::active:
                return invalid_transition("the order's stock is already reserved",
                                          {"fulfil", "cancel"});
              case Status::fulfilled:
                return invalid_transition("the order was fulfilled", {});
              case Status::released:
                return invalid_transition("the order is cancelled", {});
              case Status::none:
                break;
            }
            Validation v;
            v.require(!c.warehouse_id.empty(), "warehouse_id", "required");
            v.require(!c.lines.empty(), "lines", "the order has no catalogue product to reserve");
            for (const Line& l : c.lines)
              v.require(l.quantity > Decimal{}, "lines", "quantities must be greater than zero");
            if (!v.ok())
              return v.error();
            return std::vector<Event>{Made{ctx.id, c.account_id, c.warehouse_id, c.lines}};
          },
          [&](const Fulfil& c) -> Result<std::vector<Event>> {
            if (s.status != Status::active)
              return invalid_transition("nothing reserved to fulfil", {"reserve"});
            return std::vector<Event>{Fulfilled{s.order_id, s.account_id, c.document_id}};
          },
          [&](const Release& c) -> Result<std::vector<Event>> {
            if (s.status == Status::fulfilled || s.status == Status::released)
              return std::vector<Event>{};
            return std::vector<Event>{Released{ctx.id, c.account_id, c.reason}};
          },
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

}  // namespace eventcrm::domain::reservation
