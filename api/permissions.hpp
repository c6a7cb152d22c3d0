// The one permission table: which permission each route needs (derived from its path, with
// explicit overrides where a finer permission matters), which routes are public, and what each
// built-in role is granted. The router checks requests against it; `eventcrm permissions`
// prints the role × permission matrix from it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.hpp"

namespace eventcrm::api {
struct Route;
}

namespace eventcrm::api::perm {

// Routes whose exposure is configurable (everything else public is fixed in the table).
struct Exposure {
  bool metrics_public = false;
  bool openapi_public = true;
};

// The permission a route needs, or nullopt for a public route. `pattern` is the route's
// pattern ("/v1/leads/{id}/convert").
std::optional<std::string> required(Method method, std::string_view pattern,
                                    const Exposure& exposure = {});

// Whether a grant ("leads:*", "*:read", "*", "leads:convert") covers a permission.
bool grant_covers(std::string_view grant, std::string_view permission);

// Grants of a built-in role; empty for an unknown name.
const std::vector<std::string_view>& builtin_grants(std::string_view role);

// How far a role's record-level reach goes (sales and care: their own and their team's
// records; manager: the teams they manage; the rest: every record).
enum class Reach { all, managed_teams, own_team };
Reach builtin_reach(std::string_view role);

// Markdown: one row per route (method, path, permission), then the role × permission matrix.
std::string matrix_markdown(const std::vector<Route>& routes, const Exposure& exposure = {});

}  // namespace eventcrm::api::perm
