// The route table: method + path pattern → a plain handler function. Matching, 405/Allow,
// content negotiation, ETag/304 and per-route metrics labels live here, not in handlers.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/http.hpp"
#include "api/limits.hpp"
#include "common/string_map.hpp"

namespace eventcrm::store {
class EventStore;
}
namespace eventcrm::app {
class CommandRunner;
}

namespace eventcrm::api {

class Metrics;
class Extensions;
class Security;
class Workers;

std::uint64_t next_context_id() noexcept;

// What handlers may use. Owned by the server (or a test).
struct Context {
  std::uint64_t id = next_context_id();  // distinguishes servers/tests for per-thread caches
  store::EventStore* store = nullptr;
  Metrics* metrics = nullptr;
  Limits limits;
  std::atomic<bool>* draining = nullptr;  // shutting down: /readyz answers 503
  std::atomic<std::size_t>* inflight_appends = nullptr;
  std::atomic<std::size_t>* sse_subscribers = nullptr;
  Extensions* extensions = nullptr;        // projections, relay, … (null: none)
  app::CommandRunner* commands = nullptr;  // the command side (null: read-only)
  Workers* workers = nullptr;              // where blocking work runs, off the I/O threads
  // Authentication, permissions, record reach, rate limits (null: none, e.g. unit tests).
  Security* security = nullptr;
  // A read replica serves queries only; commands answer 421 naming the writer.
  bool read_replica = false;
  std::string writer_url;
};

// Completes an asynchronous handler; may be called from any thread, exactly once.
using Completion = std::function<void(Response)>;
using SyncHandler = Response (*)(const Request&, const Context&);
using AsyncHandler = void (*)(const Request&, const Context&, Completion);

// `any`: the handler negotiates itself (e.g. JSON, NDJSON or CSV exports).
enum class Produces : std::uint8_t { json, text, event_stream, any };

struct Route {
  Method method;
  std::string_view pattern;  // "/v1/streams/{stream}"
  SyncHandler sync = nullptr;
  AsyncHandler async = nullptr;
  Produces produces = Produces::json;
  bool consumes_json = false;  // requests must carry Content-Type: application/json
  std::string_view summary;
};

class Router {
 public:
  explicit Router(std::vector<Route> routes);

  // Index of the matched route, or -1 for none; fills request.params. `allow` receives the
  // methods of routes whose pattern matches when only the method is wrong.
  struct Match {
    const Route* route = nullptr;
    int index = -1;
    std::string allow;  // non-empty: path known, method not allowed
  };
  Match match(Request& req) const;

  // Runs the whole request path: match, checks, handler, then finishing touches (X-Position,
  // ETag/304). Returns the response when it is ready at once; otherwise an asynchronous
  // handler took the completion made by `make_async` and will call it later.
  std::optional<Response> dispatch(Request& req, const Context& ctx,
                                   const std::function<Completion()>& make_async) const;
  // Waits for the response, however the handler completes (tests and the fuzzer).
  Response handle(Request& req, const Context& ctx) const;

  const std::vector<Route>& routes() const noexcept { return routes_; }
  // Metrics label of a route index (-1: "unmatched").
  std::string_view label(int index) const noexcept;

  // Finishing touches applied to every response of a matched route.
  static void finish(const Request& req, const Context& ctx, Response& res);

 private:
  // dispatch() after the CORS preflight, before the security headers.
  std::optional<Response> dispatch_checked(Request& req, const Context& ctx,
                                           const std::function<Completion()>& make_async) const;

  std::vector<Route> routes_;
  // Route indices by routing key (first path segment, or "v1/<collection>"); see router.cpp.
  StringMap<std::vector<int>> by_key_;
  std::vector<int> wildcard_;
};

// The application's route table (handlers/*.cpp register theirs here).
std::vector<Route> event_routes();
std::vector<Route> ops_routes();
std::vector<Route> audit_routes();
std::vector<Route> account_routes();       // handlers/accounts.cpp
std::vector<Route> contact_routes();       // handlers/contacts.cpp
std::vector<Route> lead_routes();          // handlers/leads.cpp (incl. web-form capture)
std::vector<Route> opportunity_routes();   // handlers/opportunities.cpp
std::vector<Route> sales_report_routes();  // handlers/sales_reports.cpp (pipeline, dashboard, 360)
std::vector<Route> care_routes();          // handlers/care.cpp (activities, appointments, tasks)
std::vector<Route> commerce_routes();      // handlers/commerce.cpp (quotes, orders, contracts)
std::vector<Route> settings_routes();      // handlers/settings.cpp
std::vector<Route> marketing_routes();     // handlers/marketing.cpp (campaigns, /t/{code}, ROI)
std::vector<Route> security_routes();      // handlers/security.cpp (users, roles, api keys, me)
std::vector<Route> inventory_routes();     // handlers/inventory.cpp (products, stock, vouchers)
Router make_router();

}  // namespace eventcrm::api
