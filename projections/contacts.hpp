// The contacts read model: GET /v1/contacts and /v1/contacts/{id}.
#pragma once

#include <memory>

#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kContacts = "contacts";
const records::Spec& contacts_spec();
std::unique_ptr<Projection> make_contacts();

}  // namespace eventcrm::projections
