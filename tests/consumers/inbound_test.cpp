// Inbound consumers against the mock cluster: valid messages handled once, malformed ones in
// the dead-letter topic with their error, transient failures retried, offsets committed.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "consumers/dev_broker.hpp"
#include "consumers/inbound.hpp"

using namespace eventcrm;
using namespace std::chrono_literals;

namespace {

void produce(const std::string& brokers, const std::string& topic,
             const std::vector<std::pair<std::string, std::string>>& msgs) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  ASSERT_NE(rk, nullptr);
  for (const auto& [id, value] : msgs) {
    rd_kafka_headers_t* h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, "message_id", -1, id.data(), static_cast<ssize_t>(id.size()));
    ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                                RD_KAFKA_V_KEY(const_cast<char*>(id.data()), id.size()),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

// Reads the whole dead-letter topic: message id -> (error, source topic).
std::map<std::string, std::pair<std::string, std::string>> read_dlq(const std::string& brokers,
                                                                    const std::string& topic,
                                                                    std::size_t want) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "dlq-reader", err, sizeof err);
  rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_poll_set_consumer(rk);
  auto* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::map<std::string, std::pair<std::string, std::string>> out;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m)
      continue;
    if (!m->err) {
      rd_kafka_headers_t* h = nullptr;
      rd_kafka_message_headers(m, &h);
      auto get = [&](const char* n) {
        const void* v = nullptr;
        size_t len = 0;
        if (h && rd_kafka_header_get_last(h, n, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          return std::string(static_cast<const char*>(v), len);
        }
        return std::string();
      };
      out[get("dlq_message_id")] = {get("dlq_error"), get("dlq_source_topic")};
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

}  // namespace

TEST(Inbound, HandlesDeadLettersRetriesAndCommits) {
  auto broker = std::move(
      *consumers::DevBroker::start(1, {{"crm.inbound.leads", 2}, {"crm.inbound.leads.dlq", 1}}));
  const auto brokers = broker->bootstrap_servers();
  std::vector<std::pair<std::string, std::string>> msgs;
  for (int i = 0; i < 30; ++i) {
    msgs.emplace_back("m" + std::to_string(i), i % 10 == 3 ? "not json" : "{\"n\":1}");
  }
  produce(brokers, "crm.inbound.leads", msgs);

  std::mutex mu;
  std::map<std::string, int> handled;  // message id -> times the command ran
  int transient_failures = 0;
  auto handler = [&](const consumers::InboundMessage& m) -> consumers::HandlerResult {
    std::lock_guard lk(mu);
    if (m.value.empty() || m.value.front() != '{') {
      return {consumers::Outcome::rejected, "value is not a JSON object"};
    }
    if (m.id == "m7" && transient_failures < 2) {
      ++transient_failures;
      return {consumers::Outcome::retry, "store busy"};
    }
    ++handled[m.id];
    return {};
  };
  consumers::InboundOptions o;
  o.kafka.brokers = brokers;
  o.group_id = "leads-worker";
  // The mock cluster waits out a departed member's session before rebalancing.
  o.kafka.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
  o.topics = {"crm.inbound.leads"};
  {
    auto c = consumers::InboundConsumer::start(o, handler);
    ASSERT_TRUE(c) << c.error();
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while ((*c)->status().processed < 30 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    auto st = (*c)->status();
    EXPECT_EQ(st.processed, 30u);
    EXPECT_EQ(st.dead_lettered, 3u);
    EXPECT_EQ(st.retries, 2u);
    (*c)->stop();
  }
  {
    std::lock_guard lk(mu);
    EXPECT_EQ(handled.size(), 27u);
    for (const auto& [id, n] : handled)
      EXPECT_EQ(n, 1) << id;
    EXPECT_EQ(transient_failures, 2);
  }
  auto dlq = read_dlq(brokers, "crm.inbound.leads.dlq", 3);
  ASSERT_EQ(dlq.size(), 3u);
  for (const char* id : {"m3", "m13", "m23"}) {
    ASSERT_TRUE(dlq.count(id)) << id;
    EXPECT_EQ(dlq[id].first, "value is not a JSON object");
    EXPECT_EQ(dlq[id].second, "crm.inbound.leads");
  }

  // A restarted worker in the same group resumes after the committed offsets.
  produce(brokers, "crm.inbound.leads", {{"m100", "{}"}});
  auto c = consumers::InboundConsumer::start(o, handler);
  ASSERT_TRUE(c);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while ((*c)->status().processed < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(500ms);
  (*c)->stop();
  std::lock_guard lk(mu);
  EXPECT_EQ(handled.size(), 28u);
  EXPECT_EQ(handled["m100"], 1);
  EXPECT_EQ((*c)->status().processed, 1u);
}
