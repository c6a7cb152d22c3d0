// Test helpers for reading what a topic of the mock cluster holds: a plain librdkafka consumer
// without a consumer group, and the CloudEvents headers the relay writes.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace eventcrm::testing {

struct Received {
  std::string key, ce_id, ce_type;
  std::uint64_t position = 0;
  std::int64_t stream_version = 0;
  int partition = 0;
};

inline std::string header(const rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return {};
  const void* v = nullptr;
  size_t n = 0;
  if (rd_kafka_header_get_last(hdrs, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return {};
  return std::string(static_cast<const char*>(v), n);
}

// Reads every message of `topic` (all partitions, from the beginning up to each partition's
// high watermark), without a consumer group, so the count is exactly what the topic holds.
inline std::vector<Received> consume(const std::string& brokers, const std::string& topic,
                                     std::size_t /*want*/, std::chrono::seconds limit) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "relay-test-reader", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  EXPECT_NE(rk, nullptr) << err;
  rd_kafka_poll_set_consumer(rk);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  EXPECT_EQ(rd_kafka_metadata(rk, 0, t, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::map<int, std::int64_t> high;  // partition -> high watermark
  for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
    std::int64_t lo = 0, hi = 0;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 10000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    if (hi > lo)
      high[p] = hi;
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(8);
  for (const auto& [p, hi] : high) {
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  std::vector<Received> out;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!high.empty() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr)
      continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Received r;
      r.key.assign(static_cast<const char*>(m->key), m->key_len);
      r.ce_id = header(m, "ce_id");
      r.ce_type = header(m, "ce_type");
      r.position = std::stoull(header(m, "ce_position"));
      r.stream_version = std::stoll(header(m, "ce_streamversion"));
      r.partition = m->partition;
      out.push_back(std::move(r));
      if (auto it = high.find(m->partition); it != high.end() && m->offset + 1 >= it->second) {
        high.erase(it);
      }
    }
    rd_kafka_message_destroy(m);
  }
  EXPECT_TRUE(high.empty()) << "partitions not read to their end in time";
  rd_kafka_destroy(rk);
  return out;
}

// Each partition's (low, high) watermark: a low watermark above 0 means the broker dropped the
// oldest messages (librdkafka's mock cluster keeps at most 5 MiB or 100,000 messages per
// partition).
inline std::map<int, std::pair<std::int64_t, std::int64_t>> watermarks(const std::string& brokers,
                                                                       const std::string& topic,
                                                                       int partitions) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  EXPECT_NE(rk, nullptr) << err;
  std::map<int, std::pair<std::int64_t, std::int64_t>> out;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t lo = -1, hi = -1;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 10000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    out[p] = {lo, hi};
  }
  rd_kafka_destroy(rk);
  return out;
}

}  // namespace eventcrm::testing
