// Settings over HTTP: the administrator's switches (assignment notifications, the reporting
// currency) as commands on the one settings stream, and their current values folded from it.
// Decisions are domain/settings.cpp's; reading folds the stream on the workers (snapshotted).
#include "domain/settings.hpp"
#include "api/handlers/command.hpp"
#include "api/problem.hpp"

namespace eventcrm::api {
namespace {

namespace settings = domain::settings;
using Aggregate = settings::Aggregate;
constexpr std::string_view kCollection = "settings";

void change(const Request& req, const Context& ctx, Completion done, std::string_view key,
            std::string value, const json::Value& body) {
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  command::run<Aggregate>(ctx, std::move(done), std::string(settings::kGlobalId),
                          settings::Change{std::string(key), std::move(value)}, std::move(options),
                          kCollection, false);
}

void put_notifications(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"assignment_enabled"});
  auto enabled = f.flag("assignment_enabled");
  if (!enabled && f.ok())
    f.fail("assignment_enabled", "is required");
  f.text("reason", false, 1000);
  if (!f.ok())
    return done(f.problem());
  change(req, ctx, std::move(done), settings::kAssignmentNotifications, *enabled ? "true" : "false",
         body);
}

void put_reporting(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"currency"});
  auto currency = f.text("currency", true, 3);
  if (currency && !domain::valid_currency(*currency))
    f.fail("currency", "must be an ISO 4217 code, e.g. \"VND\"");
  f.text("reason", false, 1000);
  if (!f.ok())
    return done(f.problem());
  change(req, ctx, std::move(done), settings::kReportingCurrency, *currency, body);
}

void get(const Request&, const Context& ctx, Completion done) {
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done), [runner]() -> Response {
    auto loaded = runner->load<Aggregate>(settings::kGlobalId);
    if (!loaded)
      return command::from_app_error(loaded.error());
    const settings::State& s = loaded->state;
    std::string b = "{\"notifications\":{\"assignment_enabled\":";
    b += s.assignment_notifications() ? "true" : "false";
    b += "},\"reporting\":{\"currency\":";
    json::write_string(b, s.reporting_currency());
    b += "},\"version\":" + std::to_string(loaded->version) + "}";
    Response res = json_response(200, std::move(b));
    // The stream's version: what a PUT's If-Match names (none before the first change).
    if (loaded->version >= 0) {
      std::string etag = "\"";  // built in steps: GCC 12 -O3 misreads "x" + std::string&&
      etag += std::to_string(loaded->version);
      etag += '"';
      res.set_header("ETag", std::move(etag));
    }
    return res;
  });
}

}  // namespace

std::vector<Route> settings_routes() {
  return {
      {Method::get, "/v1/settings", nullptr, get, Produces::json, false, "The current settings"},
      {Method::put, "/v1/settings/notifications", nullptr, put_notifications, Produces::json, true,
       "Switch assignment notifications on or off"},
      {Method::put, "/v1/settings/reporting", nullptr, put_reporting, Produces::json, true,
       "Set the currency the sales reports sum in"},
  };
}

}  // namespace eventcrm::api
