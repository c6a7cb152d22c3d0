// The relay under load and faults (issue 7, Tests): real domain commands keep succeeding while
// every broker of the mock cluster is down (writes never wait on Kafka); after recovery every
// event is in the topic, per-key order holds, and a duplicate only ever repeats a ce_id. Same
// with injected produce errors and a relay restart mid-stream. Prints the measured figures.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "app/command_runner.hpp"
#include "app/support.hpp"
#include "consumers/dev_broker.hpp"
#include "consumers/relay.hpp"
#include "domain/account.hpp"
#include "domain/activity.hpp"
#include "eventstore/store.hpp"
#include "kafka_support.hpp"
#include "support/temp_dir.hpp"

using namespace eventcrm;
using namespace std::chrono_literals;
using Account = domain::account::Aggregate;
using Activity = domain::activity::Aggregate;
using SteadyClock = std::chrono::steady_clock;

namespace {

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

struct IssueReport {
  int ok = 0;
  int failed = 0;
  std::string first_error;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;  // per-command latency
};

// The mock cluster keeps at most 5 MiB per partition and silently drops the oldest messages
// beyond that; 50,000 events of ~0.7 KB need enough partitions to stay below it.
constexpr int kPartitions = 16;

struct OutageFixture : ::testing::Test {
  eventcrm::testing::TempDir dir;
  eventcrm::testing::FixedClock clock;
  eventcrm::testing::CountingIds ids;
  std::unique_ptr<store::EventStore> store;
  std::unique_ptr<app::CommandRunner> runner;
  std::unique_ptr<consumers::DevBroker> broker;
  std::vector<std::string> accounts;

  void SetUp() override {
    store::Options o;
    o.path = (dir.path() / "store").string();
    o.durability = store::Durability::relaxed;
    store = std::move(*store::EventStore::open(o));
    app::RunnerOptions ro;
    ro.max_attempts = 50;  // account updates from several threads race on a few streams
    runner = std::make_unique<app::CommandRunner>(*store, clock, ids, ro);
    auto b = consumers::DevBroker::start(3, {{"crm.events", kPartitions}});
    ASSERT_TRUE(b) << b.error();
    broker = std::move(*b);
  }

  void TearDown() override {
    runner.reset();
    if (store)
      store->close();
  }

  std::string checkpoint_path() const { return (dir.path() / "relay.checkpoint").string(); }

  // one_in_flight: see the produce-errors test.
  std::unique_ptr<consumers::Relay> relay(bool one_in_flight = false) {
    consumers::RelayOptions o;
    o.kafka.brokers = broker->bootstrap_servers();
    if (one_in_flight)
      o.kafka.properties.emplace_back("max.in.flight.requests.per.connection", "1");
    o.checkpoint_path = checkpoint_path();
    auto r = consumers::Relay::start(*store, o);
    EXPECT_TRUE(r) << r.error();
    return r ? std::move(*r) : nullptr;
  }

  static app::CommandOptions as(std::string actor) {
    app::CommandOptions o;
    o.metadata.actor = std::move(actor);
    o.metadata.correlation_id = "outage-test";
    return o;
  }

  void create_accounts(int n) {
    for (int i = 0; i < n; ++i) {
      std::string id = runner->new_id();
      domain::account::Create c;
      c.profile.name = "Account " + std::to_string(i);
      auto r = runner->run<Account>(id, c, as("u-setup"));
      ASSERT_TRUE(r) << r.error().message;
      accounts.push_back(id);
    }
  }

  // Command i: mostly an activity logged against one of the accounts (a new stream each), every
  // 50th an update of the account itself (so some keys carry many events whose order matters).
  app::Result<app::CommandResult> command(int i) {
    const std::string& account = accounts[static_cast<std::size_t>(i) % accounts.size()];
    if (i % 50 == 0) {
      domain::account::Update u;
      u.changes.address = "Street " + std::to_string(i);
      return runner->run<Account>(account, u, as("u-" + std::to_string(i % 7)));
    }
    domain::activity::Log log;
    log.account_id = account;
    log.kind = (i % 2 == 0) ? "call" : "email";
    log.subject = "Contact " + std::to_string(i);
    log.duration_minutes = i % 60;
    return runner->run<Activity>(runner->new_id(), log, as("u-" + std::to_string(i % 7)));
  }

