// Stock decisions: movements checked against the balance, moving-average costing.
#include "domain/stock.hpp"

#include <algorithm>

#include "domain/codec.hpp"

namespace eventcrm::domain::stock {
namespace {

__extension__ typedef __int128 Wide;  // value products of two 4-digit decimals

// The average unit cost after `qty` arrive at `cost`: value-weighted with what is on hand, or
// the arriving cost when nothing (or less than nothing) was on hand. nullopt on overflow.
std::optional<Decimal> moving_average(const State& s, Decimal qty, Decimal cost) {
  if (s.on_hand <= Decimal{})
    return cost;
  const Wide value = static_cast<Wide>(s.on_hand.units()) * s.average_cost.units() +
                     static_cast<Wide>(qty.units()) * cost.units();
  const Wide total = static_cast<Wide>(s.on_hand.units()) + qty.units();
  Wide q = value / total, r = value % total;
  if (2 * (r < 0 ? -r : r) >= total)
    q += value < 0 ? -1 : 1;
  if (q > INT64_MAX || q < INT64_MIN)
    return std::nullopt;
  return Decimal::from_units(static_cast<std::int64_t>(q));
}

Unexpected<Error> too_large() {
  Validation v;
  v.add("quantity", "out of range");
  return v.error();
}

Unexpected<Error> insufficient() {
  return fail(errc::conflict, std::string(kInsufficient));
}

Reservation* find(std::vector<Reservation>& rs, std::string_view order_id) {
  for (auto& r : rs) {
    if (r.order_id == order_id)
      return &r;
  }
  return nullptr;
}

}  // namespace

std::string stock_id(std::string_view product_id, std::string_view warehouse_id) {
  std::string id(product_id);
  id += '.';
  id += warehouse_id;
  return id;
}

std::pair<std::string, std::string> split_id(std::string_view id) {
  const auto dot = id.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == id.size() ||
      id.find('.', dot + 1) != std::string_view::npos)
    return {};
  return {std::string(id.substr(0, dot)), std::string(id.substr(dot + 1))};
}

Decimal reserved_for(const State& s, std::string_view order_id) {
  for (const auto& r : s.reservations) {
    if (r.order_id == order_id)
      return r.quantity;
  }
  return {};
}

