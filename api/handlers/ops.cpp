// Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.
#include "api/metrics.hpp"
#include "api/openapi_doc.hpp"
#include "api/problem.hpp"
#include "api/router.hpp"
#include "eventstore/store.hpp"

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
  return json_response(
      200, "{\"status\":\"ready\",\"position\":" + std::to_string(ctx.store->head()) + "}");
}

Response metrics(const Request&, const Context& ctx) {
  Response res;
  res.content_type = "text/plain; version=0.0.4; charset=utf-8";
  if (ctx.metrics != nullptr)
    res.body = ctx.metrics->render(ctx.store != nullptr ? &ctx.store->stats() : nullptr,
                                   ctx.store != nullptr ? ctx.store->head() : 0);
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
