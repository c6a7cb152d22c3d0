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
  std::vector<double> latencies_ms;  // acknowledged → received, one per matched message
  std::size_t sent = 0;              // acknowledged sends
  std::size_t failures = 0;          // sends that were not acknowledged
  double send_seconds = 0;           // how long the sends took (the achieved rate's divisor)
};

struct LatencyOptions {
  std::string bootstrap;
  std::string topic;
  std::string key_header = "ce_id";  // the header that carries what `send` returns
  int rate = 5'000;                  // sends per second, over all senders
  double seconds = 5;
  int senders = 1;  // threads sending concurrently (sender s makes sends s, s + senders, …)
};

// send(i, sender) makes the i-th acknowledged write and returns the value its record will
// carry in `key_header` (empty on failure).
using LatencySend = std::function<std::string(std::size_t, std::size_t)>;

// Paces `send` at `rate` per second while a consumer reads `topic` from its end; measures the
// time from each send's acknowledgment (its return) to the record's receipt.
Result<LatencyRun, std::string> append_to_consume_latency(const LatencyOptions& options,
                                                          const LatencySend& send);

}  // namespace eventcrm::consumers
