// Benchmark clients for Kafka figures (kept here because librdkafka stays in consumers/).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace eventcrm::consumers {

// Produces `count` messages of `size` bytes with the relay's producer settings (idempotent,
// acks=all) and waits for every delivery report; returns messages per second.
Result<double, std::string> raw_producer_rate(const std::string& bootstrap,
                                              const std::string& topic, std::size_t count,
                                              std::size_t size);

struct LatencyRun {
  std::vector<double> latencies_ms;  // one per received message
  std::size_t sent = 0;
};

// Calls `send(i)` at `rate` per second for `seconds` (it returns the id that will arrive as the
// ce_id header) while a consumer reads `topic` from its end; measures send → receipt.
Result<LatencyRun, std::string> append_to_consume_latency(
    const std::string& bootstrap, const std::string& topic, int rate, double seconds,
    const std::function<std::string(std::size_t)>& send);

}  // namespace eventcrm::consumers
