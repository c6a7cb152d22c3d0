// Request and server metrics, rendered in the Prometheus text format for GET /metrics.
// Lock-free to record from any I/O thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace eventcrm::store {
struct StoreStats;
}

namespace eventcrm::api {

class Metrics {
 public:
  // Route labels in route-table order; one more "unmatched" label is added.
  explicit Metrics(std::vector<std::string> route_labels);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // route: index into the labels, -1 for unmatched.
  void record(int route, int status, double seconds) noexcept;

  std::atomic<std::int64_t> open_connections{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::int64_t> sse_subscribers{0};
  std::atomic<std::uint64_t> sse_dropped{0};
  std::atomic<std::uint64_t> sse_events_sent{0};
  std::atomic<std::uint64_t> appends{0};
  std::atomic<std::uint64_t> appended_events{0};

  // The whole exposition; `stats` may be null (no store).
  std::string render(const store::StoreStats* stats, std::uint64_t head);

 private:
  struct Series;
  std::vector<std::string> labels_;
  std::vector<std::unique_ptr<Series[]>> series_;  // [route][status slot]
  std::mutex rate_mu_;
  std::uint64_t last_events_ = 0;
  std::chrono::steady_clock::time_point last_time_;
  double last_rate_ = 0.0;
};

}  // namespace eventcrm::api
