// Warehouse decisions.
#include "domain/warehouse.hpp"

#include <cctype>

#include "domain/codec.hpp"

namespace eventcrm::domain::warehouse {

std::string normalize_code(std::string_view code) {
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.front())))
    code.remove_prefix(1);
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back())))
    code.remove_suffix(1);
  std::string out(code);
  for (char& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.exists = true;
                   s.id = x.warehouse_id;
                   s.code = x.code;
                   s.name = x.name;
                 },
                 [&](const NegativeStockSet& x) { s.negative_stock_allowed = x.allowed; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Create>(&cmd)) {
    if (s.exists)
      return fail(errc::already_exists, "the warehouse exists");
    Validation v;
    const std::string code = normalize_code(c->code);
    bool code_ok = !code.empty() && code.size() <= 32;
    for (char ch : code)
      code_ok = code_ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_');
    v.require(code_ok, "code", "1 to 32 letters, digits, - or _");
    v.require(!c->name.empty(), "name", "required");
    v.require(c->name.size() <= 200, "name", "too long");
    if (!v.ok())
      return v.error();
    return std::vector<Event>{Created{ctx.id, code, c->name, ctx.actor, ctx.now}};
  }
  const auto& c = std::get<SetNegativeStock>(cmd);
  if (!s.exists)
    return fail(errc::not_found, "no such warehouse");
  if (s.negative_stock_allowed == c.allowed)
    return std::vector<Event>{};
  return std::vector<Event>{NegativeStockSet{s.id, c.allowed}};
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

}  // namespace eventcrm::domain::warehouse
