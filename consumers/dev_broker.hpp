// A Kafka-protocol broker for development and tests: librdkafka's mock cluster on 127.0.0.1,
// with its fault hooks for failure tests. Not for production.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace eventcrm::consumers {

class DevBroker {
 public:
  // Starts `brokers` mock brokers and creates each topic (name, partitions).
  static Result<std::unique_ptr<DevBroker>, std::string> start(
      int brokers, const std::vector<std::pair<std::string, int>>& topics);
  virtual ~DevBroker() = default;

  virtual std::string bootstrap_servers() const = 0;
  virtual bool create_topic(const std::string& topic, int partitions) = 0;
  virtual void set_broker_down(int broker_id) = 0;  // broker ids are 1..brokers
  virtual void set_broker_up(int broker_id) = 0;
  virtual void set_broker_rtt(int broker_id, int rtt_ms) = 0;
  // The next `count` produce requests fail with a retriable error.
  virtual void fail_next_produce_requests(int count) = 0;
  virtual void set_partition_leader(const std::string& topic, int partition, int broker_id) = 0;
};

}  // namespace eventcrm::consumers
