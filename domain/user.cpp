// User decisions: profile, role grants and revocations, deactivation.
#include "domain/user.hpp"

#include <algorithm>

#include "domain/codec.hpp"
#include "domain/normalize.hpp"

namespace eventcrm::domain::user {
namespace {
using Events = std::vector<Event>;

bool has(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The normalised address, or "" with the field error recorded.
std::string check_email(Validation& v, const std::string& email) {
  auto n = email.size() <= 254 ? normalize_email(email) : std::nullopt;
  v.require(n.has_value(), "email", "must be an email address");
  return n.value_or("");
}

void check_ref(Validation& v, const std::optional<std::string>& id, const char* field) {
  if (id)
    v.require(!id->empty() && id->size() <= 100, field, "must be a non-empty id");
}
}  // namespace

bool valid_role_name(std::string_view role) {
  if (role.size() < 2 || role.size() > 40 || role.front() < 'a' || role.front() > 'z')
    return false;
  return std::all_of(role.begin(), role.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.status = Status::active;
                   s.id = x.user_id;
                   s.name = x.name;
                   s.email = x.email;
                   s.roles = x.roles;
                   s.team_id = x.team_id;
                   s.manager_id = x.manager_id;
                 },
                 [&](const ProfileChanged& x) {
                   s.name = x.name;
                   s.email = x.email;
                   s.team_id = x.team_id;
                   s.manager_id = x.manager_id;
                 },
                 [&](const RoleGranted& x) {
                   if (!has(s.roles, x.role))
                     s.roles.push_back(x.role);
                 },
                 [&](const RoleRevoked& x) {
                   s.roles.erase(std::remove(s.roles.begin(), s.roles.end(), x.role),
                                 s.roles.end());
                 },
                 [&](const Deactivated&) { s.status = Status::inactive; },
                 [&](const Reactivated&) { s.status = Status::active; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Create>(&cmd)) {
    if (s.status != Status::none)
      return fail(errc::already_exists, "user already exists");
    Validation v;
    v.require(!c->name.empty() && c->name.size() <= 200, "name", "required");
    std::string email = check_email(v, c->email);
    for (const auto& r : c->roles)
      v.require(valid_role_name(r), "roles", "a role name is 2–40 of a-z, 0-9, _ and -");
    check_ref(v, c->team_id, "team_id");
    check_ref(v, c->manager_id, "manager_id");
    if (c->manager_id)
      v.require(*c->manager_id != ctx.id, "manager_id", "a user is not their own manager");
    if (!v.ok())
      return v.error();
    std::vector<std::string> roles;
    for (const auto& r : c->roles)
      if (!has(roles, r))
        roles.push_back(r);
    return Events{
        Created{ctx.id, c->name, email, roles, c->team_id, c->manager_id, ctx.actor, ctx.now}};
  }
  if (s.status == Status::none)
    return fail(errc::not_found, "no such user");
  const bool active = s.status == Status::active;
  return std::visit(
      codec::overloaded{
          [&](const ChangeProfile& c) -> Result<Events> {
            Validation v;
            if (c.name)
              v.require(!c.name->empty() && c.name->size() <= 200, "name", "must not be empty");
            std::string email = c.email ? check_email(v, *c.email) : s.email;
            check_ref(v, c.team_id, "team_id");
            check_ref(v, c.manager_id, "manager_id");
            if (c.manager_id)
              v.require(*c.manager_id != s.id, "manager_id", "a user is not their own manager");
            if (!v.ok())
              return v.error();
            ProfileChanged ev{s.id, s.name, s.email, s.team_id, s.manager_id, ctx.actor, ctx.now};
            if (c.name)
              ev.name = *c.name;
            ev.email = email;
            if (c.clear_team)
              ev.team_id.reset();
            else if (c.team_id)
              ev.team_id = c.team_id;
            if (c.clear_manager)
              ev.manager_id.reset();
            else if (c.manager_id)
              ev.manager_id = c.manager_id;
            if (ev.name == s.name && ev.email == s.email && ev.team_id == s.team_id &&
                ev.manager_id == s.manager_id)
              return Events{};
            return Events{ev};
          },
          [&](const GrantRole& c) -> Result<Events> {
            Validation v;
            v.require(valid_role_name(c.role), "role", "a role name is 2–40 of a-z, 0-9, _ and -");
            if (!v.ok())
              return v.error();
            if (has(s.roles, c.role))
              return Events{};
            return Events{RoleGranted{s.id, c.role, ctx.actor, ctx.now}};
          },
          [&](const RevokeRole& c) -> Result<Events> {
            if (!has(s.roles, c.role))
              return Events{};
            return Events{RoleRevoked{s.id, c.role, ctx.actor, ctx.now}};
          },
          [&](const Deactivate&) -> Result<Events> {
            if (!active)
              return Events{};
            if (s.id == ctx.actor)
              return invalid_transition("a user cannot deactivate themselves", {});
            return Events{Deactivated{s.id, ctx.actor, ctx.now}};
          },
          [&](const Reactivate&) -> Result<Events> {
            if (active)
              return Events{};
            return Events{Reactivated{s.id, ctx.actor, ctx.now}};
          },
          [&](const Create&) -> Result<Events> { return fail(errc::already_exists, "exists"); },
      },
      cmd);
}

std::string Aggregate::encode(const Event& e) {
  return codec::encode_event(e);
}
Result<Event> Aggregate::decode(std::string_view type, std::string_view json) {
  return codec::decode_event<Event>(type, json);
}
std::string_view Aggregate::type_of(const Event& e) {
  return codec::type_of(e);
}
std::vector<std::string_view> Aggregate::event_types() {
  return codec::event_types<Event>();
}

}  // namespace eventcrm::domain::user
