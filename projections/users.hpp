// The users read model: GET /v1/users and /v1/users/{id} (profile, roles, team, status).
#pragma once

#include <memory>

#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kUsers = "users";
const records::Spec& users_spec();
std::unique_ptr<Projection> make_users();

}  // namespace eventcrm::projections
