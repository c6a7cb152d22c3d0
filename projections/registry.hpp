// Every read model the server runs, as a table: adding a read model adds a line in registry.cpp.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace eventcrm::projections {

std::vector<std::unique_ptr<Projection>> all_projections();
// A fresh instance of one read model's projection (nullptr: no such read model).
std::unique_ptr<Projection> make_projection(std::string_view name);

}  // namespace eventcrm::projections
