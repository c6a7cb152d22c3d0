// Users as listed and shown: name, email, roles, team, manager and status, with who granted the
// roles kept in the log (the user's stream), not here.
#include "projections/users.hpp"

#include <algorithm>

#include "domain/user.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace user = domain::user;

struct UserRow {
  std::string id;
  std::string name;
  std::string email;
  std::vector<std::string> roles;
  std::optional<std::string> team_id;
  std::optional<std::string> manager_id;
  std::string status = "active";  // active | inactive
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("name", s.name);
    f("email", s.email);
    f("roles", s.roles);
    f("team_id", s.team_id);
    f("manager_id", s.manager_id);
    f("status", s.status);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

class Users final : public RecordProjection<user::Aggregate, UserRow> {
 public:
  std::string name() const override { return std::string(kUsers); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return users_spec(); }

 protected:
  void update(UserRow& row, const user::Event& event, const store::RecordedEvent&) override {
    std::visit(domain::codec::overloaded{
                   [&](const user::Created& e) {
                     row.name = e.name;
                     row.email = e.email;
                     row.roles = e.roles;
                     row.team_id = e.team_id;
                     row.manager_id = e.manager_id;
                   },
                   [&](const user::ProfileChanged& e) {
                     row.name = e.name;
                     row.email = e.email;
                     row.team_id = e.team_id;
                     row.manager_id = e.manager_id;
                   },
                   [&](const user::RoleGranted& e) {
                     if (std::find(row.roles.begin(), row.roles.end(), e.role) == row.roles.end())
                       row.roles.push_back(e.role);
                   },
                   [&](const user::RoleRevoked& e) {
                     row.roles.erase(std::remove(row.roles.begin(), row.roles.end(), e.role),
                                     row.roles.end());
                   },
                   [&](const user::Deactivated&) { row.status = "inactive"; },
                   [&](const user::Reactivated&) { row.status = "active"; },
               },
               event);
  }
  records::Facets facets(const UserRow& row) const override {
    records::Facets f{{"status", row.status},
                      {"name", row.name},
                      {"email", row.email},
                      {"created_at", row.created_at.to_string()}};
    if (row.team_id)
      f.emplace_back("team_id", *row.team_id);
    if (row.manager_id)
      f.emplace_back("manager_id", *row.manager_id);
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(const UserRow& row) const override {
    return {{"name", row.name}, {"created_at", row.created_at.to_string()}};
  }
};

}  // namespace

const records::Spec& users_spec() {
  static const records::Spec spec{
      {"name", "-name", "created_at", "-created_at"},
      {"team_id", "manager_id", "status"},
      {"name", "email"},
  };
  return spec;
}

std::unique_ptr<Projection> make_users() {
  return std::make_unique<Users>();
}

}  // namespace eventcrm::projections
