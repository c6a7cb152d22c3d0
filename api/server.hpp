// The HTTP server's public face for tools/: plain options and a blocking run function.
// No Beast or Asio here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/limits.hpp"
#include "api/security.hpp"

namespace eventcrm::store {
class EventStore;
}
namespace eventcrm::app {
class Tracking;
}
namespace eventcrm::projections {
class Runtime;
}

namespace eventcrm::api {

// What the composition root (tools/) runs beside the server once the store is open: the
// projection workers, the Kafka relay, inbound consumers. The server asks it for the read
// models, for extra /metrics lines and for readiness; it stops it before closing the store.
class Extensions {
 public:
  virtual ~Extensions() = default;
  virtual projections::Runtime* projections() { return nullptr; }
  // Tracking links and the click recorder (GET /t/{code}); null: clicks are not served.
  virtual app::Tracking* tracking() { return nullptr; }
  // Appends Prometheus text-format families (with HELP and TYPE) to /metrics.
  virtual void metrics(std::string& /*out*/) {}
  // Non-empty: why the server is not ready (/readyz answers 503 with it).
  virtual std::string not_ready_reason() { return {}; }
  // Extra fields for the /readyz body: `"name":value` pairs without braces, or empty.
  virtual std::string readiness_detail() { return {}; }
  virtual void stop() {}
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: an ephemeral port, printed as "listening on ADDR:PORT"
  std::string data_dir = "./data";
  // 0: twice the cores (at least 2). More I/O threads than cores pays on small machines: a
  // thread preempted in a send (the loopback peer wakes) does not hold up its connections'
  // neighbours (tools/bench/clicks.sh, 2 cores: 4 threads ~10% ahead of 2).
  unsigned io_threads = 0;
  // Threads that run commands and consistency waits (they block on the log's group commit, so
  // there are many; a group commit gathers the appends of all of them).
  unsigned command_threads = 64;
  bool read_replica = false;  // serve queries only; commands answer 421 naming writer_url
  std::string writer_url;
  std::string durability = "sync";  // sync|relaxed
  // MB of zeros each WAL file is written with ahead of time (store::Options::wal_spare_bytes).
  std::uint64_t wal_spare_mb = 64;
  Limits limits;
  std::string log_level = "info";   // trace|debug|info|warn|error|off
  std::string log_format = "text";  // text|json
  bool access_log = true;
  SecurityOptions security;
  // TLS on the listener (PEM files); empty: plain HTTP.
  std::string tls_cert;
  std::string tls_key;
  // Called once the store is open; may fail with a message (the server then exits).
  std::function<std::unique_ptr<Extensions>(store::EventStore&, std::string& error)> extensions;
};

// Opens the store, serves until SIGTERM/SIGINT (a second signal forces), drains in-flight
// requests, closes the store. Returns the process exit code.
int run_server(const ServerOptions& options);

// "METHOD /pattern" for every route the router knows, in table order.
std::vector<std::string> route_list();
// The OpenAPI document GET /openapi.json serves.
std::string openapi_document();
// Markdown: every route with the permission it needs, then the built-in role × permission matrix
// (api/permissions.cpp), for the README.
std::string permission_matrix();

}  // namespace eventcrm::api
