// Users, roles and API keys over HTTP (administrators), and GET /v1/me. Commands are decided in
// domain/user.cpp, role.cpp and api_key.cpp; each answer waits until the authenticator's
// directory has applied the write, so a new key, a revocation or a grant holds from the next
// request on.
#include "api/security.hpp"
#include "api/handlers/command.hpp"
#include "api/handlers/query.hpp"
#include "domain/api_key.hpp"
#include "domain/role.hpp"
#include "domain/user.hpp"
#include "projections/users.hpp"

namespace eventcrm::api {
namespace {

namespace user = domain::user;
namespace role = domain::role;
namespace api_key = domain::api_key;

constexpr std::string_view kUsers = "users";
constexpr auto kDirectoryWait = std::chrono::seconds(5);

const query::Collection& users() {
  static const query::Collection c{kUsers,
                                   projections::kUsers,
                                   &projections::users_spec(),
                                   {"team_id", "manager_id", "status"},
                                   {"created_at"}};
  return c;
}

// Runs a command, then waits for the directory to apply it before answering.
template <class A>
void run_applied(const Context& ctx, Completion done, std::string id, typename A::Command cmd,
                 app::CommandOptions options, std::string_view collection, bool created,
                 std::function<Response(const app::CommandResult&)> answer = {}) {
  app::CommandRunner* runner = ctx.commands;
  Security* security = ctx.security;
  command::submit(
      ctx, std::move(done),
      [runner, security, id = std::move(id), cmd = std::move(cmd), options = std::move(options),
       collection, created, answer = std::move(answer)]() -> Response {
        auto r = runner->run<A>(id, cmd, options);
        if (!r)
          return command::from_app_error(r.error());
        if (security != nullptr && !security->wait_applied(r->position, kDirectoryWait))
          return problem(errc::not_ready, "written, but the authenticator has not seen it yet");
        return answer ? answer(*r) : command::result(*r, collection, created);
      });
}

// Roles named in a request must exist (built-in or defined), else 422.
bool check_roles(const Context& ctx, command::Fields& f, const std::vector<std::string>& roles,
                 std::string_view field) {
  bool ok = true;
  for (const auto& r : roles) {
    bool known = ctx.security != nullptr ? ctx.security->role_exists(r) : role::is_builtin(r);
    if (!known) {
      f.fail(std::string(field), "no role \"" + r + "\"");
      ok = false;
    }
  }
  return ok;
}

void check_manager(const Context& ctx, command::Fields& f, const std::optional<std::string>& id) {
  if (id && ctx.security != nullptr && !ctx.security->user_exists(*id))
    f.fail("manager_id", "no such user");
}

void create_user(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"name", "email", "roles", "team_id", "manager_id"});
  user::Create c;
  auto name = f.text("name", true);
  auto email = f.text("email", true, 320);
  if (f.array("roles", true) != nullptr)
    c.roles = f.texts("roles", 20);
  c.team_id = f.text("team_id", false, 100);
  c.manager_id = f.text("manager_id", false, 100);
  check_roles(ctx, f, c.roles, "roles");
  check_manager(ctx, f, c.manager_id);
  if (!f.ok())
    return done(f.problem());
  c.name = std::move(*name);
  c.email = std::move(*email);
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  run_applied<user::Aggregate>(ctx, std::move(done), std::move(id), std::move(c),
                               std::move(options), kUsers, true);
}

// PATCH: profile members only. Roles are granted and revoked through their own routes (which
// need users:admin), so a user cannot give themselves a role by editing their profile.
void update_user(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"name", "email", "team_id", "manager_id"});
  user::ChangeProfile c;
  c.name = f.text("name", false);
  c.email = f.text("email", false, 320);
  auto null_member = [&](std::string_view k) {
    const json::Value* v = body.find(k);
    return v != nullptr && v->kind == json::Value::Kind::null;
  };
  c.clear_team = null_member("team_id");
  c.clear_manager = null_member("manager_id");
  if (!c.clear_team)
    c.team_id = f.text("team_id", false, 100);
  if (!c.clear_manager)
    c.manager_id = f.text("manager_id", false, 100);
  check_manager(ctx, f, c.manager_id);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  run_applied<user::Aggregate>(ctx, std::move(done), req.params.at(0), std::move(c),
                               std::move(options), kUsers, false);
}

void grant_role(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"role"});
  auto r = f.text("role", true, 40);
  if (r)
    check_roles(ctx, f, {*r}, "role");
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  run_applied<user::Aggregate>(ctx, std::move(done), req.params.at(0), user::GrantRole{*r},
                               std::move(options), kUsers, false);
}

