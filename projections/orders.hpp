// The orders read model: GET /v1/orders and /v1/orders/{id}.
#pragma once

#include <memory>

#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kOrders = "orders";
const records::Spec& orders_spec();
std::unique_ptr<Projection> make_orders();

}  // namespace eventcrm::projections