Decimal available(const State& s, const std::optional<std::string>& order_id) {
  Decimal held = s.reserved;
  if (order_id)
    held = held.minus(reserved_for(s, *order_id)).value_or(held);
  return s.on_hand.minus(held).value_or(Decimal{});
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(
      [&](const auto& x) {
        s.product_id = x.product_id;
        s.warehouse_id = x.warehouse_id;
      },
      e);
  std::visit(codec::overloaded{
                 [&](const Issued& x) {
                   s.on_hand = x.on_hand;
                   s.average_cost = x.average_cost;
                   if (x.order_id && x.reservation_consumed > Decimal{}) {
                     if (Reservation* r = find(s.reservations, *x.order_id)) {
                       r->quantity = r->quantity.minus(x.reservation_consumed).value_or(Decimal{});
                       if (r->quantity <= Decimal{}) {
                         const std::string done = r->order_id;
                         std::erase_if(s.reservations,
                                       [&](const Reservation& r2) { return r2.order_id == done; });
                       }
                     }
                     s.reserved = s.reserved.minus(x.reservation_consumed).value_or(Decimal{});
                   }
                 },
                 [&](const Reserved& x) {
                   if (Reservation* r = find(s.reservations, x.order_id))
                     r->quantity = r->quantity.plus(x.quantity).value_or(r->quantity);
                   else
                     s.reservations.push_back({x.order_id, x.quantity});
                   s.reserved = x.reserved;
                 },
                 [&](const Released& x) {
                   std::erase_if(s.reservations,
                                 [&](const Reservation& r) { return r.order_id == x.order_id; });
                   s.reserved = x.reserved;
                 },
                 [&](const auto& x) {
                   s.on_hand = x.on_hand;
                   s.average_cost = x.average_cost;
                 },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  // Named variables, not a structured binding: the visitor lambdas below capture them, which
  // clang 14 (the sanitizer build) does not allow for bindings.
  const auto ids = split_id(ctx.id);
  const std::string& product_id = ids.first;
  const std::string& warehouse_id = ids.second;
  if (product_id.empty())
    return fail(errc::not_found, "not a stock id: " + ctx.id);
  auto positive = [](Validation& v, Decimal q) {
    v.require(q > Decimal{}, "quantity", "must be greater than zero");
  };
  return std::visit(
      codec::overloaded{
          [&](const Receive& c) -> Result<std::vector<Event>> {
            Validation v;
            positive(v, c.quantity);
            v.require(c.unit_cost >= Decimal{}, "unit_cost", "must not be negative");
            if (!v.ok())
              return v.error();
            auto on_hand = s.on_hand.plus(c.quantity);
            auto average = moving_average(s, c.quantity, c.unit_cost);
            if (!on_hand || !average)
              return too_large();
            return std::vector<Event>{Received{product_id, warehouse_id, c.document_id, c.quantity,
                                               c.unit_cost, c.supplier, *on_hand, *average}};
          },
          [&](const Issue& c) -> Result<std::vector<Event>> {
            Validation v;
            positive(v, c.quantity);
            if (!v.ok())
              return v.error();
            if (!c.allow_negative && c.quantity > available(s, c.order_id))
              return insufficient();
            auto on_hand = s.on_hand.minus(c.quantity);
            if (!on_hand)
              return too_large();
            Decimal consumed =
                c.order_id ? std::min(reserved_for(s, *c.order_id), c.quantity) : Decimal{};
            return std::vector<Event>{Issued{product_id, warehouse_id, c.document_id, c.quantity,
                                             s.average_cost, c.account_id, c.order_id, consumed,
                                             *on_hand, s.average_cost}};
          },
          [&](const TransferOut& c) -> Result<std::vector<Event>> {
            Validation v;
            positive(v, c.quantity);
            v.require(!c.to_warehouse_id.empty() && c.to_warehouse_id != warehouse_id,
                      "to_warehouse_id", "must be another warehouse");
            if (!v.ok())
              return v.error();
            if (!c.allow_negative && c.quantity > available(s))
              return insufficient();
            auto on_hand = s.on_hand.minus(c.quantity);
            if (!on_hand)
              return too_large();
            return std::vector<Event>{TransferredOut{product_id, warehouse_id, c.document_id,
                                                     c.to_warehouse_id, c.quantity, s.average_cost,
                                                     *on_hand, s.average_cost}};
          },
          [&](const TransferIn& c) -> Result<std::vector<Event>> {
            Validation v;
            positive(v, c.quantity);
            v.require(!c.from_warehouse_id.empty() && c.from_warehouse_id != warehouse_id,
                      "from_warehouse_id", "must be another warehouse");
            v.require(c.unit_cost >= Decimal{}, "unit_cost", "must not be negative");
            if (!v.ok())
              return v.error();
            auto on_hand = s.on_hand.plus(c.quantity);
            auto average = moving_average(s, c.quantity, c.unit_cost);
            if (!on_hand || !average)
              return too_large();
            return std::vector<Event>{TransferredIn{product_id, warehouse_id, c.document_id,
                                                    c.from_warehouse_id, c.quantity, c.unit_cost,
                                                    *on_hand, *average}};
          },
          [&](const Adjust& c) -> Result<std::vector<Event>> {
            Validation v;
            v.require(!c.reason.empty(), "reason", "required");
            v.require(c.counted.has_value() != c.difference.has_value(), "quantity",
                      "give either counted or difference");
            if (c.counted)
              v.require(*c.counted >= Decimal{}, "counted", "must not be negative");
            if (c.difference)
              v.require(*c.difference != Decimal{}, "difference", "must not be zero");
            if (!v.ok())
              return v.error();
            std::optional<Decimal> on_hand = c.counted ? c.counted : s.on_hand.plus(*c.difference);
            if (!on_hand)
              return too_large();
            auto diff = on_hand->minus(s.on_hand);
            if (!diff)
              return too_large();
            if (!c.allow_negative && *on_hand < Decimal{})
              return insufficient();
            return std::vector<Event>{Adjusted{product_id, warehouse_id, c.document_id, *diff,
                                               c.counted, c.reason, s.average_cost, *on_hand,
                                               s.average_cost}};
          },
          [&](const Reserve& c) -> Result<std::vector<Event>> {
            Validation v;
            positive(v, c.quantity);
            v.require(!c.order_id.empty(), "order_id", "required");
            if (!v.ok())
              return v.error();
            if (!c.allow_negative && c.quantity > available(s))
              return insufficient();
            auto reserved = s.reserved.plus(c.quantity);
            if (!reserved)
              return too_large();
            return std::vector<Event>{Reserved{product_id, warehouse_id, c.order_id, c.account_id,
                                               c.quantity, *reserved}};
          },
          [&](const Release& c) -> Result<std::vector<Event>> {
            Decimal held = reserved_for(s, c.order_id);
            if (held <= Decimal{})
              return std::vector<Event>{};
            Decimal reserved = s.reserved.minus(held).value_or(Decimal{});
            return std::vector<Event>{Released{product_id, warehouse_id, c.order_id, c.account_id,
                                               held, reserved, c.reason}};
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
std::string Aggregate::encode_state(const State& s) {
  return codec::encode(s);
}
bool Aggregate::decode_state(std::string_view bytes, State& s) {
  auto r = codec::decode<State>(bytes);
  if (!r)
    return false;
  s = std::move(*r);
  return true;
}

}  // namespace eventcrm::domain::stock
