// Custom roles defined by administrators as sets of permissions. The built-in roles are fixed in
// code (api/permissions.cpp) and cannot be redefined; their names are listed here so decisions
// refuse them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"

namespace eventcrm::domain::role {

inline constexpr std::string_view kCategory = "role";

inline constexpr std::string_view kBuiltinRoles[] = {
    "admin",     "manager", "sales",   "care",    "marketing",
    "warehouse", "hr",      "support", "auditor", "integration",
};
bool is_builtin(std::string_view role);
// "<resource>:<action>", each 1–40 of [a-z0-9_-], or "*" for everything.
bool valid_permission(std::string_view permission);

struct Defined {
  static constexpr std::string_view kType = "role.defined.v1";
  std::string role;
  std::optional<std::string> description;
  std::vector<std::string> permissions;
  std::string defined_by;
  Timestamp defined_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("role", s.role);
    f("description", s.description);
    f("permissions", s.permissions);
    f("defined_by", s.defined_by);
    f("defined_at", s.defined_at);
  }
  bool operator==(const Defined&) const = default;
};

struct PermissionsChanged {
  static constexpr std::string_view kType = "role.permissions_changed.v1";
  std::string role;
  std::vector<std::string> permissions;
  std::vector<std::string> previous_permissions;
  std::string changed_by;
  Timestamp changed_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("role", s.role);
    f("permissions", s.permissions);
    f("previous_permissions", s.previous_permissions);
    f("changed_by", s.changed_by);
    f("changed_at", s.changed_at);
  }
  bool operator==(const PermissionsChanged&) const = default;
};

using Event = std::variant<Defined, PermissionsChanged>;

struct State {
  bool exists = false;
  std::string role;
  std::vector<std::string> permissions;
};

struct Define {
  std::optional<std::string> description;
  std::vector<std::string> permissions;
};
struct ChangePermissions {
  std::vector<std::string> permissions;
};
using Command = std::variant<Define, ChangePermissions>;

struct Aggregate {
  using State = role::State;
  using Event = role::Event;
  using Command = role::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  // The record id is the role's name.
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Define>(c); }
};

}  // namespace eventcrm::domain::role
