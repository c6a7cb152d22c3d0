// Custom role decisions: define a role from permissions, change its permissions.
#include "domain/role.hpp"

#include <algorithm>

#include "domain/codec.hpp"
#include "domain/user.hpp"

namespace eventcrm::domain::role {
namespace {
using Events = std::vector<Event>;

bool word(std::string_view w) {
  return !w.empty() && w.size() <= 40 && std::all_of(w.begin(), w.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Sorted and unique, so the same set always records the same way.
std::optional<std::vector<std::string>> permission_set(const std::vector<std::string>& in,
                                                       Validation& v) {
  std::vector<std::string> out;
  for (const auto& p : in) {
    if (!valid_permission(p)) {
      v.add("permissions", "\"" + p + "\" is not a permission (resource:action)");
      return std::nullopt;
    }
    out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty()) {
    v.add("permissions", "at least one permission");
    return std::nullopt;
  }
  return out;
}
}  // namespace

bool is_builtin(std::string_view role) {
  return std::find(std::begin(kBuiltinRoles), std::end(kBuiltinRoles), role) !=
         std::end(kBuiltinRoles);
}

bool valid_permission(std::string_view p) {
  if (p == "*")
    return true;
  auto colon = p.find(':');
  if (colon == std::string_view::npos)
    return false;
  return word(p.substr(0, colon)) && word(p.substr(colon + 1));
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Defined& x) {
                   s.exists = true;
                   s.role = x.role;
                   s.permissions = x.permissions;
                 },
                 [&](const PermissionsChanged& x) { s.permissions = x.permissions; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Define>(&cmd)) {
    if (s.exists)
      return fail(errc::already_exists, "role already defined");
    Validation v;
    v.require(user::valid_role_name(ctx.id), "name", "a role name is 2–40 of a-z, 0-9, _ and -");
    v.require(!is_builtin(ctx.id), "name", "a built-in role cannot be redefined");
    if (c->description)
      v.require(c->description->size() <= 500, "description", "at most 500 characters");
    auto perms = permission_set(c->permissions, v);
    if (!v.ok())
      return v.error();
    return Events{Defined{ctx.id, c->description, *perms, ctx.actor, ctx.now}};
  }
  if (!s.exists)
    return fail(errc::not_found, "no such role");
  const auto& c = std::get<ChangePermissions>(cmd);
  Validation v;
  auto perms = permission_set(c.permissions, v);
  if (!v.ok())
    return v.error();
  if (*perms == s.permissions)
    return Events{};
  return Events{PermissionsChanged{s.role, *perms, s.permissions, ctx.actor, ctx.now}};
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

}  // namespace eventcrm::domain::role
