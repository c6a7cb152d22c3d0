// The product and warehouse collections: GET /v1/products, /v1/warehouses and their records.
#pragma once

#include <memory>

#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kProducts = "products";
inline constexpr std::string_view kWarehouses = "warehouses";
const records::Spec& products_spec();
const records::Spec& warehouses_spec();
std::unique_ptr<Projection> make_products();
std::unique_ptr<Projection> make_warehouses();

}  // namespace eventcrm::projections
