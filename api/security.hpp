// Authentication and authorization for every request, enforced by the router in one place:
// bearer API keys (SHA-256 digests, compared in constant time) and JWTs (HS256/RS256/ES256
// verified with OpenSSL, the algorithm fixed per configured key), the directory of users, roles
// and keys kept current from the log, permission and record-level checks, rate limits, CORS
// and security headers, and PII masking for roles without `pii:read`. No Beast here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.hpp"
#include "api/permissions.hpp"

namespace eventcrm::store {
class EventStore;
}
namespace eventcrm::app {
class CommandRunner;
}

namespace eventcrm::api {

struct Context;
struct Route;

struct SecurityOptions {
  bool enabled = true;        // false only for loopback development and benchmarks (--no-auth)
  std::string jwt_keys_file;  // JSON: {"keys":[{"kid","alg","secret"|"public_key_pem"}], …}
  perm::Exposure exposure;
  std::vector<std::string> cors_origins;  // exact origins allowed; "*" is refused
  // Token buckets (requests per second, burst); 0: no limit.
  double principal_rate = 10000, principal_burst = 20000;
  double address_rate = 20000, address_burst = 40000;
  // Failed authentications per client address: per minute, burst.
  double auth_failure_per_minute = 30, auth_failure_burst = 30;
  std::string bootstrap_admin_key;  // EVENTCRM_BOOTSTRAP_ADMIN_KEY: used on an empty store
};

// Who is asking, as the router resolved it.
struct Principal {
  std::string user_id;
  std::string credential;  // "api_key:<id>" or "jwt:<kid>"
  std::vector<std::string> roles;
  std::vector<std::string> grants;  // from built-in and custom roles
  perm::Reach reach = perm::Reach::all;
  std::vector<std::string> teams;    // reach managed_teams / own_team: the visible teams
  std::vector<std::string> members;  // reach managed_teams: the users they manage

  bool can(std::string_view permission) const;
};

// A new API key: "eck_<8-char prefix>_<43-char secret>", with its digest.
struct NewKey {
  std::string key;
  std::string prefix;
  std::string sha256;
};
NewKey generate_api_key();
// The prefix of a well-formed key, or empty.
std::string_view api_key_prefix(std::string_view key);
std::string sha256_hex(std::string_view data);

class Security {
 public:
  explicit Security(SecurityOptions options);
  ~Security();
  Security(const Security&) = delete;
  Security& operator=(const Security&) = delete;

  // Loads the JWT keys; follows the log for users, roles and keys from `store` (a thread).
  bool start(store::EventStore& store, std::string& error);
  void stop();
  // On an empty store: the first administrator and their key (the configured one, else a new
  // one printed to stdout once). Runs before the listener opens.
  // Call after start().
  bool bootstrap(app::CommandRunner& runner, std::string& error);

  bool enabled() const noexcept;
  const SecurityOptions& options() const noexcept;

  // The router's check after matching: public route, credentials, permission, record reach,
  // rate limits. nullopt: go on (req.auth/req.principal set); else the answer.
  std::optional<Response> check(Request& req, const Context& ctx, const Route& route);
  // Headers every response gets (nosniff, CORS, no-store when authenticated) and PII masking.
  void finish(const Request& req, Response& res) const;
  // A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method), answered here.
  std::optional<Response> preflight(const Request& req) const;

  // Whether a record (its JSON document) is within the principal's reach.
  bool in_reach(const Principal& p, std::string_view doc) const;
  // Whether records owned by `user_id` are within it (theirs, their team's, those they manage).
  bool owner_in_reach(const Principal& p, std::string_view user_id) const;

  // Blocks until the directory has applied `position` (a command's), at most `timeout`.
  bool wait_applied(std::uint64_t position, std::chrono::milliseconds timeout) const;

  // Directory lookups for the handlers.
  bool user_exists(std::string_view id) const;
  bool role_exists(std::string_view role) const;  // built-in or custom
  std::vector<std::pair<std::string, std::vector<std::string>>> custom_roles() const;
  // The API keys (never their secrets or digests), of one user or all, by id.
  struct KeyInfo {
    std::string id;
    std::string prefix;
    std::string user_id;
    std::optional<std::int64_t> expires_ms;
    bool revoked = false;
  };
  std::vector<KeyInfo> api_keys(std::string_view user_id = {}) const;
  // Record-level reach applies to business records, not to users, roles and keys.
  static bool reach_applies(std::string_view collection);

  void metrics(std::string& out) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// JSON with personal fields (emails, phones, addresses, tax and national ids, salaries) masked.
std::string mask_pii(std::string_view json);

}  // namespace eventcrm::api
