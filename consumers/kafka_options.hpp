// How to reach Kafka: bootstrap servers plus any librdkafka property (SASL/SSL included), so a
// real cluster is a configuration change.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace eventcrm::consumers {

struct KafkaOptions {
  std::string brokers;  // bootstrap.servers, e.g. "127.0.0.1:9092"
  std::vector<std::pair<std::string, std::string>> properties;  // passed through to librdkafka
};

// Parses "key=value"; false when there is no '=' or the key is empty.
bool parse_property(const std::string& kv, std::pair<std::string, std::string>& out);

}  // namespace eventcrm::consumers