  // Issues n commands from `threads` threads, paced evenly over `spread` (command i starts no
  // earlier than start + spread * i / n; a slow machine simply runs behind the schedule).
  IssueReport issue(int n, int threads, std::chrono::milliseconds spread) {
    IssueReport rep;
    std::mutex mu;
    std::vector<double> latencies;
    latencies.reserve(static_cast<std::size_t>(n));
    const auto start = SteadyClock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::vector<double> mine;
        int ok = 0, failed = 0;
        std::string first;
        for (int i = t; i < n; i += threads) {
          std::this_thread::sleep_until(start + spread * i / n);
          auto t0 = SteadyClock::now();
          auto r = command(i);
          mine.push_back(
              std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
          if (r) {
            ++ok;
          } else {
            ++failed;
            if (first.empty())
              first = app::to_string(r.error().code) + std::string(": ") + r.error().message;
          }
        }
        std::lock_guard lock(mu);
        rep.ok += ok;
        rep.failed += failed;
        if (rep.first_error.empty())
          rep.first_error = first;
        latencies.insert(latencies.end(), mine.begin(), mine.end());
      });
    }
    for (auto& th : pool)
      th.join();
    rep.seconds = seconds_since(start);
    std::sort(latencies.begin(), latencies.end());
    if (!latencies.empty()) {
      auto at = [&](double q) {
        return latencies[std::min(
            latencies.size() - 1,
            static_cast<std::size_t>(q * static_cast<double>(latencies.size())))];
      };
      rep.p50_ms = at(0.50);
      rep.p99_ms = at(0.99);
      rep.max_ms = latencies.back();
    }
    return rep;
  }

  static bool wait_checkpoint(consumers::Relay& r, std::uint64_t pos, std::chrono::seconds limit) {
    auto deadline = SteadyClock::now() + limit;
    while (SteadyClock::now() < deadline) {
      if (r.status().checkpoint >= pos)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  // Nothing was dropped by the broker's retention, so a missing event is the relay's.
  void expect_full_partitions() {
    for (const auto& [p, wm] :
         eventcrm::testing::watermarks(broker->bootstrap_servers(), "crm.events", kPartitions)) {
      EXPECT_EQ(wm.first, 0) << "partition " << p << " lost its oldest messages (high " << wm.second
                             << ")";
    }
  }

  // Every position 1..head exactly once as a distinct ce_id; a ce_id always names the same
  // position (so a repeated record is a duplicate by ce_id, never a different event); per key,
  // first-seen records come with stream versions 0, 1, 2, … in order. Returns the duplicates.
  static std::size_t check_topic(const std::vector<eventcrm::testing::Received>& got,
                                 std::uint64_t head) {
    std::map<std::string, std::uint64_t> position_of;  // ce_id -> position
    std::set<std::uint64_t> positions;
    std::map<std::string, std::int64_t> last_version;  // key -> last first-seen version
    std::size_t duplicates = 0, order_violations = 0, id_conflicts = 0;
    for (const auto& r : got) {
      auto [it, fresh] = position_of.emplace(r.ce_id, r.position);
      if (!fresh) {
        ++duplicates;
        if (it->second != r.position)
          ++id_conflicts;
        continue;
      }
      if (!positions.insert(r.position).second)
        ++id_conflicts;  // the same position under another ce_id
      auto lv = last_version.find(r.key);
      const std::int64_t want = lv == last_version.end() ? 0 : lv->second + 1;
      if (r.stream_version != want && order_violations++ < 5) {
        ADD_FAILURE() << "key " << r.key << ": version " << r.stream_version << " after "
                      << want - 1 << " (position " << r.position << ")";
      }
      last_version[r.key] = r.stream_version;
      EXPECT_TRUE(r.ce_type == "activity.logged.v1" || r.ce_type == "account.created.v1" ||
                  r.ce_type == "account.updated.v1")
          << r.ce_type;
    }
    EXPECT_EQ(order_violations, 0u);
    EXPECT_EQ(id_conflicts, 0u);
    if (positions.size() != head) {
      std::string missing;
      int shown = 0;
      for (std::uint64_t p = 1; p <= head && shown < 20; ++p) {
        if (!positions.count(p)) {
          missing += " " + std::to_string(p);
          ++shown;
        }
      }
      ADD_FAILURE() << head - positions.size() << " events missing, first:" << missing;
    }
    if (!positions.empty()) {
      EXPECT_EQ(*positions.begin(), 1u);
      EXPECT_EQ(*positions.rbegin(), head);
    }
    EXPECT_EQ(got.size(), head + duplicates);
    return duplicates;
  }
};

}  // namespace

