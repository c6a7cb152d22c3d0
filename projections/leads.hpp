// The leads read model: GET /v1/leads and /v1/leads/{id}.
#pragma once

#include <memory>

#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kLeads = "leads";
const records::Spec& leads_spec();
std::unique_ptr<Projection> make_leads();

}  // namespace eventcrm::projections
