// The relay against librdkafka's mock cluster: every event delivered, per-key order, headers,
// outages, injected errors and restarts. Consumed with a plain librdkafka consumer.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "consumers/dev_broker.hpp"
#include "consumers/relay.hpp"
#include "eventstore/store.hpp"
#include "kafka_support.hpp"
#include "support/temp_dir.hpp"

using namespace eventcrm;
using namespace std::chrono_literals;

namespace {

using eventcrm::testing::consume;
using eventcrm::testing::Received;

struct RelayFixture : ::testing::Test {
  eventcrm::testing::TempDir dir;
  std::unique_ptr<store::EventStore> store;
  std::unique_ptr<consumers::DevBroker> broker;

  void SetUp() override {
    store::Options o;
    o.path = (dir.path() / "store").string();
    o.durability = store::Durability::relaxed;
    store = std::move(*store::EventStore::open(o));
    auto b = consumers::DevBroker::start(3, {{"crm.events", 4}});
    ASSERT_TRUE(b) << b.error();
    broker = std::move(*b);
  }

  void append(int n, int streams = 20) {
    for (int i = 0; i < n; ++i) {
      std::vector<store::NewEvent> evs{
          {"", "lead.noted.v1", "{\"i\":" + std::to_string(i) + "}", {"user-1", "", "", "", {}}}};
      ASSERT_TRUE(store->append("lead-" + std::to_string(i % streams),
                                store::ExpectedVersion::any(), std::move(evs)));
    }
  }

  // one_in_flight: librdkafka's mock cluster does not check an idempotent producer's sequence
  // numbers as a real broker does, so with several produce requests in flight a failed one can
  // be reported delivered after a later one was accepted (see relay_outage_test.cpp).
  std::unique_ptr<consumers::Relay> relay(bool one_in_flight = false) {
    consumers::RelayOptions o;
    o.kafka.brokers = broker->bootstrap_servers();
    if (one_in_flight)
      o.kafka.properties.emplace_back("max.in.flight.requests.per.connection", "1");
    o.checkpoint_path = (dir.path() / "relay.checkpoint").string();
    auto r = consumers::Relay::start(*store, o);
    EXPECT_TRUE(r) << r.error();
    return std::move(*r);
  }

  static bool wait_checkpoint(consumers::Relay& r, std::uint64_t pos, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (r.status().checkpoint >= pos)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  // Every position 1..n arrived; per key, stream versions never go backwards except by
  // repeating an already seen ce_id (a duplicate).
  static void check_complete_and_ordered(const std::vector<Received>& got, std::uint64_t n) {
    std::set<std::uint64_t> positions;
    std::map<std::string, std::int64_t> last_version;
    std::set<std::string> seen;
    for (const auto& r : got) {
      positions.insert(r.position);
      bool dup = !seen.insert(r.ce_id).second;
      auto it = last_version.find(r.key);
      if (!dup && it != last_version.end()) {
        EXPECT_EQ(r.stream_version, it->second + 1) << r.key;
      }
      if (!dup)
        last_version[r.key] = r.stream_version;
      EXPECT_EQ(r.ce_type, "lead.noted.v1");
    }
    ASSERT_EQ(positions.size(), n);
    EXPECT_EQ(*positions.begin(), 1u);
    EXPECT_EQ(*positions.rbegin(), n);
  }
};

}  // namespace

TEST_F(RelayFixture, PublishesEveryEventInPerKeyOrderWithHeaders) {
  append(500);
  auto r = relay();
  ASSERT_TRUE(wait_checkpoint(*r, 500, 30s));
  append(100);  // live
  ASSERT_TRUE(wait_checkpoint(*r, 600, 30s));
  auto got = consume(broker->bootstrap_servers(), "crm.events", 600, 30s);
  check_complete_and_ordered(got, 600);
  // One key always lands in one partition.
  std::map<std::string, int> part;
  for (const auto& g : got) {
    auto [it, fresh] = part.emplace(g.key, g.partition);
    EXPECT_EQ(it->second, g.partition);
  }
  r->stop();
  EXPECT_EQ(consumers::read_checkpoint((dir.path() / "relay.checkpoint").string()).value(), 600u);
}

TEST_F(RelayFixture, CatchesUpAfterAllBrokersWereDown) {
  auto r = relay();
  append(50);
  ASSERT_TRUE(wait_checkpoint(*r, 50, 30s));
  for (int b = 1; b <= 3; ++b)
    broker->set_broker_down(b);
  append(1000);  // writes never wait on Kafka
  std::this_thread::sleep_for(2s);
  EXPECT_LT(r->status().checkpoint, 1050u);
  for (int b = 1; b <= 3; ++b)
    broker->set_broker_up(b);
  ASSERT_TRUE(wait_checkpoint(*r, 1050, 60s)) << r->status().checkpoint;
  check_complete_and_ordered(consume(broker->bootstrap_servers(), "crm.events", 1050, 30s), 1050);
}

TEST_F(RelayFixture, SurvivesInjectedProduceErrors) {
  broker->fail_next_produce_requests(20);
  auto r = relay(/*one_in_flight=*/true);
  append(300);
  ASSERT_TRUE(wait_checkpoint(*r, 300, 60s)) << r->status().checkpoint;
  check_complete_and_ordered(consume(broker->bootstrap_servers(), "crm.events", 300, 30s), 300);
}

TEST_F(RelayFixture, RestartResumesFromTheCheckpoint) {
  append(200);
  {
    auto r = relay();
    ASSERT_TRUE(wait_checkpoint(*r, 200, 30s));
    r->stop();
  }
  append(100);
  auto r = relay();
  ASSERT_TRUE(wait_checkpoint(*r, 300, 30s));
  EXPECT_EQ(r->status().produced, 100u);  // resumed, not republished
  check_complete_and_ordered(consume(broker->bootstrap_servers(), "crm.events", 300, 30s), 300);
}

TEST_F(RelayFixture, RejectsACheckpointPastTheHead) {
  {
    std::ofstream out((dir.path() / "relay.checkpoint").string());
    out << "999\n";
  }
  consumers::RelayOptions o;
  o.kafka.brokers = broker->bootstrap_servers();
  o.checkpoint_path = (dir.path() / "relay.checkpoint").string();
  auto r = consumers::Relay::start(*store, o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("past the log's head"), std::string::npos);
}
