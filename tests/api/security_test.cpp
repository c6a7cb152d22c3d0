// Security through the real server, one test per OWASP API Security Top 10 (2023) item that
// applies: API1 BOLA (other teams' ids answer 404, lists leave them out), API2 broken
// authentication (missing, invalid, expired, revoked keys; forged, expired, alg-none and
// HS/RS-confused JWTs), API3 property-level authorization (PII masked without pii:read, mass
// assignment and role escalation refused), API4 resource consumption (page caps, 429 with
// Retry-After), API5 function-level authorization (every route × every built-in role against
// the permission table), API8 misconfiguration (security headers, CORS only for configured
// origins), and TLS on the listener with a certificate the test makes.
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <fstream>
#include <set>

#include "api/permissions.hpp"
#include "api/router.hpp"
#include "crm_client.hpp"
#include "domain/role.hpp"

namespace eventcrm::test {
namespace {

std::string b64url(std::string_view in) {
  static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += t[(acc >> bits) & 63];
    }
  }
  if (bits > 0)
    out += t[(acc << (6 - bits)) & 63];
  return out;
}

std::string hmac256(std::string_view key, std::string_view data) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::string sign_rs256(EVP_PKEY* key, std::string_view data) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::size_t len = 0;
  EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                 data.size());
  std::string sig(len, '\0');
  EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(data.data()), data.size());
  sig.resize(len);
  EVP_MD_CTX_free(md);
  return sig;
}

// ES256 as JOSE wants it: r ‖ s, 32 bytes each.
std::string sign_es256(EVP_PKEY* key, std::string_view data) {
  std::string der = sign_rs256(key, data);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  const BIGNUM *r, *s;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string out(64, '\0');
  BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return out;
}

std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return pem;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '"')
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::string kHsSecret = "a-test-secret-of-more-than-thirty-two-bytes!!";

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = EVP_RSA_gen(2048);
    ec_ = EVP_EC_gen("P-256");
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    EVP_PKEY_free(ec_);
  }
  void SetUp() override { dir_ = temp_dir("security"); }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }

  void start(std::vector<std::string> extra = {}) {
    std::filesystem::path keys = dir_ / "jwt-keys.json";
    std::ofstream(keys) << R"({"issuer":"https://idp.example","audience":"eventcrm",)"
                        << R"("user_claim":"sub","leeway_seconds":30,"keys":[)"
                        << R"({"kid":"hs","alg":"HS256","secret":")" << b64url(kHsSecret)
                        << R"("},{"kid":"rs","alg":"RS256","public_key_pem":")"
                        << json_escape(public_pem(rsa_))
                        << R"("},{"kid":"es","alg":"ES256","public_key_pem":")"
                        << json_escape(public_pem(ec_)) << R"("}]})";
    extra.push_back("--jwt-keys-file");
    extra.push_back(keys.string());
    extra.push_back("--cors-origin");
    extra.push_back("https://app.example");
    ASSERT_TRUE(server_.start(dir_ / "data", extra));
  }

  // A user with the given roles and team, and an API key for them.
  std::string user(const std::string& name, const std::string& roles, std::string team = "",
                   std::string manager = "") {
    CrmClient admin(server_.port());
    std::string body = R"({"name":")" + name + R"(","email":")" + name +
                       R"(@crm.example","roles":[)" + roles + "]" +
                       (team.empty() ? "" : R"(,"team_id":")" + team + "\"") +
                       (manager.empty() ? "" : R"(,"manager_id":")" + manager + "\"") + "}";
    Reply r = admin.post("/v1/users", body);
    EXPECT_EQ(r.status, 201) << r.body;
    ids_[name] = r.str("id");
    r = admin.post("/v1/api-keys", R"({"user_id":")" + r.str("id") + "\"}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.str("key");
  }

  static std::pair<std::string, std::string> bearer(const std::string& token) {
    return {"Authorization", "Bearer " + token};
  }

  std::string jwt(const std::string& kid, const std::string& alg, const std::string& claims) {
    std::string head = b64url(R"({"alg":")" + alg + R"(","typ":"JWT","kid":")" + kid + "\"}");
    std::string signing = head + "." + b64url(claims);
    std::string sig;
    if (alg == "HS256")
      sig = hmac256(kHsSecret, signing);
    else if (alg == "RS256")
      sig = sign_rs256(rsa_, signing);
    else if (alg == "ES256")
      sig = sign_es256(ec_, signing);
    return signing + "." + b64url(sig);
  }
  std::string claims(const std::string& sub, std::int64_t exp_in = 300,
                     const std::string& aud = "eventcrm",
                     const std::string& iss = "https://idp.example") {
    return R"({"sub":")" + sub + R"(","iss":")" + iss + R"(","aud":")" + aud + R"(","exp":)" +
           std::to_string(now_s() + exp_in) + "}";
  }

  static EVP_PKEY* rsa_;
  static EVP_PKEY* ec_;
  std::filesystem::path dir_;
  ServerProcess server_;
  std::map<std::string, std::string> ids_;
};

