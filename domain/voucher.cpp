// Voucher decisions.
#include "domain/voucher.hpp"

#include <array>

#include "domain/codec.hpp"

namespace eventcrm::domain::voucher {

const char* to_string(Kind k) noexcept {
  return k == Kind::receipt ? "receipt" : "payment";
}
bool from_string(std::string_view s, Kind& out) noexcept {
  if (s == "receipt")
    out = Kind::receipt;
  else if (s == "payment")
    out = Kind::payment;
  else
    return false;
  return true;
}

bool valid_method(std::string_view method) noexcept {
  static constexpr std::array<std::string_view, 6> kMethods{"cash",     "bank_transfer", "card",
                                                            "e_wallet", "cheque",        "other"};
  for (auto m : kMethods) {
    if (m == method)
      return true;
  }
  return false;
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Recorded& x) {
                   s.status = Status::recorded;
                   s.id = x.voucher_id;
                   s.account_id = x.account_id;
                   s.order_id = x.order_id;
                 },
                 [&](const Voided&) { s.status = Status::voided; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Record>(&cmd)) {
    if (s.status != Status::none)
      return fail(errc::already_exists, "the voucher exists");
    Validation v;
    v.require(c->amount.amount > Decimal{}, "amount", "must be greater than zero");
    v.require(valid_currency(c->amount.currency), "amount", "invalid currency");
    v.require(valid_method(c->method), "method",
              "one of cash, bank_transfer, card, e_wallet, cheque, other");
    v.require(c->account_id || c->supplier || c->order_id || c->contract_id, "account_id",
              "a voucher names a customer, supplier, order or contract");
    if (c->supplier)
      v.require(!c->supplier->empty() && c->supplier->size() <= 200, "supplier", "1 to 200 bytes");
    if (c->description)
      v.require(c->description->size() <= 1000, "description", "too long");
    if (!v.ok())
      return v.error();
    return std::vector<Event>{Recorded{
        ctx.id, c->kind, c->amount, c->method, c->date.value_or(ctx.now.date()), c->account_id,
        c->supplier, c->order_id, c->contract_id, c->description, ctx.actor, ctx.now}};
  }
  const auto& c = std::get<Void>(cmd);
  if (s.status == Status::none)
    return fail(errc::not_found, "no such voucher");
  if (s.status == Status::voided)
    return invalid_transition("the voucher is void", {});
  Validation v;
  v.require(!c.reason.empty(), "reason", "required");
  if (!v.ok())
    return v.error();
  return std::vector<Event>{Voided{s.id, s.account_id, s.order_id, c.reason}};
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

}  // namespace eventcrm::domain::voucher
