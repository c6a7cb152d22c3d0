// The HTTP server's public face for tools/: plain options and a blocking run function.
// No Beast or Asio here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/limits.hpp"

namespace eventcrm::api {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: an ephemeral port, printed as "listening on ADDR:PORT"
  std::string data_dir = "./data";
  unsigned io_threads = 2;
  std::string durability = "sync";  // sync|relaxed
  Limits limits;
  std::string log_level = "info";   // trace|debug|info|warn|error|off
  std::string log_format = "text";  // text|json
  bool access_log = true;
};

// Opens the store, serves until SIGTERM/SIGINT (a second signal forces), drains in-flight
// requests, closes the store. Returns the process exit code.
int run_server(const ServerOptions& options);

// "METHOD /pattern" for every route the router knows, in table order.
std::vector<std::string> route_list();

}  // namespace eventcrm::api