void revoke_role(const Request& req, const Context& ctx, Completion done) {
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, nullptr, options))
    return done(std::move(*bad));
  run_applied<user::Aggregate>(ctx, std::move(done), req.params.at(0),
                               user::RevokeRole{req.params.at(1)}, std::move(options), kUsers,
                               false);
}

template <class Cmd>
void user_action(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {});
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  run_applied<user::Aggregate>(ctx, std::move(done), req.params.at(0), Cmd{}, std::move(options),
                               kUsers, false);
}

void get_user(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), users());
}

void list_users(const Request& req, const Context& ctx, Completion done) {
  query::list(req, ctx, std::move(done), users());
}

// GET /v1/me: who the credentials belong to and what they may do.
Response me(const Request& req, const Context&) {
  std::string b = "{\"user_id\":";
  json::write_string(b, req.principal.empty() ? "anonymous" : req.principal);
  const Principal* p = req.auth.get();
  auto list = [&b](std::string_view name, const std::vector<std::string>& items) {
    b += ",\"";
    b += name;
    b += "\":[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i)
        b += ',';
      json::write_string(b, items[i]);
    }
    b += ']';
  };
  if (p != nullptr) {
    list("roles", p->roles);
    list("grants", p->grants);
    b += ",\"reach\":\"";
    b += p->reach == perm::Reach::all             ? "all"
         : p->reach == perm::Reach::managed_teams ? "managed_teams"
                                                  : "own_team";
    b += '"';
    list("teams", p->teams);
    b += ",\"pii\":";
    b += p->can("pii:read") ? "true" : "false";
  }
  b += '}';
  return json_response(200, std::move(b));
}

// ---- roles ----

Response list_roles(const Request&, const Context& ctx) {
  std::string b = "{\"items\":[";
  bool first = true;
  for (std::string_view r : role::kBuiltinRoles) {
    if (!first)
      b += ',';
    first = false;
    b += "{\"name\":";
    json::write_string(b, r);
    b += ",\"builtin\":true,\"permissions\":[";
    const auto& grants = perm::builtin_grants(r);
    for (std::size_t i = 0; i < grants.size(); ++i) {
      if (i)
        b += ',';
      json::write_string(b, grants[i]);
    }
    b += "]}";
  }
  if (ctx.security != nullptr) {
    for (const auto& [name, perms] : ctx.security->custom_roles()) {
      b += ",{\"name\":";
      json::write_string(b, name);
      b += ",\"builtin\":false,\"permissions\":[";
      for (std::size_t i = 0; i < perms.size(); ++i) {
        if (i)
          b += ',';
        json::write_string(b, perms[i]);
      }
      b += "]}";
    }
  }
  b += "]}";
  return json_response(200, std::move(b));
}

// PUT /v1/roles/{name}: defines a custom role, or replaces its permissions.
void put_role(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"permissions", "description"});
  std::vector<std::string> perms;
  if (f.array("permissions", true) != nullptr)
    perms = f.texts("permissions", 200);
  auto description = f.text("description", false, 500);
  const std::string& name = req.params.at(0);
  if (role::is_builtin(name))
    f.fail("name", "a built-in role cannot be redefined");
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  bool exists = ctx.security != nullptr && ctx.security->role_exists(name);
  role::Command c = exists ? role::Command{role::ChangePermissions{std::move(perms)}}
                           : role::Command{role::Define{std::move(description), std::move(perms)}};
  run_applied<role::Aggregate>(ctx, std::move(done), name, std::move(c), std::move(options),
                               "roles", !exists);
}

// ---- api keys ----

