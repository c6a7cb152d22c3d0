// Users of the CRM: who they are, their team and manager (for record-level access) and the
// roles granted to them. Every grant and revocation is an event naming who did it and when.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"

namespace eventcrm::domain::user {

inline constexpr std::string_view kCategory = "user";

struct Created {
  static constexpr std::string_view kType = "user.created.v1";
  std::string user_id;
  std::string name;
  std::string email;
  std::vector<std::string> roles;
  std::optional<std::string> team_id;
  std::optional<std::string> manager_id;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("user_id", s.user_id);
    f("name", s.name);
    f("email", s.email);
    f("roles", s.roles);
    f("team_id", s.team_id);
    f("manager_id", s.manager_id);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

// The profile as it is after the change (absent team/manager: none any more).
struct ProfileChanged {
  static constexpr std::string_view kType = "user.profile_changed.v1";
  std::string user_id;
  std::string name;
  std::string email;
  std::optional<std::string> team_id;
  std::optional<std::string> manager_id;
  std::string changed_by;
  Timestamp changed_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("user_id", s.user_id);
    f("name", s.name);
    f("email", s.email);
    f("team_id", s.team_id);
    f("manager_id", s.manager_id);
    f("changed_by", s.changed_by);
    f("changed_at", s.changed_at);
  }
  bool operator==(const ProfileChanged&) const = default;
};

struct RoleGranted {
  static constexpr std::string_view kType = "user.role_granted.v1";
  std::string user_id;
  std::string role;
  std::string granted_by;
  Timestamp granted_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("user_id", s.user_id);
    f("role", s.role);
    f("granted_by", s.granted_by);
    f("granted_at", s.granted_at);
  }
  bool operator==(const RoleGranted&) const = default;
};

struct RoleRevoked {
  static constexpr std::string_view kType = "user.role_revoked.v1";
  std::string user_id;
  std::string role;
  std::string revoked_by;
  Timestamp revoked_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("user_id", s.user_id);
    f("role", s.role);
    f("revoked_by", s.revoked_by);
    f("revoked_at", s.revoked_at);
  }
  bool operator==(const RoleRevoked&) const = default;
};

// A deactivated user's credentials stop working at once; the record stays.
struct Deactivated {
  static constexpr std::string_view kType = "user.deactivated.v1";
  std::string user_id;
  std::string deactivated_by;
  Timestamp deactivated_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("user_id", s.user_id);
    f("deactivated_by", s.deactivated_by);
    f("deactivated_at", s.deactivated_at);
  }
  bool operator==(const Deactivated&) const = default;
};

struct Reactivated {
  static constexpr std::string_view kType = "user.reactivated.v1";
  std::string user_id;
  std::string reactivated_by;
  Timestamp reactivated_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("user_id", s.user_id);
    f("reactivated_by", s.reactivated_by);
    f("reactivated_at", s.reactivated_at);
  }
  bool operator==(const Reactivated&) const = default;
};

using Event =
    std::variant<Created, ProfileChanged, RoleGranted, RoleRevoked, Deactivated, Reactivated>;

enum class Status { none, active, inactive };

struct State {
  Status status = Status::none;
  std::string id;
  std::string name;
  std::string email;
  std::vector<std::string> roles;
  std::optional<std::string> team_id;
  std::optional<std::string> manager_id;
};

struct Create {
  std::string name;
  std::string email;
  std::vector<std::string> roles;
  std::optional<std::string> team_id;
  std::optional<std::string> manager_id;
};
// Only the members given change; `clear_team` / `clear_manager` remove them.
struct ChangeProfile {
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> team_id;
  std::optional<std::string> manager_id;
  bool clear_team = false;
  bool clear_manager = false;
};
struct GrantRole {
  std::string role;
};
struct RevokeRole {
  std::string role;
};
struct Deactivate {};
struct Reactivate {};
using Command = std::variant<Create, ChangeProfile, GrantRole, RevokeRole, Deactivate, Reactivate>;

// A role name: 2–40 of [a-z0-9_-], starting with a letter.
bool valid_role_name(std::string_view role);

struct Aggregate {
  using State = user::State;
  using Event = user::Event;
  using Command = user::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
};

}  // namespace eventcrm::domain::user