EVP_PKEY* SecurityTest::rsa_ = nullptr;
EVP_PKEY* SecurityTest::ec_ = nullptr;

// API2: no credentials, bad ones, revoked and expired keys; public routes stay public.
TEST_F(SecurityTest, Api2BrokenAuthenticationApiKeys) {
  start();
  CrmClient c(server_.port());
  Reply r = c.get("/v1/accounts", {{"Authorization", ""}});
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_NE(r.header("www-authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(c.get("/v1/accounts", {{"Authorization", "Basic YWRtaW46YWRtaW4="}}).status, 401);
  EXPECT_EQ(c.get("/v1/accounts", {bearer("eck_testadm1_wrong-secret-wrong-secret")}).status, 401);
  EXPECT_EQ(c.get("/v1/accounts", {bearer("eck_nosuchk1_tests-only-admin-key-0123456789")}).status,
            401);
  EXPECT_EQ(c.get("/healthz", {{"Authorization", ""}}).status, 200);
  EXPECT_EQ(c.get("/openapi.json", {{"Authorization", ""}}).status, 200);
  EXPECT_EQ(c.get("/metrics", {{"Authorization", ""}}).status, 401);
  r = c.post("/v1/web-forms/homepage/submissions",
             R"({"company":"Flow","last_name":"Tran","email":"lan@flow.example"})",
             {{"Authorization", ""}});
  EXPECT_NE(r.status, 401) << r.body;
  EXPECT_NE(r.status, 403) << r.body;

  // A new key works as soon as it is answered; a revoked one stops at once.
  std::string key = user("ann", R"("sales")", "north");
  EXPECT_EQ(key.rfind("eck_", 0), 0u);
  EXPECT_EQ(c.get("/v1/me", {bearer(key)}).status, 200);
  r = c.get("/v1/me", {bearer(key)});
  EXPECT_EQ(r.str("user_id"), ids_["ann"]);
  std::string key_id;
  {
    Reply issued = c.post("/v1/api-keys", R"({"user_id":")" + ids_["ann"] + "\"}");
    ASSERT_EQ(issued.status, 201) << issued.body;
    key_id = issued.str("id");
    std::string second = issued.str("key");
    EXPECT_EQ(c.get("/v1/me", {bearer(second)}).status, 200);
    EXPECT_EQ(c.send("DELETE", "/v1/api-keys/" + key_id).status, 200);
    EXPECT_EQ(c.get("/v1/me", {bearer(second)}).status, 401);
  }
  // Listed by prefix, owner and state; never the secret or its digest.
  r = c.get("/v1/api-keys?user_id=" + ids_["ann"]);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.items().items.size(), 2u) << r.body;
  EXPECT_NE(r.body.find("\"id\":\"" + key_id + "\""), std::string::npos);
  EXPECT_NE(r.body.find("\"revoked\":true"), std::string::npos);
  EXPECT_EQ(r.body.find("eck_"), std::string::npos);
  EXPECT_EQ(r.body.find("sha256"), std::string::npos);
  // The key is not in the log: only its digest.
  r = c.get("/v1/streams/apikey-" + key_id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("eck_"), std::string::npos);
  // Expiry in the past is refused; a key about to expire stops working when it does.
  r = c.post("/v1/api-keys",
             R"({"user_id":")" + ids_["ann"] + R"(","expires_at":"2020-01-01T00:00:00Z"})");
  EXPECT_EQ(r.status, 422) << r.body;
  auto soon = std::chrono::system_clock::now() + std::chrono::seconds(2);
  std::time_t t = std::chrono::system_clock::to_time_t(soon);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  r = c.post("/v1/api-keys", R"({"user_id":")" + ids_["ann"] + R"(","expires_at":")" + buf + "\"}");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string expiring = r.str("key");
  EXPECT_EQ(c.get("/v1/me", {bearer(expiring)}).status, 200);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(c.get("/v1/me", {bearer(expiring)}).status, 401);
  // Deactivated users' keys stop working.
  EXPECT_EQ(c.post("/v1/users/" + ids_["ann"] + "/deactivate", "{}").status, 200);
  EXPECT_EQ(c.get("/v1/me", {bearer(key)}).status, 401);

  r = c.get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("eventcrm_auth_failures_total{reason=\"missing\"}"), std::string::npos);
  EXPECT_NE(r.body.find("eventcrm_auth_failures_total{reason=\"revoked\"} 1"), std::string::npos);
}

