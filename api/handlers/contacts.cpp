// Contacts over HTTP: create (with duplicate detection on email and phone, app/duplicates.hpp),
// edit, assign an owner, link to / unlink from an account, archive; detail and list queries.
// Commands are decided in domain/contact.cpp; the read model is projections/contacts.cpp.
#include "projections/contacts.hpp"
#include "api/handlers/command.hpp"
#include "api/handlers/forget.hpp"
#include "api/handlers/query.hpp"
#include "app/duplicates.hpp"
#include "domain/account.hpp"
#include "domain/contact.hpp"

namespace eventcrm::api {
namespace {

namespace contact = domain::contact;
using Aggregate = contact::Aggregate;
constexpr std::string_view kCollection = "contacts";

const query::Collection& collection() {
  static const query::Collection c{kCollection,
                                   projections::kContacts,
                                   &projections::contacts_spec(),
                                   {"account_id", "owner_id", "status"},
                                   {"created_at"}};
  return c;
}

contact::Profile read_profile(command::Fields& f) {
  contact::Profile p;
  p.first_name = f.text("first_name", false);
  p.last_name = f.text("last_name", false);
  p.email = f.text("email", false, 320);
  p.phone = f.text("phone", false, 50);
  p.title = f.text("title", false);
  return p;
}

#define EVENTCRM_PROFILE_FIELDS "first_name", "last_name", "email", "phone", "title"

Response no_account() {
  return problem(errc::validation_failed, "the account does not exist",
                 {{"account_id", "no such account"}});
}

void create(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {EVENTCRM_PROFILE_FIELDS, "account_id", "owner_id", "force"});
  contact::Create c;
  c.profile = read_profile(f);
  if (!c.profile.last_name)
    f.fail("last_name", "is required");
  c.account_id = f.text("account_id", false);
  c.owner_id = f.text("owner_id", false);
  bool force = f.flag("force").value_or(false);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  auto identities = app::identities_of(c.profile.email, c.profile.phone);
  const Context* context = &ctx;
  command::submit(
      ctx, std::move(done),
      [context, id = std::move(id), c = std::move(c), identities = std::move(identities), force,
       options = std::move(options)]() -> Response {
        if (c.account_id && !c.account_id->empty() &&
            !command::exists(*context, domain::account::kCategory, *c.account_id))
          return no_account();
        auto r =
            app::create_unique<Aggregate>(*context->commands, id, c, identities, force, options);
        if (!r)
          return command::from_app_error(r.error());
        return command::result(*r, kCollection, true);
      });
}

void update(const Request& req, const Context& ctx, Completion done) {
  command::action<Aggregate>(req, ctx, std::move(done), {EVENTCRM_PROFILE_FIELDS}, kCollection,
                             [](command::Fields& f) -> std::optional<contact::Command> {
                               return contact::Update{read_profile(f)};
                             });
}

void assign(const Request& req, const Context& ctx, Completion done) {
  command::action<Aggregate>(req, ctx, std::move(done), {"owner_id"}, kCollection,
                             [](command::Fields& f) -> std::optional<contact::Command> {
                               auto owner = f.text("owner_id", true);
                               if (!owner)
                                 return std::nullopt;
                               return contact::AssignOwner{*owner};
                             });
}

void link(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"account_id"});
  auto account = f.text("account_id", true);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  const Context* context = &ctx;
  command::submit(
      ctx, std::move(done),
      [context, id = req.params.at(0), account = *account,
       options = std::move(options)]() -> Response {
        if (!account.empty() && !command::exists(*context, domain::account::kCategory, account))
          return no_account();
        auto r = context->commands->run<Aggregate>(id, contact::LinkAccount{account}, options);
        if (!r)
          return command::from_app_error(r.error());
        return command::result(*r, kCollection, false);
      });
}

void unlink(const Request& req, const Context& ctx, Completion done) {
  command::action<Aggregate>(
      req, ctx, std::move(done), {}, kCollection,
      [](command::Fields&) -> std::optional<contact::Command> { return contact::UnlinkAccount{}; });
}

void archive(const Request& req, const Context& ctx, Completion done) {
  command::action<Aggregate>(req, ctx, std::move(done), {}, kCollection,
                             [](command::Fields& f) -> std::optional<contact::Command> {
                               return contact::Archive{f.text("reason", false, 1000)};
                             });
}

void forget(const Request& req, const Context& ctx, Completion done) {
  command::forget<Aggregate>(req, ctx, std::move(done), contact::Forget{}, kCollection);
}

void get(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), collection());
}

void list(const Request& req, const Context& ctx, Completion done) {
  query::list(req, ctx, std::move(done), collection());
}

}  // namespace

std::vector<Route> contact_routes() {
  return {
      {Method::post, "/v1/contacts", nullptr, create, Produces::json, true, "Create a contact"},
      {Method::get, "/v1/contacts", nullptr, list, Produces::json, false, "List contacts"},
      {Method::get, "/v1/contacts/{id}", nullptr, get, Produces::json, false, "A contact"},
      {Method::patch, "/v1/contacts/{id}", nullptr, update, Produces::json, true, "Edit a contact"},
      {Method::post, "/v1/contacts/{id}/assign", nullptr, assign, Produces::json, true,
       "Assign a contact's owner"},
      {Method::post, "/v1/contacts/{id}/link", nullptr, link, Produces::json, true,
       "Link a contact to an account"},
      {Method::post, "/v1/contacts/{id}/unlink", nullptr, unlink, Produces::json, true,
       "Unlink a contact from its account"},
      {Method::post, "/v1/contacts/{id}/archive", nullptr, archive, Produces::json, true,
       "Archive a contact"},
      {Method::post, "/v1/contacts/{id}/forget", nullptr, forget, Produces::json, true,
       "Erase a contact's personal data (GDPR)"},
  };
}

}  // namespace eventcrm::api
