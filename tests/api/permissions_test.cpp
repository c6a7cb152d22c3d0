// The permission table without a server: route-derived permissions (including routes other
// modules add), the public table, wildcard grants, and the PII mask.
#include <gtest/gtest.h>

#include "api/permissions.hpp"
#include "api/router.hpp"
#include "api/security.hpp"

namespace eventcrm::api {
namespace {

TEST(Permissions, DerivedFromTheRoute) {
  EXPECT_EQ(perm::required(Method::get, "/v1/accounts"), "accounts:read");
  EXPECT_EQ(perm::required(Method::head, "/v1/accounts/{id}"), "accounts:read");
  EXPECT_EQ(perm::required(Method::patch, "/v1/accounts/{id}"), "accounts:write");
  EXPECT_EQ(perm::required(Method::post, "/v1/stock/receipts"), "stock:write");
  EXPECT_EQ(perm::required(Method::get, "/v1/stock-movements"), "stock-movements:read");
  EXPECT_EQ(perm::required(Method::get, "/v1/reports/stock-movement"), "reports:stock-movement");
  EXPECT_EQ(perm::required(Method::get, "/v1/reports/campaign-roi"), "reports:campaign-roi");
  EXPECT_EQ(perm::required(Method::get, "/v1/dashboards/sales"), "dashboards:sales");
  EXPECT_EQ(perm::required(Method::post, "/v1/contacts/{id}/forget"), "contacts:forget");
  EXPECT_EQ(perm::required(Method::post, "/v1/leads/{id}/convert"), "leads:convert");
  EXPECT_EQ(perm::required(Method::get, "/v1/customers/{account_id}/history"), "audit:read");
  EXPECT_EQ(perm::required(Method::patch, "/v1/users/{id}"), "users:admin");
  EXPECT_EQ(perm::required(Method::get, "/v1/users"), "users:read");
  EXPECT_EQ(perm::required(Method::post, "/v1/api-keys"), "users:admin");
}

TEST(Permissions, PublicRoutesAreOneTable) {
  EXPECT_FALSE(perm::required(Method::get, "/healthz"));
  EXPECT_FALSE(perm::required(Method::get, "/readyz"));
  EXPECT_FALSE(perm::required(Method::post, "/v1/web-forms/{form_key}/submissions"));
  EXPECT_FALSE(perm::required(Method::get, "/t/{code}"));
  EXPECT_FALSE(perm::required(Method::get, "/openapi.json"));
  EXPECT_EQ(perm::required(Method::get, "/metrics"), "metrics:read");
  perm::Exposure open{true, false};
  EXPECT_FALSE(perm::required(Method::get, "/metrics", open));
  EXPECT_EQ(perm::required(Method::get, "/openapi.json", open), "openapi:read");
  // Every route of the application has an answer: a permission or public.
  Router r = make_router();
  for (const Route& route : r.routes()) {
    auto p = perm::required(route.method, route.pattern);
    if (p) {
      EXPECT_NE(p->find(':'), std::string::npos) << route.pattern;
    }
  }
}

TEST(Permissions, Grants) {
  EXPECT_TRUE(perm::grant_covers("*", "accounts:forget"));
  EXPECT_TRUE(perm::grant_covers("*:read", "accounts:read"));
  EXPECT_FALSE(perm::grant_covers("*:read", "accounts:write"));
  EXPECT_TRUE(perm::grant_covers("accounts:*", "accounts:write"));
  EXPECT_FALSE(perm::grant_covers("accounts:*", "accounts:forget"));
  EXPECT_TRUE(perm::grant_covers("accounts:forget", "accounts:forget"));
  EXPECT_FALSE(perm::grant_covers("accounts:*", "contacts:read"));
  // The auditor writes nothing.
  for (std::string_view g : perm::builtin_grants("auditor"))
    EXPECT_FALSE(perm::grant_covers(g, "accounts:write")) << g;
  EXPECT_TRUE(perm::builtin_grants("nobody").empty());
  EXPECT_EQ(perm::builtin_reach("sales"), perm::Reach::own_team);
  EXPECT_EQ(perm::builtin_reach("manager"), perm::Reach::managed_teams);
  EXPECT_EQ(perm::builtin_reach("auditor"), perm::Reach::all);
}

TEST(Permissions, PersonalFieldsAreMasked) {
  std::string out = mask_pii(
      R"({"name":"Acme","email":"a@b.example","phone":null,"profile":{"tax_id":"0101",)"
      R"("home_address":{"street":"1 Main"}},"emails":["x@y.example"],"email_opt_in":true})");
  EXPECT_EQ(out, R"({"name":"Acme","email":"***","phone":null,"profile":{"tax_id":"***",)"
                 R"("home_address":"***"},"emails":"***","email_opt_in":true})");
}

TEST(Permissions, ApiKeysLookLikeThis) {
  NewKey k = generate_api_key();
  EXPECT_EQ(k.key.substr(0, 4), "eck_");
  EXPECT_EQ(api_key_prefix(k.key), k.prefix);
  EXPECT_EQ(k.sha256, sha256_hex(k.key));
  EXPECT_EQ(k.sha256.size(), 64u);
  EXPECT_NE(generate_api_key().key, k.key);
  EXPECT_EQ(api_key_prefix("eck_short_x"), "");
  EXPECT_EQ(api_key_prefix("eck_ABCDEFGH_0123456789abcdef"), "");
}

}  // namespace
}  // namespace eventcrm::api