// API2: JWTs — valid HS256/RS256/ES256; expired, wrong audience or issuer, forged, alg none,
// and HS256 "signed" with the RS256 public key (algorithm confusion) are refused.
TEST_F(SecurityTest, Api2BrokenAuthenticationJwt) {
  start();
  CrmClient c(server_.port());
  user("bob", R"("care")", "south");
  std::string sub = ids_["bob"];
  EXPECT_EQ(c.get("/v1/me", {bearer(jwt("hs", "HS256", claims(sub)))}).status, 200);
  EXPECT_EQ(c.get("/v1/me", {bearer(jwt("rs", "RS256", claims(sub)))}).status, 200);
  EXPECT_EQ(c.get("/v1/me", {bearer(jwt("es", "ES256", claims(sub)))}).status, 200);
  // Expired beyond the leeway.
  EXPECT_EQ(c.get("/v1/me", {bearer(jwt("hs", "HS256", claims(sub, -120)))}).status, 401);
  EXPECT_EQ(c.get("/v1/me", {bearer(jwt("hs", "HS256", claims(sub, 300, "other")))}).status, 401);
  EXPECT_EQ(
      c.get("/v1/me", {bearer(jwt("hs", "HS256", claims(sub, 300, "eventcrm", "evil")))}).status,
      401);
  EXPECT_EQ(c.get("/v1/me", {bearer(jwt("hs", "HS256", claims("nobody")))}).status, 401);
  // Forged: claims changed after signing.
  std::string good = jwt("hs", "HS256", claims(sub));
  std::string forged =
      good.substr(0, good.find('.') + 1) + b64url(claims("admin")) + good.substr(good.rfind('.'));
  EXPECT_EQ(c.get("/v1/me", {bearer(forged)}).status, 401);
  // alg none, with and without a kid.
  std::string none = b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(claims("admin")) + ".";
  EXPECT_EQ(c.get("/v1/me", {bearer(none)}).status, 401);
  none = b64url(R"({"alg":"none","kid":"hs"})") + "." + b64url(claims("admin")) + ".";
  EXPECT_EQ(c.get("/v1/me", {bearer(none)}).status, 401);
  // HS/RS confusion: HMAC keyed with the RSA public key, header naming HS256 and the RSA kid.
  std::string head = b64url(R"({"alg":"HS256","kid":"rs"})");
  std::string signing = head + "." + b64url(claims("admin"));
  std::string confused = signing + "." + b64url(hmac256(public_pem(rsa_), signing));
  EXPECT_EQ(c.get("/v1/me", {bearer(confused)}).status, 401);
  // An RS256 token presented under the ES key id.
  std::string rs = jwt("rs", "RS256", claims(sub));
  std::string swapped = b64url(R"({"alg":"RS256","kid":"es"})") + rs.substr(rs.find('.'));
  EXPECT_EQ(c.get("/v1/me", {bearer(swapped)}).status, 401);
}

