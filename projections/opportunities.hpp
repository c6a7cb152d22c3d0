// The opportunities read model: GET /v1/opportunities and /v1/opportunities/{id}.
#pragma once

#include <memory>

#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kOpportunities = "opportunities";
const records::Spec& opportunities_spec();
std::unique_ptr<Projection> make_opportunities();

}  // namespace eventcrm::projections
