// Every read model the server runs, as a table: adding a read model adds a line in registry.cpp.
#pragma once

#include <memory>
#include <vector>

#include "projections/projection.hpp"

namespace eventcrm::projections {

std::vector<std::unique_ptr<Projection>> all_projections();

}  // namespace eventcrm::projections