// API5: every route × every built-in role answers 403 exactly when the table says so.
TEST_F(SecurityTest, Api5RoleMatrixAgainstThePermissionTable) {
  start();
  std::map<std::string, std::string> keys;
  for (std::string_view role : domain::role::kBuiltinRoles)
    keys[std::string(role)] =
        user("u-" + std::string(role), "\"" + std::string(role) + "\"", "matrix");
  api::Router router = api::make_router();
  int checked = 0;
  for (const api::Route& route : router.routes()) {
    std::string path(route.pattern);
    for (std::size_t open = path.find('{'); open != std::string::npos; open = path.find('{')) {
      path.replace(open, path.find('}', open) - open + 1, "matrix-x");
    }
    auto needed = api::perm::required(route.method, route.pattern);
    for (const auto& [role, key] : keys) {
      bool allowed = !needed.has_value();
      if (needed) {
        for (std::string_view g : api::perm::builtin_grants(role))
          allowed = allowed || api::perm::grant_covers(g, *needed);
        allowed = allowed || *needed == "me:read";
      }
      // An allowed SSE request would stream until closed: its allowance is covered by GET
      // /v1/events with the same permission.
      if (allowed && route.produces == api::Produces::event_stream)
        continue;
      std::string method(api::to_string(route.method));
      auto r = http(server_.port(), method, path,
                    route.method == api::Method::get || route.method == api::Method::delete_
                        ? std::string()
                        : std::string("{}"),
                    {bearer(key)});
      ASSERT_TRUE(r) << method << " " << path << " as " << role;
      if (allowed)
        EXPECT_TRUE(r->status != 403 && r->status != 401)
            << method << " " << path << " as " << role << ": " << r->status << " " << r->body;
      else
        EXPECT_EQ(r->status, 403) << method << " " << path << " as " << role << ": " << r->body;
      ++checked;
    }
  }
  EXPECT_GT(checked, 500);
}

