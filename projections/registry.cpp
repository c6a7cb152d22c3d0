// The table of read models.
#include "projections/registry.hpp"

#include "projections/accounts.hpp"
#include "projections/customer_history.hpp"

namespace eventcrm::projections {

std::vector<std::unique_ptr<Projection>> all_projections() {
  std::vector<std::unique_ptr<Projection>> all;
  all.push_back(make_customer_history());
  all.push_back(make_accounts());
  return all;
}

std::unique_ptr<Projection> make_projection(std::string_view name) {
  for (auto& p : all_projections()) {
    if (p->name() == name)
      return std::move(p);
  }
  return nullptr;
}

}  // namespace eventcrm::projections