TEST_F(OutageFixture, AllBrokersDownFor20sWhile50000CommandsArrive) {
  constexpr int kCommands = 50'000;
  auto r = relay();
  ASSERT_TRUE(r);
  create_accounts(5);
  ASSERT_TRUE(wait_checkpoint(*r, store->head(), 30s));
  const std::uint64_t before = r->status().checkpoint;

  const auto down_at = SteadyClock::now();
  for (int b = 1; b <= 3; ++b)
    broker->set_broker_down(b);

  // Commands arrive over ~18 s from 4 threads; meanwhile the checkpoint must not move.
  std::atomic<bool> issuing{true};
  std::uint64_t max_checkpoint_seen = before;
  std::thread watcher([&] {
    while (issuing) {
      max_checkpoint_seen = std::max(max_checkpoint_seen, r->status().checkpoint);
      std::this_thread::sleep_for(100ms);
    }
  });
  IssueReport rep = issue(kCommands, 4, 18s);
  issuing = false;
  watcher.join();
  std::this_thread::sleep_until(down_at + 20s);
  const double outage_s = seconds_since(down_at);
  const auto during = r->status();

  EXPECT_EQ(rep.failed, 0) << rep.first_error;
  EXPECT_EQ(rep.ok, kCommands);
  const std::uint64_t head = store->head();
  EXPECT_EQ(head, accounts.size() + kCommands);  // one event per command
  EXPECT_EQ(max_checkpoint_seen, before) << "checkpoint advanced while every broker was down";
  EXPECT_EQ(during.checkpoint, before);

  const auto up_at = SteadyClock::now();
  for (int b = 1; b <= 3; ++b)
    broker->set_broker_up(b);
  ASSERT_TRUE(wait_checkpoint(*r, head, 120s)) << r->status().checkpoint << " of " << head;
  const double catch_up_s = seconds_since(up_at);
  const auto after = r->status();

  const auto consume_at = SteadyClock::now();
  expect_full_partitions();
  auto got = eventcrm::testing::consume(broker->bootstrap_servers(), "crm.events", head, 60s);
  const double consume_s = seconds_since(consume_at);
  const std::size_t duplicates = check_topic(got, head);

  std::cout << "[outage] " << rep.ok << " commands in " << rep.seconds << " s during a " << outage_s
            << " s outage of all 3 brokers = " << static_cast<double>(rep.ok) / rep.seconds
            << " commands/s (paced); latency p50 " << rep.p50_ms << " ms, p99 " << rep.p99_ms
            << " ms, max " << rep.max_ms << " ms\n"
            << "[outage] checkpoint held at " << before << " while down (lag at recovery "
            << during.lag_seconds << " s); caught up " << head - before << " events in "
            << catch_up_s
            << " s after recovery = " << static_cast<double>(head - before) / catch_up_s
            << " events/s\n"
            << "[outage] topic: " << got.size() << " records read in " << consume_s << " s, head "
            << head << ", duplicates (repeated ce_id) " << duplicates << "; relay produced "
            << after.produced << ", delivered " << after.delivered << ", delivery errors "
            << after.delivery_errors << ", rewinds " << after.rewinds << "\n";
  RecordProperty("commands_per_s", std::to_string(static_cast<double>(rep.ok) / rep.seconds));
  RecordProperty("command_p99_ms", std::to_string(rep.p99_ms));
  RecordProperty("catch_up_s", std::to_string(catch_up_s));
  RecordProperty("duplicates", std::to_string(duplicates));
  r->stop();
  EXPECT_EQ(consumers::read_checkpoint(checkpoint_path()).value(), head);
}