// API1: sales users of two teams; a manager of one. Other teams' records answer 404 and are left
// out of lists, for every record collection: accounts, contacts, leads, activities, tasks,
// opportunities, appointments, quotes, orders and contracts.
TEST_F(SecurityTest, Api1ObjectLevelAuthorization) {
  start();
  CrmClient admin(server_.port());
  std::string mgr = user("maria", R"("manager")", "north");
  std::string ann = user("ann", R"("sales")", "north", ids_["maria"]);
  std::string ben = user("ben", R"("sales")", "south");
  std::string cat = user("cat", R"("care")", "south");
  CrmClient c(server_.port());
  struct Made {
    std::string collection, id;
  };
  auto make = [&](const std::string& key) {
    std::vector<Made> out;
    auto add = [&](const std::string& coll, const std::string& body) {
      Reply r = c.post("/v1/" + coll, body, {bearer(key)});
      EXPECT_EQ(r.status, 201) << coll << ": " << r.body;
      out.push_back({coll, r.str("id")});
      return r.str("id");
    };
    std::string acc = add("accounts", R"({"name":"Acc )" + key.substr(4, 8) + "\"}");
    add("contacts", R"({"first_name":"Lan","last_name":"Tran )" + key.substr(4, 8) +
                        R"(","account_id":")" + acc + "\"}");
    add("leads", R"({"company":"Lead )" + key.substr(4, 8) + R"(","last_name":"Pham"})");
    add("activities", R"({"kind":"call","subject":"intro","account_id":")" + acc + "\"}");
    add("tasks", R"({"title":"follow up","account_id":")" + acc + "\"}");
    add("opportunities", R"({"name":"Deal","account_id":")" + acc +
                             R"(","amount":{"amount":"100.00","currency":"VND"},)"
                             R"("expected_close_date":"2030-01-31"})");
    add("appointments",
        R"({"account_id":")" + acc + R"(","subject":"Demo","starts_at":"2030-05-10T09:00:00Z"})");
    std::string quote = add("quotes", R"({"account_id":")" + acc +
                                          R"(","currency":"VND","lines":[{"product_id":"p-1",)"
                                          R"("quantity":"1","unit_price":"10"}]})");
    EXPECT_EQ(c.post("/v1/quotes/" + quote + "/send", "{}", {bearer(key)}).status, 200);
    Reply accepted = c.post("/v1/quotes/" + quote + "/accept", "{}", {bearer(key)});
    EXPECT_EQ(accepted.status, 200) << accepted.body;
    out.push_back({"orders", accepted.str("order_id")});
    add("contracts", R"({"account_id":")" + acc +
                         R"(","title":"Support","starts_on":"2026-04-01","ends_on":"2027-03-31",)"
                         R"("value":{"amount":"100","currency":"VND"}})");
    return out;
  };
  std::vector<Made> north = make(ann);
  std::vector<Made> south = make(ben);
  std::string pos = "?min_position=" + admin.get("/healthz").header("x-position");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (std::size_t i = 0; i < north.size(); ++i) {
    const Made& a = north[i];
    const Made& b = south[i];
    SCOPED_TRACE(a.collection);
    // Waited for: every read model has the records.
    ASSERT_EQ(admin.get("/v1/" + a.collection + "/" + b.id).status, 200);
    EXPECT_EQ(c.get("/v1/" + a.collection + "/" + a.id, {bearer(ann)}).status, 200);
    EXPECT_EQ(c.get("/v1/" + a.collection + "/" + b.id, {bearer(ann)}).status, 404);
    EXPECT_EQ(c.get("/v1/" + a.collection + "/" + a.id, {bearer(ben)}).status, 404);
    EXPECT_EQ(c.get("/v1/" + a.collection + "/" + a.id, {bearer(mgr)}).status, 200);
    EXPECT_EQ(c.get("/v1/" + a.collection + "/" + b.id, {bearer(mgr)}).status, 404);
    // Lists leave them out.
    Reply list = c.get("/v1/" + a.collection + "?limit=200", {bearer(ann)});
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_NE(list.body.find(a.id), std::string::npos);
    EXPECT_EQ(list.body.find(b.id), std::string::npos);
    list = c.get("/v1/" + a.collection + "?limit=200", {bearer(ben)});
    EXPECT_EQ(list.body.find(a.id), std::string::npos);
  }
  // Order payments (a report sales may read) follow the orders' reach.
  auto order_of = [](const std::vector<Made>& made) {
    for (const Made& m : made) {
      if (m.collection == "orders")
        return m.id;
    }
    return std::string();
  };
  const std::string north_order = order_of(north), south_order = order_of(south);
  ASSERT_FALSE(north_order.empty());
  ASSERT_FALSE(south_order.empty());
  Reply payments = c.get("/v1/reports/order-payments?limit=200", {bearer(ann)});
  ASSERT_EQ(payments.status, 200) << payments.body;
  EXPECT_NE(payments.body.find(north_order), std::string::npos) << payments.body;
  EXPECT_EQ(payments.body.find(south_order), std::string::npos) << payments.body;
  payments = admin.get("/v1/reports/order-payments?limit=200");
  EXPECT_NE(payments.body.find(north_order), std::string::npos) << payments.body;
  EXPECT_NE(payments.body.find(south_order), std::string::npos) << payments.body;

  // Commands on another team's record: 404, nothing written.
  EXPECT_EQ(
      c.send("PATCH", "/v1/accounts/" + south[0].id, R"({"industry":"x"})", {bearer(ann)}).status,
      404);
  EXPECT_EQ(c.post("/v1/accounts/" + south[0].id + "/assign",
                   R"({"owner_id":")" + ids_["ann"] + "\"}", {bearer(ann)})
                .status,
            404);
  EXPECT_EQ(admin.get("/v1/accounts/" + south[0].id).num("version"), 0);
  // Nor can a new record hang on another team's record: as if it did not exist.
  Reply task =
      c.post("/v1/tasks", R"({"title":"x","account_id":")" + south[0].id + "\"}", {bearer(ann)});
  EXPECT_EQ(task.status, 422) << task.body;
  EXPECT_NE(task.body.find("account_id"), std::string::npos);
  EXPECT_EQ(
      c.post("/v1/tasks", R"({"title":"x","account_id":")" + north[0].id + "\"}", {bearer(ann)})
          .status,
      201);
  // The care user of team south sees ben's account (same team), not ann's.
  EXPECT_EQ(c.get("/v1/accounts/" + south[0].id, {bearer(cat)}).status, 200);
  EXPECT_EQ(c.get("/v1/accounts/" + north[0].id, {bearer(cat)}).status, 404);
}

