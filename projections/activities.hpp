// The care log read model: GET /v1/activities and /v1/activities/{id}.
#pragma once

#include <memory>

#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kActivities = "activities";
const records::Spec& activities_spec();
std::unique_ptr<Projection> make_activities();

}  // namespace eventcrm::projections
