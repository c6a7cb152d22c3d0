// libFuzzer target for the request path: raw HTTP bytes → Beast parser (with the server's
// limits) → router (authentication: API keys and JWTs, permissions) → handlers and the strict
// JSON decoding, against a real store in a temp dir.
#include <boost/asio/buffer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "api/json.hpp"
#include "api/metrics.hpp"
#include "api/router.hpp"
#include "api/security.hpp"
#include "app/command_runner.hpp"
#include "common/clock.hpp"
#include "eventstore/store.hpp"
#include "fuzz_store.hpp"

namespace {

namespace http = boost::beast::http;
using namespace eventcrm;

struct World {
  std::unique_ptr<store::EventStore> store;
  api::Router router = api::make_router();
  std::unique_ptr<api::Metrics> metrics;
  api::Context ctx;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> inflight{0}, sse{0};
  SystemClock clock;
  app::RandomIdGenerator ids;
  std::unique_ptr<app::CommandRunner> runner;
  std::unique_ptr<api::Security> security;  // after the store: stopped before it closes

  World() {
    auto opened = fuzz::open_fuzz_store("fuzz");
    const auto dir = opened.dir;
    store = std::move(opened.store);
    std::vector<std::string> labels;
    for (const auto& r : router.routes())
      labels.emplace_back(r.pattern);
    metrics = std::make_unique<api::Metrics>(labels);
    ctx.store = store.get();
    ctx.metrics = metrics.get();
    ctx.draining = &draining;
    ctx.inflight_appends = &inflight;
    ctx.sse_subscribers = &sse;
    // Authentication on, with the administrator key of the seed corpus and an HS256 JWT key
    // (secret "fuzz-secret-fuzz-secret-fuzz-secret!"); no rate limits, so every input reaches
    // the handlers it names.
    api::SecurityOptions so;
    so.bootstrap_admin_key = "eck_fuzzadm1_fuzz-admin-key-0123456789";
    so.principal_rate = so.address_rate = so.auth_failure_per_minute = 0;
    so.jwt_keys_file = (dir / "jwt.json").string();
    std::ofstream(so.jwt_keys_file)
        << R"({"keys":[{"kid":"k","alg":"HS256","secret":"ZnV6ei1zZWNyZXQtZnV6ei1zZWNyZXQtZnV6ei1zZWNyZXQh"}]})";
    runner = std::make_unique<app::CommandRunner>(*store, clock, ids);
    security = std::make_unique<api::Security>(so);
    std::string error;
    if (!security->start(*store, error) || !security->bootstrap(*runner, error))
      std::abort();
    ctx.security = security.get();
    // Initialise OpenSSL's per-thread state and the hashing context on this thread now (the
    // audit route hashes here), so libFuzzer's per-input leak check does not count them.
    (void)store->verify();
  }
};

World& world() {
  static World w;
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  // The JSON layer on its own, on the raw bytes.
  (void)api::json::decode(std::string_view(reinterpret_cast<const char*>(data), size));

  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(data, size), ec);
  (void)used;
  if (ec || !parser.is_done())
    return 0;
  auto& msg = parser.get();

  std::vector<api::HeaderField> headers;
  for (const auto& f : msg)
    headers.emplace_back(f.name_string(), f.value());
  api::Request req;
  req.method = api::parse_method(msg.method_string());
  req.target = msg.target();
  auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string_view::npos)
    req.query = req.target.substr(q + 1);
  req.body = msg.body();
  req.headers = headers;
  api::Response res = w.router.handle(req, w.ctx);
  // Invariants: never a server error for any input, and every error is a problem document.
  if (res.status >= 500 && res.status != 503)
    std::abort();
  if (res.status >= 400 && res.content_type != "application/problem+json")
    std::abort();
  return 0;
}
