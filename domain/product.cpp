// Product decisions.
#include "domain/product.hpp"

#include <cctype>

#include "domain/codec.hpp"

namespace eventcrm::domain::product {
namespace {

bool valid_sku(std::string_view s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '_' && c != '.' && c != '/')
      return false;
  }
  return true;
}

void check_text(Validation& v, const std::string& value, const char* field, std::size_t max) {
  v.require(!value.empty(), field, "required");
  v.require(value.size() <= max, field, "too long");
}

// Prices given as money must be in one currency, the product's.
void check_price(Validation& v, const std::optional<Money>& m, const char* field,
                 const std::string& currency) {
  if (!m)
    return;
  v.require(m->amount >= Decimal{}, field, "must not be negative");
  v.require(valid_currency(m->currency), field, "invalid currency");
  v.require(currency.empty() || m->currency == currency, field,
            "must be in the product's currency, " + currency);
}

std::optional<Decimal> amount_of(const std::optional<Money>& m) {
  return m ? std::optional<Decimal>(m->amount) : std::nullopt;
}

}  // namespace

std::string normalize_sku(std::string_view sku) {
  while (!sku.empty() && std::isspace(static_cast<unsigned char>(sku.front())))
    sku.remove_prefix(1);
  while (!sku.empty() && std::isspace(static_cast<unsigned char>(sku.back())))
    sku.remove_suffix(1);
  std::string out(sku);
  for (char& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool fits_precision(Decimal quantity, int decimals) {
  std::int64_t step = 1;
  for (int i = decimals; i < Decimal::kScale; ++i)
    step *= 10;
  return quantity.units() % step == 0;
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.exists = true;
                   s.id = x.product_id;
                   s.sku = x.sku;
                   s.name = x.name;
                   s.unit = x.unit;
                   s.decimals = x.decimals;
                   s.currency = x.currency;
                   s.reorder_level = x.reorder_level;
                   s.active = x.active;
                 },
                 [&](const Updated& x) {
                   if (x.name)
                     s.name = *x.name;
                   if (x.unit)
                     s.unit = *x.unit;
                   if (x.reorder_level)
                     s.reorder_level = *x.reorder_level;
                   if (x.active)
                     s.active = *x.active;
                 },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Create>(&cmd)) {
    if (s.exists)
      return fail(errc::already_exists, "the product exists");
    Validation v;
    const std::string sku = normalize_sku(c->sku);
    v.require(valid_sku(sku), "sku", "1 to 64 letters, digits or - _ . /");
    check_text(v, c->name, "name", 200);
    check_text(v, c->unit, "unit", 20);
    const int decimals = c->decimals.value_or(4);
    v.require(decimals >= 0 && decimals <= Decimal::kScale, "decimals", "must be 0 to 4");
    std::string currency = c->sale_price ? c->sale_price->currency
                           : c->cost     ? c->cost->currency
                                         : std::string("VND");
    check_price(v, c->sale_price, "sale_price", currency);
    check_price(v, c->cost, "cost", currency);
    const Decimal reorder = c->reorder_level.value_or(Decimal{});
    v.require(reorder >= Decimal{}, "reorder_level", "must not be negative");
    if (decimals >= 0 && decimals <= Decimal::kScale)
      v.require(fits_precision(reorder, decimals), "reorder_level",
                "more fractional digits than the product's " + std::to_string(decimals));
    if (!v.ok())
      return v.error();
    return std::vector<Event>{Created{ctx.id, sku, c->name, c->unit, decimals, currency,
                                      amount_of(c->sale_price), amount_of(c->cost), reorder,
                                      c->active.value_or(true), ctx.actor, ctx.now}};
  }
  const auto& c = std::get<Update>(cmd);
  if (!s.exists)
    return fail(errc::not_found, "no such product");
  Validation v;
  if (c.name)
    check_text(v, *c.name, "name", 200);
  if (c.unit)
    check_text(v, *c.unit, "unit", 20);
  check_price(v, c.sale_price, "sale_price", s.currency);
  check_price(v, c.cost, "cost", s.currency);
  if (c.reorder_level) {
    v.require(*c.reorder_level >= Decimal{}, "reorder_level", "must not be negative");
    v.require(fits_precision(*c.reorder_level, s.decimals), "reorder_level",
              "more fractional digits than the product's " + std::to_string(s.decimals));
  }
  if (!v.ok())
    return v.error();
  Updated u{s.id,    c.name, c.unit, amount_of(c.sale_price), amount_of(c.cost), c.reorder_level,
            c.active};
  if (u == Updated{s.id, {}, {}, {}, {}, {}, {}})
    return std::vector<Event>{};
  return std::vector<Event>{std::move(u)};
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

}  // namespace eventcrm::domain::product
