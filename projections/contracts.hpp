// The contracts read model: GET /v1/contracts and /v1/contracts/{id} (with its documents).
#pragma once

#include <memory>

#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kContracts = "contracts";
const records::Spec& contracts_spec();
std::unique_ptr<Projection> make_contracts();

}  // namespace eventcrm::projections
