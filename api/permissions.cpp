// The permission table; see permissions.hpp.
#include "api/permissions.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "api/router.hpp"
#include "domain/role.hpp"

namespace eventcrm::api::perm {
namespace {

// Routes anyone may call: they have their own keys and rate limits, or say nothing secret.
constexpr std::pair<Method, std::string_view> kPublic[] = {
    {Method::get, "/healthz"},
    {Method::get, "/readyz"},
    {Method::post, "/v1/web-forms/{form_key}/submissions"},
    {Method::get, "/t/{code}"},
};

struct Override {
  Method method;
  std::string_view pattern;
  std::string_view permission;
};
// Where the path-derived permission is too coarse.
constexpr Override kOverrides[] = {
    {Method::post, "/v1/leads/{id}/convert", "leads:convert"},
    {Method::post, "/v1/leads/import", "leads:import"},
    {Method::get, "/v1/customers/{account_id}/history", "audit:read"},
    {Method::get, "/v1/audit/verify", "audit:read"},
    {Method::get, "/v1/projections", "ops:read"},
    {Method::get, "/v1/events", "events:read"},
    {Method::get, "/v1/events/live", "events:read"},
    {Method::get, "/v1/events/{id}", "events:read"},
    {Method::get, "/v1/streams/{stream}", "events:read"},
    {Method::post, "/v1/streams/{stream}", "events:write"},
    {Method::get, "/v1/accounts/{id}/360", "accounts:read"},
};

std::string_view first_segment(std::string_view path) {
  if (path.starts_with("/v1/"))
    path.remove_prefix(4);
  else if (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  return path.substr(0, path.find('/'));
}

std::string_view second_segment(std::string_view path) {
  if (!path.starts_with("/v1/"))
    return {};
  path.remove_prefix(4);
  auto slash = path.find('/');
  if (slash == std::string_view::npos)
    return {};
  path.remove_prefix(slash + 1);
  return path.substr(0, path.find('/'));
}

struct Role {
  std::string_view name;
  Reach reach;
  std::vector<std::string_view> grants;
};

// The built-in roles. "*:read" reads everything, "x:*" does everything with x.
const std::vector<Role>& roles() {
  static const std::vector<Role> table = {
      {"admin", Reach::all, {"*"}},
      {"manager",
       Reach::managed_teams,
       {"*:read", "reports:*", "dashboards:*", "accounts:*", "contacts:*", "leads:*",
        "opportunities:*", "activities:*", "appointments:*", "tasks:*", "quotes:*", "orders:*",
        "contracts:*", "campaigns:*", "segments:*"}},
      {"sales",
       Reach::own_team,
       {"accounts:*",
        "contacts:*",
        "leads:read",
        "leads:write",
        "leads:convert",
        "leads:import",
        "opportunities:*",
        "activities:*",
        "appointments:*",
        "tasks:*",
        "quotes:*",
        "orders:*",
        "contracts:*",
        "products:read",
        "inventory:read",
        "reports:pipeline",
        "reports:order-payments",
        "dashboards:sales",
        "pii:read",
        "users:read"}},
      {"care",
       Reach::own_team,
       {"accounts:read", "contacts:*", "leads:read", "opportunities:read", "activities:*",
        "appointments:*", "tasks:*", "orders:read", "contracts:read", "cases:*", "pii:read",
        "users:read"}},
      {"marketing",
       Reach::all,
       {"campaigns:*", "segments:*", "reports:campaign-roi", "reports:funnel", "leads:read",
        "leads:write", "leads:import", "accounts:read", "contacts:read", "activities:read",
        "opportunities:read", "products:read", "pii:read"}},
      {"warehouse",
       Reach::all,
       {"products:*", "warehouses:*", "stock:*", "stock-movements:*", "inventory:*", "vouchers:*",
        "reports:stock-movement", "reports:cash", "reports:order-payments", "orders:read",
        "accounts:read"}},
      {"hr",
       Reach::all,
       {"users:read", "employees:*", "departments:*", "timesheets:*", "tasks:*", "pii:read"}},
      {"support",
       Reach::all,
       {"cases:*", "bugs:*", "kb:*", "service-contracts:*", "accounts:read", "contacts:read",
        "activities:*", "tasks:*", "products:read", "contracts:read", "pii:read"}},
      // Reads everything, history and verification included; writes nothing.
      {"auditor", Reach::all, {"*:read", "reports:*", "dashboards:*"}},
      {"integration",
       Reach::all,
       {"leads:read", "leads:write", "leads:import", "activities:write", "activities:read",
        "contacts:read", "contacts:write", "accounts:read", "accounts:write", "campaigns:write"}},
  };
  return table;
}

}  // namespace

std::optional<std::string> required(Method method, std::string_view pattern,
                                    const Exposure& exposure) {
  Method m = method == Method::head ? Method::get : method;
  for (const auto& [pm, pp] : kPublic) {
    if (pm == m && pp == pattern)
      return std::nullopt;
  }
  if (pattern == "/metrics")
    return exposure.metrics_public ? std::nullopt : std::optional<std::string>("metrics:read");
  if (pattern == "/openapi.json")
    return exposure.openapi_public ? std::nullopt : std::optional<std::string>("openapi:read");
  for (const auto& o : kOverrides) {
    if (o.method == m && o.pattern == pattern)
      return std::string(o.permission);
  }
  std::string_view resource = first_segment(pattern);
  bool read = m == Method::get;
  // Reports and dashboards: one permission per report, so each role gets the ones it needs.
  if ((resource == "reports" || resource == "dashboards") && !second_segment(pattern).empty())
    return std::string(resource) + ":" + std::string(second_segment(pattern));
  // Users, roles and api keys: reading users is ordinary; changing any of them is admin work.
  if (resource == "users" || resource == "roles" || resource == "api-keys")
    return read && resource == "users" ? std::string("users:read") : std::string("users:admin");
  // Erasure (GDPR) is its own, administrator-only permission.
  if (pattern.ends_with("/forget"))
    return std::string(resource) + ":forget";
  if (resource == "settings")
    return std::string(read ? "settings:read" : "settings:write");
  if (pattern == "/v1/me")
    return std::string("me:read");
  return std::string(resource) + (read ? ":read" : ":write");
}

bool grant_covers(std::string_view grant, std::string_view permission) {
  if (grant == "*" || grant == permission)
    return true;
  auto gc = grant.find(':');
  auto pc = permission.find(':');
  if (gc == std::string_view::npos || pc == std::string_view::npos)
    return false;
  std::string_view gr = grant.substr(0, gc), ga = grant.substr(gc + 1);
  std::string_view pr = permission.substr(0, pc), pa = permission.substr(pc + 1);
  // Erasure is never implied by "x:*": only "*" (admin) or the explicit "x:forget" grant it.
  if (pa == "forget")
    return gr == pr && ga == pa;
  // "*:read" covers reads only; "*:*" would be "*".
  return (gr == "*" || gr == pr) && (ga == "*" || ga == pa);
}

const std::vector<std::string_view>& builtin_grants(std::string_view role) {
  static const std::vector<std::string_view> none;
  for (const auto& r : roles()) {
    if (r.name == role)
      return r.grants;
  }
  return none;
}

Reach builtin_reach(std::string_view role) {
  for (const auto& r : roles()) {
    if (r.name == role)
      return r.reach;
  }
  return Reach::all;
}

std::string matrix_markdown(const std::vector<Route>& routes, const Exposure& exposure) {
  std::set<std::string> perms;
  std::string out = "| route | permission |\n|---|---|\n";
  for (const Route& r : routes) {
    auto p = required(r.method, r.pattern, exposure);
    out += "| `" + std::string(to_string(r.method)) + " " + std::string(r.pattern) + "` | " +
           (p ? "`" + *p + "`" : std::string("public")) + " |\n";
    if (p)
      perms.insert(*p);
  }
  perms.insert("pii:read");
  perms.insert("me:read");
  out += "\n| permission |";
  for (std::string_view role : domain::role::kBuiltinRoles)
    out += " " + std::string(role) + " |";
  out += "\n|---|";
  for (std::size_t i = 0; i < std::size(domain::role::kBuiltinRoles); ++i)
    out += "---|";
  out += "\n";
  for (const std::string& p : perms) {
    out += "| `" + p + "` |";
    for (std::string_view role : domain::role::kBuiltinRoles) {
      bool ok = p == "me:read";
      for (std::string_view g : builtin_grants(role))
        ok = ok || grant_covers(g, p);
      out += ok ? " ✓ |" : " |";
    }
    out += "\n";
  }
  return out;
}

}  // namespace eventcrm::api::perm