void create_api_key(const Request& req, const Context& ctx, Completion done) {
  // A retry with the same key could only answer the first result, whose secret is gone.
  if (req.has_header("Idempotency-Key"))
    return done(problem(errc::bad_request,
                        "API keys are shown once and cannot be replayed; send no Idempotency-Key",
                        {{"Idempotency-Key", "not accepted here"}}));
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"user_id", "expires_at"});
  auto user_id = f.text("user_id", true, 100);
  auto expires = f.time("expires_at", false);
  if (user_id && ctx.security != nullptr && !ctx.security->user_exists(*user_id))
    f.fail("user_id", "no such user");
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  NewKey key = generate_api_key();
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  std::string shown = key.key;
  std::string prefix = key.prefix;
  std::string owner = *user_id;
  run_applied<api_key::Aggregate>(ctx, std::move(done), id,
                                  api_key::Issue{*user_id, key.prefix, key.sha256, expires},
                                  std::move(options), "api-keys", true,
                                  [shown, prefix, owner, expires](const app::CommandResult& r) {
                                    std::string b = "{\"id\":";
                                    json::write_string(b, r.id);
                                    b += ",\"key\":";
                                    json::write_string(b, shown);
                                    b += ",\"prefix\":";
                                    json::write_string(b, prefix);
                                    b += ",\"user_id\":";
                                    json::write_string(b, owner);
                                    b += ",\"expires_at\":";
                                    if (expires)
                                      json::write_string(b, expires->to_string());
                                    else
                                      b += "null";
                                    b += ",\"version\":" + std::to_string(r.version) +
                                         ",\"position\":" + std::to_string(r.position) + "}";
                                    Response res = json_response(201, std::move(b));
                                    res.set_header("Location", "/v1/api-keys/" + r.id);
                                    res.set_header("X-Position", std::to_string(r.position));
                                    return res;
                                  });
}

// GET /v1/api-keys[?user_id=]: id, prefix, owner, expiry and whether revoked; never a secret.
Response list_api_keys(const Request& req, const Context& ctx) {
  params::Query q(req, {"user_id"});
  std::string user;
  if (auto u = q.get("user_id"))
    user = std::string(*u);
  if (!q.ok())
    return q.problem();
  std::string b = "{\"items\":[";
  bool first = true;
  for (const auto& k :
       ctx.security != nullptr ? ctx.security->api_keys(user) : std::vector<Security::KeyInfo>{}) {
    if (!first)
      b += ',';
    first = false;
    b += "{\"id\":";
    json::write_string(b, k.id);
    b += ",\"prefix\":";
    json::write_string(b, k.prefix);
    b += ",\"user_id\":";
    json::write_string(b, k.user_id);
    b += ",\"expires_at\":";
    if (k.expires_ms)
      json::write_string(b, domain::Timestamp{*k.expires_ms}.to_string());
    else
      b += "null";
    b += ",\"revoked\":";
    b += k.revoked ? "true" : "false";
    b += '}';
  }
  b += "]}";
  return json_response(200, std::move(b));
}

void revoke_api_key(const Request& req, const Context& ctx, Completion done) {
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, nullptr, options))
    return done(std::move(*bad));
  run_applied<api_key::Aggregate>(ctx, std::move(done), req.params.at(0), api_key::Revoke{},
                                  std::move(options), "api-keys", false);
}

}  // namespace

std::vector<Route> security_routes() {
  return {
      {Method::get, "/v1/me", me, nullptr, Produces::json, false,
       "Who the credentials belong to: roles, grants, record reach"},
      {Method::post, "/v1/users", nullptr, create_user, Produces::json, true, "Create a user"},
      {Method::get, "/v1/users", nullptr, list_users, Produces::json, false, "List users"},
      {Method::get, "/v1/users/{id}", nullptr, get_user, Produces::json, false, "A user"},
      {Method::patch, "/v1/users/{id}", nullptr, update_user, Produces::json, true,
       "Edit a user's profile (name, email, team, manager)"},
      {Method::post, "/v1/users/{id}/roles", nullptr, grant_role, Produces::json, true,
       "Grant a role"},
      {Method::delete_, "/v1/users/{id}/roles/{role}", nullptr, revoke_role, Produces::json, false,
       "Revoke a role"},
      {Method::post, "/v1/users/{id}/deactivate", nullptr, user_action<user::Deactivate>,
       Produces::json, true, "Deactivate a user (their credentials stop working)"},
      {Method::post, "/v1/users/{id}/reactivate", nullptr, user_action<user::Reactivate>,
       Produces::json, true, "Reactivate a user"},
      {Method::get, "/v1/roles", list_roles, nullptr, Produces::json, false,
       "Built-in and custom roles with their permissions"},
      {Method::put, "/v1/roles/{name}", nullptr, put_role, Produces::json, true,
       "Define a custom role or replace its permissions"},
      {Method::post, "/v1/api-keys", nullptr, create_api_key, Produces::json, true,
       "Issue an API key (shown once)"},
      {Method::get, "/v1/api-keys", list_api_keys, nullptr, Produces::json, false,
       "API keys: prefix, owner, expiry, revoked (never the secret)"},
      {Method::delete_, "/v1/api-keys/{id}", nullptr, revoke_api_key, Produces::json, false,
       "Revoke an API key at once"},
  };
}

}  // namespace eventcrm::api
