// Routes of this area; filled in by its module.
#include "api/router.hpp"

namespace eventcrm::api {

std::vector<Route> lead_routes() { return {}; }

}  // namespace eventcrm::api