// API1 with no pause for the read models: a record created a moment ago by another team is
// judged like any other (the check waits for its read model), and one's own fresh record can be
// used at once.
TEST_F(SecurityTest, Api1ReachHoldsForRecordsCreatedAMomentAgo) {
  start();
  std::string ann = user("ann", R"("sales")", "north");
  std::string ben = user("ben", R"("sales")", "south");
  CrmClient c(server_.port());
  c.read_your_writes = false;
  for (int i = 0; i < 30; ++i) {
    SCOPED_TRACE(i);
    Reply theirs =
        c.post("/v1/accounts", R"({"name":"South )" + std::to_string(i) + R"("})", {bearer(ben)});
    ASSERT_EQ(theirs.status, 201) << theirs.body;
    const std::string id = theirs.str("id");
    Reply patched = c.send("PATCH", "/v1/accounts/" + id, R"({"industry":"x"})", {bearer(ann)});
    EXPECT_TRUE(patched.status == 404 || patched.status == 503) << patched.body;
    Reply task =
        c.post("/v1/tasks", R"({"title":"x","account_id":")" + id + R"("})", {bearer(ann)});
    EXPECT_TRUE(task.status == 422 || task.status == 503) << task.body;

    Reply mine =
        c.post("/v1/accounts", R"({"name":"North )" + std::to_string(i) + R"("})", {bearer(ann)});
    ASSERT_EQ(mine.status, 201) << mine.body;
    Reply contact =
        c.post("/v1/contacts", R"({"last_name":"Tran","account_id":")" + mine.str("id") + R"("})",
               {bearer(ann)});
    EXPECT_EQ(contact.status, 201) << contact.body;
  }
}

