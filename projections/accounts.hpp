// The accounts read model: GET /v1/accounts and /v1/accounts/{id}.
#pragma once

#include <memory>

#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kAccounts = "accounts";
const records::Spec& accounts_spec();
std::unique_ptr<Projection> make_accounts();

}  // namespace eventcrm::projections
