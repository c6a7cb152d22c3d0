// The tasks read model: GET /v1/tasks and /v1/tasks/{id}.
#pragma once

#include <memory>

#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kTasks = "tasks";
const records::Spec& tasks_spec();
std::unique_ptr<Projection> make_tasks();

}  // namespace eventcrm::projections
