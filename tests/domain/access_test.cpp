// Users, API keys and custom roles: given events, when a command, then events or an error. Who
// granted, revoked, issued or deactivated is the actor of the context ("u-ann").
#include "domain/api_key.hpp"
#include "domain/role.hpp"
#include "domain/user.hpp"
#include "given_when_then.hpp"

using namespace eventcrm::domain;
using eventcrm::testing::at;
using eventcrm::testing::Case;
using eventcrm::testing::Fails;
using eventcrm::testing::run_cases;

namespace {
using User = user::Aggregate;
using Key = api_key::Aggregate;
using Role = role::Aggregate;
const Timestamp kNow = at("2026-03-02T10:00:00Z");
const std::string kDigest(64, 'a');

user::Created created(std::vector<std::string> roles = {"sales"}) {
  return user::Created{"r-1",   "Lan Tran",   "lan@crm.example", std::move(roles),
                       "north", std::nullopt, "u-ann",           kNow};
}
}  // namespace

TEST(Users, CreateAndProfile) {
  using E = std::vector<user::Event>;
  run_cases<User>({
      Case<User>{"created with its roles, the email normalised",
                 {},
                 user::Create{"Lan Tran", " Lan@CRM.example ", {"sales", "sales"}, "north", {}},
                 E{created()}},
      Case<User>{"bad fields",
                 {},
                 user::Create{"", "not-an-email", {"Admin!"}, {}, {}},
                 Fails{errc::validation, {}, {"name", "email", "roles"}}},
      Case<User>{"not their own manager",
                 {},
                 user::Create{"Lan", "lan@crm.example", {}, {}, "r-1"},
                 Fails{errc::validation, {}, {"manager_id"}}},
      Case<User>{"twice",
                 {created()},
                 user::Create{"Lan", "lan@crm.example", {}, {}, {}},
                 Fails{errc::already_exists}},
      Case<User>{"a profile change records the whole profile",
                 {created()},
                 user::ChangeProfile{std::nullopt, std::nullopt, "south", "u-boss", false, false},
                 E{user::ProfileChanged{"r-1", "Lan Tran", "lan@crm.example", "south", "u-boss",
                                        "u-ann", kNow}}},
      Case<User>{
          "clearing the team",
          {created()},
          user::ChangeProfile{std::nullopt, std::nullopt, std::nullopt, std::nullopt, true, false},
          E{user::ProfileChanged{"r-1", "Lan Tran", "lan@crm.example", std::nullopt, std::nullopt,
                                 "u-ann", kNow}}},
      Case<User>{"no change, no event",
                 {created()},
                 user::ChangeProfile{"Lan Tran", std::nullopt, "north", std::nullopt, false, false},
                 E{}},
      Case<User>{"unknown user", {}, user::GrantRole{"admin"}, Fails{errc::not_found}},
  });
}

TEST(Users, RolesAndDeactivation) {
  using E = std::vector<user::Event>;
  run_cases<User>({
      Case<User>{"a grant names who granted it and when",
                 {created()},
                 user::GrantRole{"manager"},
                 E{user::RoleGranted{"r-1", "manager", "u-ann", kNow}}},
      Case<User>{
          "granting a role held changes nothing", {created()}, user::GrantRole{"sales"}, E{}},
      Case<User>{"a role name is a word",
                 {created()},
                 user::GrantRole{"Sales Team"},
                 Fails{errc::validation, {}, {"role"}}},
      Case<User>{"revoked",
                 {created()},
                 user::RevokeRole{"sales"},
                 E{user::RoleRevoked{"r-1", "sales", "u-ann", kNow}}},
      Case<User>{
          "revoking a role not held changes nothing", {created()}, user::RevokeRole{"admin"}, E{}},
      Case<User>{"deactivated",
                 {created()},
                 user::Deactivate{},
                 E{user::Deactivated{"r-1", "u-ann", kNow}}},
      Case<User>{"reactivated",
                 {created(), user::Deactivated{"r-1", "u-ann", kNow}},
                 user::Reactivate{},
                 E{user::Reactivated{"r-1", "u-ann", kNow}}},
  });
  // Nobody locks themselves out.
  auto ctx = eventcrm::testing::fixed_context("u-ann");
  user::State s;
  User::apply(s, user::Created{"u-ann", "Ann", "ann@crm.example", {"admin"}, {}, {}, "x", kNow});
  auto r = User::decide(s, user::Deactivate{}, ctx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_transition);
}

TEST(ApiKeys, IssueAndRevoke) {
  using E = std::vector<api_key::Event>;
  const api_key::Issued issued{"r-1", "u-bob", "ab12cd34", kDigest, std::nullopt, "u-ann", kNow};
  run_cases<Key>({
      Case<Key>{"issued with the digest only",
                {},
                api_key::Issue{"u-bob", "ab12cd34", kDigest, std::nullopt},
                E{issued}},
      Case<Key>{"prefix, digest and expiry are checked",
                {},
                api_key::Issue{"", "AB12", "xyz", at("2026-03-01T00:00:00Z")},
                Fails{errc::validation, {}, {"user_id", "prefix", "sha256", "expires_at"}}},
      Case<Key>{"revoked at once",
                {issued},
                api_key::Revoke{},
                E{api_key::Revoked{"r-1", "u-bob", "u-ann", kNow}}},
      Case<Key>{"revoking twice changes nothing",
                {issued, api_key::Revoked{"r-1", "u-bob", "u-ann", kNow}},
                api_key::Revoke{},
                E{}},
      Case<Key>{"no such key", {}, api_key::Revoke{}, Fails{errc::not_found}},
  });
}

TEST(Roles, CustomRoles) {
  using E = std::vector<role::Event>;
  auto ctx = eventcrm::testing::fixed_context("reader");
  run_cases<Role>(
      {
          Case<Role>{
              "defined with its permissions, sorted and unique",
              {},
              role::Define{std::nullopt, {"contacts:read", "accounts:read", "accounts:read"}},
              E{role::Defined{
                  "reader", std::nullopt, {"accounts:read", "contacts:read"}, "u-ann", kNow}}},
          Case<Role>{"permissions are resource:action",
                     {},
                     role::Define{std::nullopt, {"accounts"}},
                     Fails{errc::validation, {}, {"permissions"}}},
          Case<Role>{"at least one",
                     {},
                     role::Define{std::nullopt, {}},
                     Fails{errc::validation, {}, {"permissions"}}},
          Case<Role>{
              "changed, naming the previous set",
              {role::Defined{"reader", std::nullopt, {"accounts:read"}, "u-ann", kNow}},
              role::ChangePermissions{{"accounts:read", "leads:read"}},
              E{role::PermissionsChanged{
                  "reader", {"accounts:read", "leads:read"}, {"accounts:read"}, "u-ann", kNow}}},
          Case<Role>{"the same set changes nothing",
                     {role::Defined{"reader", std::nullopt, {"accounts:read"}, "u-ann", kNow}},
                     role::ChangePermissions{{"accounts:read"}},
                     E{}},
      },
      ctx);
  // A built-in role cannot be redefined.
  role::State s;
  auto r =
      Role::decide(s, role::Define{std::nullopt, {"*"}}, eventcrm::testing::fixed_context("admin"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::validation);
}
