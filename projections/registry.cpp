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

}  // namespace eventcrm::projections