// One produce request in flight per connection here. With librdkafka's default of 5, this test
// loses 1 to 8 events per run against the mock cluster (librdkafka 2.0.2), each reported as
// delivered OK, all around the moments errors are injected. The likely cause: the mock does not
// check an idempotent producer's sequence numbers, so it appends a batch sent after a failed one,
// and librdkafka then takes the failed batch as persisted (a real broker refuses the later batch
// as out of order). With one request in flight, no run lost anything.
TEST_F(OutageFixture, InjectedProduceErrorsAndARestartWhile10000CommandsArrive) {
  constexpr int kCommands = 10'000;
  auto r = relay(true);
  ASSERT_TRUE(r);
  create_accounts(5);
  ASSERT_TRUE(wait_checkpoint(*r, store->head(), 30s));

  IssueReport rep;
  std::thread issuer([&] { rep = issue(kCommands, 4, 8s); });
  const auto start = SteadyClock::now();
  std::uint64_t produced = 0, errors = 0, rewinds = 0, restarted_at = 0;
  broker->fail_next_produce_requests(30);
  std::this_thread::sleep_until(start + 2s);
  broker->fail_next_produce_requests(30);
  std::this_thread::sleep_until(start + 4s);
  // Restart mid-stream: a new relay on the same checkpoint file.
  {
    auto s = r->status();
    r->stop();
    s = r->status();
    produced += s.produced;
    errors += s.delivery_errors;
    rewinds += s.rewinds;
    restarted_at = s.checkpoint;
    r.reset();
  }
  EXPECT_EQ(consumers::read_checkpoint(checkpoint_path()).value(), restarted_at);
  r = relay(true);
  ASSERT_TRUE(r);
  broker->fail_next_produce_requests(30);
  std::this_thread::sleep_until(start + 6s);
  broker->fail_next_produce_requests(30);
  issuer.join();

  EXPECT_EQ(rep.failed, 0) << rep.first_error;
  EXPECT_EQ(rep.ok, kCommands);
  const std::uint64_t head = store->head();
  EXPECT_EQ(head, accounts.size() + kCommands);
  const auto done_at = SteadyClock::now();
  ASSERT_TRUE(wait_checkpoint(*r, head, 120s)) << r->status().checkpoint << " of " << head;
  const double catch_up_s = seconds_since(done_at);
  auto s = r->status();
  produced += s.produced;
  errors += s.delivery_errors;
  rewinds += s.rewinds;

  expect_full_partitions();
  auto got = eventcrm::testing::consume(broker->bootstrap_servers(), "crm.events", head, 60s);
  const std::size_t duplicates = check_topic(got, head);
  std::cout << "[produce-errors] " << rep.ok << " commands in " << rep.seconds << " s ("
            << static_cast<double>(rep.ok) / rep.seconds << " commands/s paced, p99 " << rep.p99_ms
            << " ms); 4 x 30 produce requests failed, relay restarted at checkpoint "
            << restarted_at << "; checkpoint reached head " << head << " " << catch_up_s
            << " s after the last command; produced " << produced << ", delivery errors " << errors
            << ", rewinds " << rewinds << "; topic " << got.size()
            << " records, duplicates (repeated ce_id) " << duplicates << "\n";
  RecordProperty("duplicates", std::to_string(duplicates));
  RecordProperty("catch_up_s", std::to_string(catch_up_s));
  r->stop();
}
