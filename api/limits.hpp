// Server limits: plain values with documented defaults, shared by the session and handlers.
#pragma once

#include <chrono>
#include <cstddef>

namespace eventcrm::api {

struct Limits {
  std::size_t max_body_bytes = 1u << 20;              // larger request bodies → 413
  std::size_t max_header_bytes = 8u << 10;            // larger request headers → 431
  std::chrono::milliseconds request_timeout{10'000};  // to read one request's header + body
  std::chrono::milliseconds idle_timeout{60'000};     // keep-alive connection with no request
  std::chrono::milliseconds write_timeout{10'000};    // to write one response (slow readers)
  std::size_t max_connections = 10'000;               // more are answered 503 and closed
  std::size_t max_pipelined = 16;     // requests queued per connection before reading stops
  std::size_t max_page_size = 1'000;  // maximum `limit` on event reads
  std::size_t default_page_size = 100;
  std::size_t max_inflight_appends = 10'000;  // appends awaiting durability → 429 beyond
  std::size_t max_sse_subscribers = 1'000;    // → 503 beyond
  std::chrono::milliseconds sse_heartbeat{15'000};
  std::chrono::milliseconds shutdown_grace{10'000};  // in-flight requests finish within this
};

}  // namespace eventcrm::api
