// The quotes read model: GET /v1/quotes and /v1/quotes/{id}. Orders serve their lines the same
// way (PricedLine).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/money.hpp"
#include "domain/quote.hpp"
#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kQuotes = "quotes";
const records::Spec& quotes_spec();
std::unique_ptr<Projection> make_quotes();

// A quote's or an order's line as served: what was asked for and the amounts computed from it
// by the domain's rules (domain::quote::compute_totals).
struct PricedLine {
  std::optional<std::string> product_id;
  std::optional<std::string> description;
  domain::Decimal quantity;
  domain::Money unit_price;
  domain::Decimal discount_percent;
  domain::Decimal tax_percent;
  domain::Money subtotal;  // quantity × unit price
  domain::Money discount;
  domain::Money tax;
  domain::Money total;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("product_id", s.product_id);
    f("description", s.description);
    f("quantity", s.quantity);
    f("unit_price", s.unit_price);
    f("discount_percent", s.discount_percent);
    f("tax_percent", s.tax_percent);
    f("subtotal", s.subtotal);
    f("discount", s.discount);
    f("tax", s.tax);
    f("total", s.total);
  }
};

std::vector<PricedLine> priced_lines(const std::vector<domain::quote::Line>& lines,
                                     const std::string& currency);
// Product ids and descriptions of the lines, bounded, for the text search (`q`).
std::string lines_text(const std::vector<PricedLine>& lines);

}  // namespace eventcrm::projections
