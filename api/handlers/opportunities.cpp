// Opportunities over HTTP: create, change stage, edit, win, lose, reopen, assign; detail and list
// queries. Decisions (including which transitions are allowed) are domain/opportunity.cpp's; the
// read model is projections/opportunities.cpp.
#include "projections/opportunities.hpp"
#include "api/handlers/command.hpp"
#include "api/handlers/query.hpp"
#include "domain/account.hpp"
#include "domain/contact.hpp"
#include "domain/opportunity.hpp"

namespace eventcrm::api {
namespace {

namespace opportunity = domain::opportunity;
using Aggregate = opportunity::Aggregate;
constexpr std::string_view kCollection = "opportunities";

const query::Collection& collection() {
  static const query::Collection c{
      kCollection,
      projections::kOpportunities,
      &projections::opportunities_spec(),
      {"account_id", "owner_id", "stage", "status", "campaign_id", "contact_id", "currency"},
      {"expected_close_date", "closed_on", "created_at"}};
  return c;
}

// Parses the body and the envelope common to every command; false when `done` was answered.
bool begin(const Request& req, json::Value& body, Completion& done) {
  if (auto bad = command::parse_object(req, body)) {
    done(std::move(*bad));
    return false;
  }
  return true;
}

bool envelope(const Request& req, const json::Value& body, app::CommandOptions& options,
              Completion& done) {
  if (auto bad = command::read_envelope(req, &body, options)) {
    done(std::move(*bad));
    return false;
  }
  return true;
}

void run(const Request& req, const Context& ctx, Completion done, opportunity::Command cmd,
         app::CommandOptions options) {
  command::run<Aggregate>(ctx, std::move(done), req.params.at(0), std::move(cmd),
                          std::move(options), kCollection, false);
}

void create(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (!begin(req, body, done))
    return;
  command::Fields f(body, {"account_id", "name", "amount", "expected_close_date", "stage",
                           "probability", "owner_id", "campaign_id", "contact_id"});
  opportunity::Create c;
  auto account = f.text("account_id", true);
  auto name = f.text("name", true);
  auto amount = f.money("amount", true);
  c.expected_close_date = f.date("expected_close_date", true);
  c.stage = f.text("stage", false, 50);
  if (auto p = f.integer("probability", false, 0, 100))
    c.probability = static_cast<int>(*p);
  c.owner_id = f.text("owner_id", false);
  c.campaign_id = f.text("campaign_id", false);
  c.contact_id = f.text("contact_id", false);
  if (!f.ok())
    return done(f.problem());
  c.account_id = *account;
  c.name = *name;
  c.amount = *amount;
  app::CommandOptions options;
  if (!envelope(req, body, options, done))
    return;
  if (ctx.commands == nullptr)
    return done(problem(errc::unavailable, "this server does not accept commands"));
  std::string id = ctx.commands->new_id(options);
  std::vector<command::Reference> refs{{"account_id", domain::account::kCategory, c.account_id},
                                       {"contact_id", domain::contact::kCategory, c.contact_id}};
  command::run_with_references<Aggregate>(ctx, std::move(done), std::move(id), std::move(c),
                                          std::move(refs), std::move(options), kCollection, true);
}

void update(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (!begin(req, body, done))
    return;
  command::Fields f(body, {"name", "amount", "expected_close_date", "probability"});
  opportunity::Update c;
  c.name = f.text("name", false);
  c.amount = f.money("amount", false);
  c.expected_close_date = f.date("expected_close_date", false);
  if (auto p = f.integer("probability", false, 0, 100))
    c.probability = static_cast<int>(*p);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (!envelope(req, body, options, done))
    return;
  run(req, ctx, std::move(done), std::move(c), std::move(options));
}

void change_stage(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (!begin(req, body, done))
    return;
  command::Fields f(body, {"stage", "probability"});
  opportunity::ChangeStage c;
  auto stage = f.text("stage", true, 50);
  if (auto p = f.integer("probability", false, 0, 100))
    c.probability = static_cast<int>(*p);
  f.text("reason", false, 1000);
  if (!f.ok())
    return done(f.problem());
  c.stage = *stage;
  app::CommandOptions options;
  if (!envelope(req, body, options, done))
    return;
  // Moving to "lost" needs a reason: the body's or X-Reason.
  if (!options.metadata.reason.empty())
    c.reason = options.metadata.reason;
  run(req, ctx, std::move(done), std::move(c), std::move(options));
}

void win(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (!begin(req, body, done))
    return;
  command::Fields f(body, {});
  f.text("reason", false, 1000);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (!envelope(req, body, options, done))
    return;
  run(req, ctx, std::move(done), opportunity::Win{}, std::move(options));
}

void lose(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (!begin(req, body, done))
    return;
  command::Fields f(body, {});
  auto reason = f.text("reason", true, 1000);
  if (reason && reason->empty())
    f.fail("reason", "must not be empty");
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (!envelope(req, body, options, done))
    return;
  run(req, ctx, std::move(done), opportunity::Lose{*reason}, std::move(options));
}

void reopen(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (!begin(req, body, done))
    return;
  command::Fields f(body, {"stage"});
  opportunity::Reopen c;
  c.stage = f.text("stage", false, 50);
  f.text("reason", false, 1000);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (!envelope(req, body, options, done))
    return;
  run(req, ctx, std::move(done), std::move(c), std::move(options));
}

void assign(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (!begin(req, body, done))
    return;
  command::Fields f(body, {"owner_id"});
  auto owner = f.text("owner_id", true);
  if (owner && owner->empty())
    f.fail("owner_id", "must not be empty");
  f.text("reason", false, 1000);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (!envelope(req, body, options, done))
    return;
  run(req, ctx, std::move(done), opportunity::Assign{*owner}, std::move(options));
}

void get(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), collection());
}

void list(const Request& req, const Context& ctx, Completion done) {
  query::list(req, ctx, std::move(done), collection());
}

}  // namespace

std::vector<Route> opportunity_routes() {
  return {
      {Method::post, "/v1/opportunities", nullptr, create, Produces::json, true,
       "Create an opportunity"},
      {Method::get, "/v1/opportunities", nullptr, list, Produces::json, false,
       "List opportunities"},
      {Method::get, "/v1/opportunities/{id}", nullptr, get, Produces::json, false,
       "An opportunity"},
      {Method::patch, "/v1/opportunities/{id}", nullptr, update, Produces::json, true,
       "Edit an opportunity's name, amount, close date or probability"},
      {Method::post, "/v1/opportunities/{id}/change-stage", nullptr, change_stage, Produces::json,
       true, "Move an opportunity to another stage"},
      {Method::post, "/v1/opportunities/{id}/win", nullptr, win, Produces::json, true,
       "Mark an opportunity won"},
      {Method::post, "/v1/opportunities/{id}/lose", nullptr, lose, Produces::json, true,
       "Mark an opportunity lost"},
      {Method::post, "/v1/opportunities/{id}/reopen", nullptr, reopen, Produces::json, true,
       "Reopen a won or lost opportunity"},
      {Method::post, "/v1/opportunities/{id}/assign", nullptr, assign, Produces::json, true,
       "Assign an opportunity to a sales rep"},
  };
}

}  // namespace eventcrm::api
