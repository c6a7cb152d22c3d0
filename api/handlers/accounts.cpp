// Accounts over HTTP: create, edit, assign an owner, archive; detail and list queries.
// Commands are decided in domain/account.cpp and run by app::CommandRunner; the read model is
// projections/accounts.cpp.
#include "projections/accounts.hpp"
#include "api/handlers/command.hpp"
#include "api/handlers/forget.hpp"
#include "api/handlers/query.hpp"
#include "app/duplicates.hpp"
#include "domain/account.hpp"

namespace eventcrm::api {
namespace {

namespace account = domain::account;
using Aggregate = account::Aggregate;
constexpr std::string_view kCollection = "accounts";

const query::Collection& collection() {
  static const query::Collection c{kCollection,
                                   projections::kAccounts,
                                   &projections::accounts_spec(),
                                   {"owner_id", "status", "industry"},
                                   {"created_at"}};
  return c;
}

account::Profile read_profile(command::Fields& f) {
  account::Profile p;
  p.name = f.text("name", false);
  p.industry = f.text("industry", false);
  p.website = f.text("website", false, 500);
  p.email = f.text("email", false, 320);
  p.phone = f.text("phone", false, 50);
  p.tax_id = f.text("tax_id", false, 50);
  p.address = f.text("address", false, 1000);
  return p;
}

#define EVENTCRM_PROFILE_FIELDS "name", "industry", "website", "email", "phone", "tax_id", "address"

void create(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {EVENTCRM_PROFILE_FIELDS, "owner_id", "force"});
  account::Create c;
  c.profile = read_profile(f);
  if (!c.profile.name)
    f.fail("name", "is required");
  c.owner_id = f.text("owner_id", false);
  bool force = f.flag("force").value_or(false);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  // Duplicate detection on the normalised email, phone and tax id (app/duplicates.hpp).
  auto identities = app::identities_of(c.profile.email, c.profile.phone, c.profile.tax_id);
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = std::move(id), c = std::move(c), identities = std::move(identities),
                   force, options = std::move(options)]() -> Response {
                    auto r =
                        app::create_unique<Aggregate>(*runner, id, c, identities, force, options);
                    if (!r)
                      return command::from_app_error(r.error());
                    return command::result(*r, kCollection, true);
                  });
}

void update(const Request& req, const Context& ctx, Completion done) {
  command::action<Aggregate>(req, ctx, std::move(done), {EVENTCRM_PROFILE_FIELDS}, kCollection,
                             [](command::Fields& f) -> std::optional<account::Command> {
                               return account::Update{read_profile(f)};
                             });
}

void assign(const Request& req, const Context& ctx, Completion done) {
  command::action<Aggregate>(req, ctx, std::move(done), {"owner_id"}, kCollection,
                             [](command::Fields& f) -> std::optional<account::Command> {
                               auto owner = f.text("owner_id", true);
                               if (!owner)
                                 return std::nullopt;
                               return account::AssignOwner{*owner};
                             });
}

void archive(const Request& req, const Context& ctx, Completion done) {
  command::action<Aggregate>(req, ctx, std::move(done), {}, kCollection,
                             [](command::Fields& f) -> std::optional<account::Command> {
                               return account::Archive{f.text("reason", false, 1000)};
                             });
}

void forget(const Request& req, const Context& ctx, Completion done) {
  command::forget<Aggregate>(req, ctx, std::move(done), account::Forget{}, kCollection);
}

void get(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), collection());
}

void list(const Request& req, const Context& ctx, Completion done) {
  query::list(req, ctx, std::move(done), collection());
}

}  // namespace

std::vector<Route> account_routes() {
  return {
      {Method::post, "/v1/accounts", nullptr, create, Produces::json, true, "Create an account"},
      {Method::get, "/v1/accounts", nullptr, list, Produces::json, false, "List accounts"},
      {Method::get, "/v1/accounts/{id}", nullptr, get, Produces::json, false, "An account"},
      {Method::patch, "/v1/accounts/{id}", nullptr, update, Produces::json, true,
       "Edit an account's profile"},
      {Method::post, "/v1/accounts/{id}/assign", nullptr, assign, Produces::json, true,
       "Assign an account's owner"},
      {Method::post, "/v1/accounts/{id}/archive", nullptr, archive, Produces::json, true,
       "Archive an account"},
      {Method::post, "/v1/accounts/{id}/forget", nullptr, forget, Produces::json, true,
       "Erase the personal data of an account that is a person (GDPR)"},
  };
}

}  // namespace eventcrm::api
