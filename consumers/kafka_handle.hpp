// Internal: RAII ownership of librdkafka handles and configuration.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

#include "consumers/kafka_options.hpp"

namespace eventcrm::consumers::detail {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;

// A configuration with the bootstrap servers and every pass-through property applied, after
// `defaults` (so users can override our defaults). On error, returns null and sets `error`.
inline ConfPtr make_conf(const KafkaOptions& k,
                         std::initializer_list<std::pair<const char*, const char*>> defaults,
                         std::string& error) {
  ConfPtr conf(rd_kafka_conf_new());
  char err[512];
  auto set = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
      error = "kafka property " + key + ": " + err;
      return false;
    }
    return true;
  };
  if (!k.brokers.empty() && !set("bootstrap.servers", k.brokers))
    return nullptr;
  for (const auto& [key, value] : defaults) {
    if (!set(key, value))
      return nullptr;
  }
  for (const auto& [key, value] : k.properties) {
    if (!set(key, value))
      return nullptr;
  }
  return conf;
}

// Fetches `topic`'s metadata now (bounded by `timeout_ms`), so the first message produced to it
// is sent at once. Without it a producer that starts producing to a topic it has not seen can
// wait for librdkafka's next periodic metadata scan (about a second). Failure is harmless: the
// producer falls back to that scan.
inline void warm_topic_metadata(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rkt == nullptr)
    return;
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR && md)
    rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
}

}  // namespace eventcrm::consumers::detail