// API3: PII masked without pii:read; writes cannot set server-owned fields; a user cannot give
// themselves a role.
TEST_F(SecurityTest, Api3PropertyLevelAuthorization) {
  start();
  CrmClient c(server_.port());
  std::string wh = user("wes", R"("warehouse")");
  std::string sales = user("sam", R"("sales")", "north");
  Reply r = c.post("/v1/accounts",
                   R"({"name":"Acme","email":"buyer@acme.example","phone":"+84 28 1234 5678"})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  std::string pos = "?min_position=" + std::to_string(r.num("position"));
  r = c.get("/v1/accounts/" + id + pos, {bearer(wh)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("email"), "***");
  EXPECT_EQ(r.body.find("buyer@acme.example"), std::string::npos);
  EXPECT_EQ(r.body.find("1234 5678"), std::string::npos);
  EXPECT_EQ(r.str("name"), "Acme");
  r = c.get("/v1/accounts/" + id + pos);
  EXPECT_EQ(r.str("email"), "buyer@acme.example");

  // Mass assignment: server-owned members are unknown members (422), nothing written.
  r = c.post("/v1/accounts", R"({"name":"X","id":"chosen","version":7,"created_by":"someone"})",
             {bearer(sales)});
  EXPECT_EQ(r.status, 422) << r.body;
  r = c.send("PATCH", "/v1/users/" + ids_["sam"], R"({"roles":["admin"]})");
  EXPECT_EQ(r.status, 422) << r.body;
  // Escalation by the user themselves: no permission to edit users or grant roles.
  r = c.send("PATCH", "/v1/users/" + ids_["sam"], R"({"name":"Sam"})", {bearer(sales)});
  EXPECT_EQ(r.status, 403) << r.body;
  r = c.post("/v1/users/" + ids_["sam"] + "/roles", R"({"role":"admin"})", {bearer(sales)});
  EXPECT_EQ(r.status, 403) << r.body;
  r = c.post("/v1/api-keys", R"({"user_id":"admin"})", {bearer(sales)});
  EXPECT_EQ(r.status, 403) << r.body;
  r = c.get("/v1/me", {bearer(sales)});
  EXPECT_EQ(r.body.find("\"admin\""), std::string::npos) << r.body;

  // Grants are events naming who granted what; a custom role works at once.
  r = c.send("PUT", "/v1/roles/reader", R"({"permissions":["accounts:read"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(c.send("PUT", "/v1/roles/admin", R"({"permissions":["*"]})").status, 422);
  r = c.post("/v1/users/" + ids_["wes"] + "/roles", R"({"role":"reader"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/streams/user-" + ids_["wes"]);
  EXPECT_NE(r.body.find("user.role_granted.v1"), std::string::npos);
  EXPECT_NE(r.body.find("\"granted_by\":\"admin\""), std::string::npos);
  EXPECT_EQ(c.post("/v1/users/" + ids_["wes"] + "/roles", R"({"role":"no-such"})").status, 422);
}

// API4: page sizes are capped; flooding one principal or failing authentication repeatedly
// answers 429 with Retry-After.
TEST_F(SecurityTest, Api4ResourceConsumption) {
  start({"--rate-limit-principal", "5", "--rate-burst-principal", "10",
         "--auth-failures-per-minute", "5"});
  CrmClient c(server_.port());
  EXPECT_EQ(c.get("/v1/accounts?limit=100000").status, 400);
  EXPECT_EQ(c.get("/v1/events?limit=100000").status, 400);
  int limited = 0;
  std::string retry;
  for (int i = 0; i < 40; ++i) {
    Reply r = c.get("/v1/me");
    if (r.status == 429) {
      ++limited;
      retry = r.header("retry-after");
    }
  }
  EXPECT_GT(limited, 20);
  EXPECT_FALSE(retry.empty());
  int auth_limited = 0;
  for (int i = 0; i < 15; ++i)
    auth_limited += c.get("/v1/me", {bearer("eck_badbadba_not-a-key-not-a-key")}).status == 429;
  EXPECT_GE(auth_limited, 9);
}

// API8: security headers on every answer; CORS only for the configured origin.
TEST_F(SecurityTest, Api8HeadersAndCors) {
  start();
  CrmClient c(server_.port());
  Reply r = c.get("/v1/accounts");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(c.get("/nope").header("x-content-type-options"), "nosniff");
  Reply big = c.post("/v1/accounts", std::string(2u << 20, ' '));  // 413 from the session
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(c.get("/healthz", {{"Authorization", ""}}).header("x-content-type-options"), "nosniff");
  r = c.get("/v1/accounts", {{"Origin", "https://app.example"}});
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://app.example");
  r = c.get("/v1/accounts", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(r.header("access-control-allow-origin"), "");
  r = c.send("OPTIONS", "/v1/accounts", {},
             {{"Origin", "https://app.example"},
              {"Access-Control-Request-Method", "POST"},
              {"Authorization", ""}});
  EXPECT_EQ(r.status, 204);
  EXPECT_NE(r.header("access-control-allow-headers").find("Authorization"), std::string::npos);
  r = c.send("OPTIONS", "/v1/accounts", {},
             {{"Origin", "https://evil.example"},
              {"Access-Control-Request-Method", "POST"},
              {"Authorization", ""}});
  EXPECT_EQ(r.status, 403);
}

// Bootstrap: with no EVENTCRM_BOOTSTRAP_ADMIN_KEY the first start makes a key and prints it
// once; it works, and a restart neither prints another nor adds a second administrator.
// --no-auth is refused off loopback.
TEST_F(SecurityTest, BootstrapKeyIsGeneratedAndPrintedOnce) {
  server_.bootstrap_key.clear();
  ASSERT_TRUE(server_.start(dir_ / "data"));
  const std::string marker = "bootstrap admin key (shown once): ";
  auto at_marker = server_.output().find(marker);
  ASSERT_NE(at_marker, std::string::npos) << server_.output();
  std::string key = server_.output().substr(at_marker + marker.size());
  key = key.substr(0, key.find('\n'));
  EXPECT_EQ(key.rfind("eck_", 0), 0u) << key;
  CrmClient c(server_.port());
  EXPECT_EQ(c.get("/v1/me", {bearer(key)}).str("user_id"), "admin");
  EXPECT_EQ(c.get("/v1/me").status, 401);  // the tests' default key was never configured
  ASSERT_EQ(server_.stop(), 0);
  ASSERT_TRUE(server_.start(dir_ / "data"));
  EXPECT_EQ(server_.output().find(marker), std::string::npos) << server_.output();
  CrmClient again(server_.port());
  Reply users = again.get("/v1/users?limit=10", {bearer(key)});
  ASSERT_EQ(users.status, 200) << users.body;
  EXPECT_EQ(users.items().items.size(), 1u) << users.body;
  std::string cmd = std::string(eventcrm_bin()) + " serve --no-auth --address 0.0.0.0 --port 0 " +
                    "--data-dir " + (dir_ / "other").string() + " > /dev/null 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
}

// TLS on the listener: a self-signed certificate made here; the client verifies it (name and
// chain) and speaks HTTP/1.1 over it; a plain-text request on the same port gets no answer.
TEST_F(SecurityTest, TlsListenerWithASelfSignedCertificate) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "IP:127.0.0.1");
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(cert, key, EVP_sha256());
  std::filesystem::create_directories(dir_);
  std::string cert_path = (dir_ / "cert.pem").string(), key_path = (dir_ / "key.pem").string();
  {
    FILE* f = std::fopen(cert_path.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(key_path.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  start({"--tls-cert", cert_path, "--tls-key", key_path});

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx, cert_path.c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  int fd = connect_to(server_.port());
  ASSERT_GE(fd, 0);
  SSL* ssl = SSL_new(ctx);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1) << "TLS handshake failed";
  EXPECT_EQ(SSL_get_verify_result(ssl), X509_V_OK);
  EXPECT_GE(SSL_version(ssl), TLS1_2_VERSION);
  std::string req = make_request("GET", "/v1/me");
  ASSERT_EQ(SSL_write(ssl, req.data(), static_cast<int>(req.size())), static_cast<int>(req.size()));
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos || got.find("admin") == std::string::npos) {
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0)
      break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  EXPECT_NE(got.find("\"user_id\":\"admin\""), std::string::npos) << got;
  SSL_shutdown(ssl);
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);

  // Plain HTTP on the TLS port: no HTTP answer.
  auto plain = http(server_.port(), "GET", "/healthz");
  EXPECT_TRUE(!plain || plain->status != 200);
}

}  // namespace
}  // namespace eventcrm::test
