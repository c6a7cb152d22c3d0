// Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.
#include "api/metrics.hpp"
#include "api/openapi_doc.hpp"
#include "api/problem.hpp"
#include "api/router.hpp"
#include "api/security.hpp"
#include "api/server.hpp"
#include "eventstore/cloudevents.hpp"
#include "eventstore/store.hpp"
#include "projections/runtime.hpp"

namespace eventcrm::api {

namespace {

Response healthz(const Request&, const Context&) {
  return json_response(200, "{\"status\":\"ok\"}");
}

Response readyz(const Request&, const Context& ctx) {
  if (ctx.store == nullptr)
    return problem(errc::not_ready, "the event store is not open");
  if (ctx.draining != nullptr && ctx.draining->load())
    return problem(errc::not_ready, "the server is shutting down");
  if (ctx.store->stats().writes_stopped.load()) {
    return problem(errc::not_ready,
                   "the event store stopped taking writes after a failed WAL write or sync; "
                   "check the disk, then restart the server");
  }
  std::string detail;
  if (ctx.extensions != nullptr) {
    if (auto why = ctx.extensions->not_ready_reason(); !why.empty())
      return problem(errc::not_ready, why);
    detail = ctx.extensions->readiness_detail();
  }
  std::string body = "{\"status\":\"ready\",\"position\":" + std::to_string(ctx.store->head());
  if (!detail.empty())
    body += "," + detail;
  return json_response(200, body + "}");
}

// Per projection: lag in positions and seconds, and whether it failed (Prometheus families).
void projection_metrics(const projections::Runtime& rt, std::string& out) {
  auto all = rt.status();
  auto family = [&](const char* name, const char* help, auto value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
    for (const auto& s : all) {
      out += name;
      out += "{projection=";
      store::append_json_string(out, s.name);
      out += "} " + value(s) + "\n";
    }
  };
  family("eventcrm_projection_lag_events", "Log positions the projection is behind the head.",
         [](const projections::ProjectionStatus& s) { return std::to_string(s.lag_events); });
  family("eventcrm_projection_lag_seconds", "Age of the oldest event not yet applied.",
         [](const projections::ProjectionStatus& s) { return std::to_string(s.lag_seconds); });
  family("eventcrm_projection_checkpoint", "Log position the served read model reflects.",
         [](const projections::ProjectionStatus& s) { return std::to_string(s.checkpoint); });
  family("eventcrm_projection_failed", "1 when the projection stopped on a poison event.",
         [](const projections::ProjectionStatus& s) {
           return std::string(s.state == projections::State::failed ? "1" : "0");
         });
  out +=
      "# HELP eventcrm_projection_recovery_dropped_commits Read-model commits not replayed at the "
      "last open because an earlier commit of the same read model was lost from the WAL (a power "
      "cut); their events were applied again. 0 normally.\n"
      "# TYPE eventcrm_projection_recovery_dropped_commits gauge\n"
      "eventcrm_projection_recovery_dropped_commits " +
      std::to_string(rt.recovery_dropped_commits()) + "\n";
}

Response metrics(const Request&, const Context& ctx) {
  Response res;
  res.content_type = "text/plain; version=0.0.4; charset=utf-8";
  if (ctx.metrics != nullptr)
    res.body = ctx.metrics->render(ctx.store != nullptr ? &ctx.store->stats() : nullptr,
                                   ctx.store != nullptr ? ctx.store->head() : 0);
  if (ctx.extensions != nullptr) {
    if (const auto* rt = ctx.extensions->projections())
      projection_metrics(*rt, res.body);
    ctx.extensions->metrics(res.body);
  }
  if (ctx.security != nullptr)
    ctx.security->metrics(res.body);
  res.set_header("Cache-Control", "no-store");
  return res;
}

Response openapi(const Request&, const Context&) {
  Response res;
  res.content_type = "application/json";
  res.body = std::string(openapi_json());
  return res;
}

}  // namespace

std::vector<Route> ops_routes() {
  return {
      {Method::get, "/healthz", healthz, nullptr, Produces::json, false, "Liveness"},
      {Method::get, "/readyz", readyz, nullptr, Produces::json, false, "Readiness"},
      {Method::get, "/metrics", metrics, nullptr, Produces::text, false, "Prometheus metrics"},
      {Method::get, "/openapi.json", openapi, nullptr, Produces::json, false,
       "This API's OpenAPI 3.1 document"},
  };
}

}  // namespace eventcrm::api
