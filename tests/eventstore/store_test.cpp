// The event store against a real RocksDB in a temp dir: appends, concurrency, idempotency,
// reads, subscriptions, tamper evidence and bad input.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include "eventstore/cloudevents.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/first_positions.hpp"
#include "eventstore/store.hpp"
#include "eventstore/tail.hpp"
#include "support/temp_dir.hpp"

using namespace eventcrm::store;
using eventcrm::testing::TempDir;

namespace {

class FixedClock : public eventcrm::Clock {
 public:
  std::atomic<std::int64_t> ms{1'764'000'000'000};
  std::int64_t now_ms() override { return ms.load(); }
};

NewEvent ev(std::string type = "opportunity.stage_changed.v1", std::string data = R"({"x":1})",
            std::string id = {}) {
  NewEvent e;
  e.id = std::move(id);
  e.type = std::move(type);
  e.data = std::move(data);
  e.metadata.actor = "user-1";
  return e;
}

std::vector<NewEvent> evs(int n) {
  std::vector<NewEvent> v;
  for (int i = 0; i < n; ++i)
    v.push_back(ev("lead.created.v1", R"({"i":)" + std::to_string(i) + "}"));
  return v;
}

struct StoreFixture : ::testing::Test {
  TempDir dir;
  std::shared_ptr<FixedClock> clock = std::make_shared<FixedClock>();
  std::unique_ptr<EventStore> store;
  std::size_t tail_bytes = Options{}.tail_bytes;

  void SetUp() override { reopen(); }
  void reopen(Durability d = Durability::sync) {
    if (store)
      store->close();
    store.reset();
    Options o;
    o.path = dir.str();
    o.durability = d;
    o.clock = clock;
    o.tail_bytes = tail_bytes;
    auto s = EventStore::open(o);
    ASSERT_TRUE(s) << s.error().message;
    store = std::move(*s);
  }
};

}  // namespace

TEST_F(StoreFixture, AppendsAndReadsAStream) {
  auto r = store->append("lead-1", ExpectedVersion::no_stream(), evs(3));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->first_position, 1u);
  EXPECT_EQ(r->last_position, 3u);
  EXPECT_EQ(r->streams.at(0).first_version, 0);
  EXPECT_EQ(r->streams.at(0).last_version, 2);
  EXPECT_FALSE(r->replayed);
  EXPECT_EQ(store->head(), 3u);

  auto read = store->read_stream("lead-1", 0, Direction::forward, 100);
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*read)[i].stream_version, i);
    EXPECT_EQ((*read)[i].position, static_cast<std::uint64_t>(i + 1));
    EXPECT_EQ((*read)[i].data, R"({"i":)" + std::to_string(i) + "}");
    EXPECT_EQ((*read)[i].metadata.actor, "user-1");
    EXPECT_EQ((*read)[i].time_ms, clock->ms.load());
    EXPECT_TRUE(valid_uuid((*read)[i].id));
  }
  auto back = store->read_stream("lead-1", -1, Direction::backward, 2);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].stream_version, 2);
  EXPECT_EQ((*back)[1].stream_version, 1);
  EXPECT_EQ(*store->stream_version("lead-1"), 2);
  EXPECT_EQ(*store->stream_version("lead-2"), -1);
  EXPECT_TRUE(store->read_stream("lead-2", 0, Direction::forward, 10)->empty());
}

TEST_F(StoreFixture, SurvivesReopen) {
  ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), evs(5)));
  auto before = store->read_stream("lead-1", 0, Direction::forward, 10);
  reopen();
  EXPECT_EQ(store->head(), 5u);
  auto after = store->read_stream("lead-1", 0, Direction::forward, 10);
  ASSERT_EQ(after->size(), 5u);
  EXPECT_EQ((*after)[4].hash, (*before)[4].hash);
  auto r = store->append("lead-1", ExpectedVersion::exact(4), evs(1));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first_position, 6u);
  EXPECT_TRUE(store->verify().ok);
}

TEST_F(StoreFixture, ExpectedVersionKinds) {
  auto nostream_on_missing = store->append("task-1", ExpectedVersion::stream_exists(), evs(1));
  ASSERT_FALSE(nostream_on_missing);
  EXPECT_EQ(nostream_on_missing.error().code, errc::wrong_expected_version);
  EXPECT_EQ(nostream_on_missing.error().current_version, -1);

  ASSERT_TRUE(store->append("task-1", ExpectedVersion::no_stream(), evs(1)));
  auto again = store->append("task-1", ExpectedVersion::no_stream(), evs(1));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().current_version, 0);

  auto stale = store->append("task-1", ExpectedVersion::exact(5), evs(1));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, errc::wrong_expected_version);
  EXPECT_EQ(stale.error().current_version, 0);
  EXPECT_EQ(stale.error().stream, "task-1");

  ASSERT_TRUE(store->append("task-1", ExpectedVersion::exact(0), evs(1)));
  ASSERT_TRUE(store->append("task-1", ExpectedVersion::stream_exists(), evs(1)));
  ASSERT_TRUE(store->append("task-1", ExpectedVersion::any(), evs(1)));
  EXPECT_EQ(*store->stream_version("task-1"), 3);
  EXPECT_EQ(store->head(), 4u);  // failed appends consumed no position
}

TEST_F(StoreFixture, MultiStreamAppendIsAllOrNothing) {
  ASSERT_TRUE(store->append("account-1", ExpectedVersion::any(), evs(1)));
  std::vector<StreamAppend> parts;
  parts.push_back({"lead-9", ExpectedVersion::exact(-1), evs(1)});
  parts.push_back({"account-1", ExpectedVersion::exact(7), evs(1)});  // stale
  auto r = store->append_multi(parts);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().stream, "account-1");
  EXPECT_EQ(*store->stream_version("lead-9"), -1);
  EXPECT_EQ(store->head(), 1u);

  parts[1].expected = ExpectedVersion::exact(0);
  parts.push_back({"contact-3", ExpectedVersion::no_stream(), evs(2)});
  r = store->append_multi(parts);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->first_position, 2u);
  EXPECT_EQ(r->last_position, 5u);
  ASSERT_EQ(r->streams.size(), 3u);
  EXPECT_EQ(r->streams[1].first_version, 1);
  EXPECT_EQ(r->streams[2].last_version, 1);
}

TEST_F(StoreFixture, IdempotentRetryReturnsTheOriginalResult) {
  std::vector<NewEvent> batch = {
      ev("lead.created.v1", R"({"a":1})", "0193a0c4-0000-7000-8000-000000000001"),
      ev("lead.created.v1", R"({"a":2})", "0193a0c4-0000-7000-8000-000000000002")};
  auto first = store->append("lead-7", ExpectedVersion::no_stream(), batch);
  ASSERT_TRUE(first);
  ASSERT_TRUE(store->append("lead-8", ExpectedVersion::any(), evs(1)));

  // Same ids, same content: the original result, nothing written, even with a now-stale
  // expectation.
  auto retry = store->append("lead-7", ExpectedVersion::no_stream(), batch);
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->first_position, first->first_position);
  EXPECT_EQ(retry->last_position, first->last_position);
  EXPECT_EQ(store->head(), 3u);

  // Same id, different content.
  auto changed = batch;
  changed[1].data = R"({"a":3})";
  auto bad = store->append("lead-7", ExpectedVersion::any(), changed);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::idempotency_conflict);

  // Same ids, another stream.
  auto elsewhere = store->append("lead-99", ExpectedVersion::any(), batch);
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code, errc::idempotency_conflict);

  // Partly new ids.
  auto partial = batch;
  partial.push_back(ev("lead.created.v1", R"({"a":9})"));
  auto p = store->append("lead-7", ExpectedVersion::any(), partial);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, errc::idempotency_conflict);
  EXPECT_EQ(store->head(), 3u);

  auto by_id = store->get_event("0193a0c4-0000-7000-8000-000000000002");
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->position, 2u);
  EXPECT_EQ(store->get_event("0193a0c4-0000-7000-8000-0000000000ff").error().code, errc::not_found);
}

TEST_F(StoreFixture, ConcurrentWritersGetGapFreePositionsAndContiguousVersions) {
  constexpr int kThreads = 16, kPerThread = 200;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Half the threads fight over one hot stream with exact expectations.
        if (t % 2 == 0) {
          for (;;) {
            auto v = store->stream_version("opportunity-hot");
            auto r = store->append("opportunity-hot", ExpectedVersion::exact(*v), evs(1));
            if (r)
              break;
            ASSERT_EQ(r.error().code, errc::wrong_expected_version);
            conflicts++;
          }
        } else {
          ASSERT_TRUE(store->append("lead-t" + std::to_string(t), ExpectedVersion::any(), evs(2)));
        }
      }
    });
  }
  for (auto& th : threads)
    th.join();
  const std::uint64_t expected = kThreads / 2 * kPerThread + kThreads / 2 * kPerThread * 2;
  EXPECT_EQ(store->head(), expected);
  auto page = store->read_all(0, expected + 10);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->events.size(), expected);
  std::map<std::string, std::int64_t> versions;
  std::int64_t last_time = 0;
  for (std::size_t i = 0; i < page->events.size(); ++i) {
    const auto& e = page->events[i];
    EXPECT_EQ(e.position, i + 1);
    auto& v = versions.try_emplace(e.stream, -1).first->second;
    EXPECT_EQ(e.stream_version, v + 1) << e.stream;
    v = e.stream_version;
    EXPECT_GE(e.time_ms, last_time);
    last_time = e.time_ms;
  }
  EXPECT_EQ(versions["opportunity-hot"], kThreads / 2 * kPerThread - 1);
  EXPECT_TRUE(store->verify().ok);
  // Group commit actually coalesced: fewer commits than appends.
  EXPECT_LT(store->stats().commits.load(), store->stats().appends.load());
}

TEST_F(StoreFixture, ReadAllFiltersAndPages) {
  ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), {ev("lead.created.v1")}));
  ASSERT_TRUE(store->append("account-1", ExpectedVersion::any(), {ev("account.created.v1")}));
  ASSERT_TRUE(store->append("lead-2", ExpectedVersion::any(), {ev("lead.qualified.v1")}));
  ASSERT_TRUE(store->append("account-1", ExpectedVersion::any(), {ev("account.renamed.v1")}));

  Filter by_cat;
  by_cat.categories = {"account"};
  auto p = store->read_all(0, 10, by_cat);
  ASSERT_EQ(p->events.size(), 2u);
  EXPECT_EQ(p->events[0].position, 2u);
  EXPECT_EQ(p->events[1].position, 4u);

  Filter by_type;
  by_type.types = {"lead.qualified.v1"};
  p = store->read_all(0, 10, by_type);
  ASSERT_EQ(p->events.size(), 1u);
  EXPECT_EQ(p->events[0].stream, "lead-2");
  EXPECT_EQ(p->scanned_to, 4u);

  // Paging by cursor neither skips nor repeats.
  std::vector<std::uint64_t> seen;
  std::uint64_t after = 0;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = store->read_all(after, 1);
    if (page->events.empty())
      break;
    seen.push_back(page->events[0].position);
    after = page->scanned_to;
  }
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2, 3, 4}));

  auto back = store->read_all_backward(0, 3);
  ASSERT_EQ(back->events.size(), 3u);
  EXPECT_EQ(back->events[0].position, 4u);
  EXPECT_EQ(back->events[2].position, 2u);
  EXPECT_EQ(store->get_at(3)->stream, "lead-2");
  EXPECT_EQ(store->get_at(5).error().code, errc::not_found);
}

TEST_F(StoreFixture, SubscriptionCatchesUpThenFollowsLiveWithoutGapOrDuplicate) {
  ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), evs(50)));
  auto sub = store->subscribe(10);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(store->append("lead-" + std::to_string(i % 7), ExpectedVersion::any(), evs(1)));
    }
    done = true;
  });
  std::vector<std::uint64_t> got;
  for (int guard = 0; guard < 1000 && got.size() < 140; ++guard) {
    auto batch = sub->next(16, std::chrono::milliseconds(200));
    ASSERT_TRUE(batch);
    for (auto& e : *batch)
      got.push_back(e.position);
  }
  writer.join();
  ASSERT_EQ(got.size(), 140u);
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i], 11 + i);
  auto none = sub->next(10, std::chrono::milliseconds(20));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreFixture, FilteredSubscriptionSkipsOtherEvents) {
  Filter f;
  f.categories = {"account"};
  auto sub = store->subscribe(0, f);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), evs(1)));
  ASSERT_TRUE(store->append("account-1", ExpectedVersion::any(), evs(1)));
  auto batch = sub->next(10, std::chrono::milliseconds(500));
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ((*batch)[0].position, 21u);
}

// Recent positions are read from the tail in memory, older ones (and all after a reopen) from
// RocksDB: the same pages either way, whatever the filter, limit and scan limit.
TEST_F(StoreFixture, ReadsFromTheTailMatchReadsFromDisk) {
  tail_bytes = 4096;  // a few batches: reads start on disk and go on in the tail
  reopen();
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        const char* types[] = {"lead.created.v1", "account.created.v1", "task.created.v1"};
        const char* cats[] = {"lead-", "account-", "task-"};
        std::vector<NewEvent> batch;
        for (int k = 0; k <= (i + t) % 3; ++k)
          batch.push_back(ev(types[(i + k) % 3], R"({"i":)" + std::to_string(i) + "}"));
        ASSERT_TRUE(store->append(cats[(i * 7 + t) % 3] + std::to_string(i % 5),
                                  ExpectedVersion::any(), std::move(batch)));
      }
    });
  }
  for (auto& w : writers)
    w.join();
  Filter all, leads, tasks_of_accounts, none;
  leads.categories = {"lead"};
  tasks_of_accounts.categories = {"account"};
  tasks_of_accounts.types = {"task.created.v1", "account.created.v1"};
  none.types = {"nothing.v1"};
  struct Read {
    std::uint64_t after;
    std::size_t limit, scan_limit;
    const Filter* filter;
  };
  std::vector<Read> reads;
  const std::uint64_t head = store->head();
  for (std::uint64_t after : {std::uint64_t{0}, head / 3, head / 2, head - 5, head - 1, head}) {
    for (const Filter* f : {&all, &leads, &tasks_of_accounts, &none}) {
      reads.push_back({after, 1000, 100'000, f});
      reads.push_back({after, 3, 100'000, f});
      reads.push_back({after, 1000, 7, f});
    }
  }
  auto page_of = [&](const Read& r) {
    auto page = store->read_all(r.after, r.limit, *r.filter, r.scan_limit);
    EXPECT_TRUE(page);
    std::string out = "scanned_to " + std::to_string(page->scanned_to) + ":";
    for (const auto& e : page->events)
      out += " " + std::to_string(e.position) + "/" + e.stream + "/" + e.type + "/" + e.data;
    return out;
  };
  std::vector<std::string> live;
  for (const auto& r : reads)
    live.push_back(page_of(r));
  EXPECT_GT(store->stats().log_reads_tail.load(), 0u);
  EXPECT_GT(store->stats().log_reads_disk.load(), 0u);
  EXPECT_GT(store->stats().tail_bytes.load(), 0u);
  EXPECT_LE(store->stats().tail_bytes.load(), 2 * tail_bytes);  // the budget, past one batch
  reopen();  // an empty tail: every read from disk
  for (std::size_t i = 0; i < reads.size(); ++i)
    EXPECT_EQ(page_of(reads[i]), live[i]) << "read " << i;
  EXPECT_EQ(store->stats().log_reads_tail.load(), 0u);
}

// A live subscriber sleeps through commits of events it does not read; one it reads wakes it.
TEST_F(StoreFixture, FilteredSubscriberWakesForItsEventsOnly) {
  Filter f;
  f.types = {"account.created.v1"};
  auto sub = store->subscribe(0, f);
  std::atomic<bool> got{false};
  std::chrono::steady_clock::duration took{};
  std::thread reader([&] {
    const auto start = std::chrono::steady_clock::now();
    for (int guard = 0; guard < 50 && !got; ++guard) {
      auto batch = sub->next(10, std::chrono::seconds(10));
      ASSERT_TRUE(batch);
      got = !batch->empty();
    }
    took = std::chrono::steady_clock::now() - start;
  });
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), evs(1)));
  ASSERT_TRUE(store->append("account-1", ExpectedVersion::any(), {ev("account.created.v1")}));
  reader.join();
  EXPECT_TRUE(got);
  EXPECT_LT(took, std::chrono::seconds(5));  // woken by its event, not by the 10 s poll
  EXPECT_EQ(sub->position(), 31u);

  // Without a matching event it returns empty at its deadline, having scanned past the rest.
  ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), evs(3)));
  auto none = sub->next(10, std::chrono::milliseconds(50));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(sub->position(), 34u);
}

// The kinds of a set of events never rule out a filter that matches one of them.
TEST(Kinds, NeverRuleOutAMatchingFilter) {
  using eventcrm::store::detail::Kinds;
  const std::vector<std::pair<std::string, std::string>> events = {
      {"lead-1", "lead.created.v1"},
      {"account-x", "account.created.v1"},
      {"opportunity-7", "opportunity.stage_changed.v1"},
      {"task-3", "task.created.v1"},
      {"case-9", "case.opened.v1"},
      {"activity-2", "activity.logged.v1"}};
  for (const auto& [stream, type] : events) {
    Kinds k;
    k.add(stream, type);
    Filter by_type, by_category, both, all;
    by_type.types = {"other.v1", type};
    by_category.categories = {stream.substr(0, stream.find('-'))};
    both.types = {type};
    both.categories = by_category.categories;
    for (const Filter* f : {&by_type, &by_category, &both, &all}) {
      EXPECT_TRUE(k.may_match(Kinds::of(*f))) << stream << " " << type;
      EXPECT_TRUE(f->matches(stream, type));
    }
  }
  EXPECT_FALSE(Kinds{}.may_match(Kinds::all()));  // no events: nothing to wake for
}

TEST_F(StoreFixture, StreamExists) {
  EXPECT_FALSE(*store->stream_exists("lead-1"));
  ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), evs(2)));
  EXPECT_TRUE(*store->stream_exists("lead-1"));
  EXPECT_FALSE(*store->stream_exists("lead-10"));
  EXPECT_EQ(store->stream_exists("Bad Name").error().code, errc::invalid_stream_name);
  EXPECT_EQ(*store->stream_version("lead-1"), 1);
  EXPECT_EQ(*store->stream_version("lead-2"), -1);
  reopen();
  EXPECT_TRUE(*store->stream_exists("lead-1"));
}

// A stream's first position is cached once durable; its version still moves on with appends.
TEST_F(StoreFixture, StreamLookupsAfterTheFirstPositionIsCached) {
  ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), evs(1)));
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(*store->stream_exists("lead-1"));
    EXPECT_EQ(*store->stream_version("lead-1"), round);
    ASSERT_TRUE(store->append("lead-1", ExpectedVersion::exact(round), evs(1)));
  }
  EXPECT_EQ(*store->stream_version("lead-1"), 3);
  EXPECT_FALSE(*store->stream_exists("lead-2"));
  ASSERT_TRUE(store->append("lead-2", ExpectedVersion::no_stream(), evs(1)));
  EXPECT_TRUE(*store->stream_exists("lead-2"));
}

TEST(FirstPositions, KeepsWhatItWasToldWithinItsBound) {
  detail::FirstPositions cache(32);  // 16 shards of at most 3
  EXPECT_FALSE(cache.find("lead-1"));
  cache.remember("lead-1", 7);
  EXPECT_EQ(cache.find("lead-1"), 7u);
  for (int i = 0; i < 1000; ++i)
    cache.remember("lead-x" + std::to_string(i), static_cast<std::uint64_t>(i) + 8);
  std::size_t kept = 0;
  for (int i = 0; i < 1000; ++i) {
    if (auto p = cache.find("lead-x" + std::to_string(i))) {
      EXPECT_EQ(*p, static_cast<std::uint64_t>(i) + 8);
      ++kept;
    }
  }
  EXPECT_GT(kept, 0u);
  EXPECT_LE(kept, 48u);
}

TEST_F(StoreFixture, CommitListenersAndWaitFor) {
  std::atomic<std::uint64_t> seen{0};
  auto id = store->add_commit_listener([&](std::uint64_t h) { seen = h; });
  ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), evs(2)));
  EXPECT_EQ(seen.load(), 2u);
  EXPECT_EQ(store->wait_for(1, std::chrono::milliseconds(1)), 2u);
  store->remove_commit_listener(id);
  ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), evs(1)));
  EXPECT_EQ(seen.load(), 2u);
}

TEST_F(StoreFixture, RejectsBadInputAndWritesNothing) {
  auto expect_err = [&](std::string stream, std::vector<NewEvent> events, errc code) {
    auto r = store->append(stream, ExpectedVersion::any(), std::move(events));
    ASSERT_FALSE(r) << stream;
    EXPECT_EQ(r.error().code, code) << r.error().message;
  };
  expect_err("nodash", evs(1), errc::invalid_stream_name);
  expect_err("Lead-1", evs(1), errc::invalid_stream_name);
  expect_err("lead-", evs(1), errc::invalid_stream_name);
  expect_err("lead-a b", evs(1), errc::invalid_stream_name);
  expect_err(std::string("lead-a\0b", 8), evs(1), errc::invalid_stream_name);
  expect_err("lead-" + std::string(300, 'x'), evs(1), errc::invalid_stream_name);
  expect_err("lead-1", {}, errc::empty_batch);
  expect_err("lead-1", {ev("LeadCreated")}, errc::invalid_event_type);
  expect_err("lead-1", {ev("lead.created")}, errc::invalid_event_type);
  expect_err("lead-1", {ev("lead.created.v1", "{")}, errc::invalid_json);
  expect_err("lead-1", {ev("lead.created.v1", "[1,2]")}, errc::invalid_json);
  expect_err("lead-1", {ev("lead.created.v1", "{} x")}, errc::invalid_json);
  expect_err("lead-1", {ev("lead.created.v1", "{\"a\":\"\xff\"}")}, errc::invalid_json);
  expect_err("lead-1", {ev("lead.created.v1", "{}", "not-a-uuid")}, errc::invalid_event_id);
  expect_err("lead-1", {ev("lead.created.v1", R"({"big":")" + std::string(2 << 20, 'a') + "\"}")},
             errc::event_too_large);
  expect_err("lead-1", evs(10'001), errc::batch_too_large);
  auto dup = ev("lead.created.v1", "{}", "0193a0c4-0000-7000-8000-00000000000a");
  expect_err("lead-1", {dup, dup}, errc::invalid_event_id);
  auto badmeta = ev();
  badmeta.metadata.reason = "\xc3\x28";
  expect_err("lead-1", {badmeta}, errc::invalid_json);
  // A multi-stream append where only the second part is bad writes nothing.
  std::vector<StreamAppend> parts;
  parts.push_back({"lead-1", ExpectedVersion::any(), evs(1)});
  parts.push_back({"lead-2", ExpectedVersion::any(), {ev("bad type")}});
  EXPECT_FALSE(store->append_multi(parts));
  parts[1] = {"lead-1", ExpectedVersion::any(), evs(1)};
  auto dupstream = store->append_multi(parts);
  ASSERT_FALSE(dupstream);
  EXPECT_EQ(dupstream.error().code, errc::duplicate_stream_in_batch);
  EXPECT_EQ(store->head(), 0u);
}

TEST_F(StoreFixture, VerifyCatchesATamperedEvent) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->append("account-" + std::to_string(i % 3), ExpectedVersion::any(), evs(2)));
  }
  auto ok = store->verify();
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.checked, 20u);
  store->close();
  store.reset();

  // An insider edits event 7's data directly in RocksDB, keeping the record well-formed.
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* n : {"default", "events", "streams", "heads", "ids", "snapshots"}) {
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.str(), cfs, &handles, &raw).ok());
    std::string key = eventcrm::store::detail::be64(7), value;
    ASSERT_TRUE(raw->Get(rocksdb::ReadOptions(), handles[1], key, &value).ok());
    RecordedEvent e;
    ASSERT_TRUE(eventcrm::store::detail::decode_record(value, e));
    e.data = R"({"i":999})";
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[1], key,
                         eventcrm::store::detail::encode_record(e))
                    .ok());
    for (auto* h : handles)
      raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  reopen();
  auto rep = store->verify();
  EXPECT_FALSE(rep.ok);
  ASSERT_TRUE(rep.first_broken_position);
  EXPECT_EQ(*rep.first_broken_position, 7u);
  EXPECT_EQ(rep.checked, 6u);
  EXPECT_TRUE(store->verify(1, 6).ok);
}

TEST_F(StoreFixture, SnapshotsRoundTrip) {
  EXPECT_EQ(store->load_snapshot("opportunity-1")->version, -1);
  ASSERT_TRUE(store->save_snapshot("opportunity-1", 41, std::string("state\0bytes", 11)));
  auto s = store->load_snapshot("opportunity-1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->version, 41);
  EXPECT_EQ(s->bytes, std::string("state\0bytes", 11));
}

TEST_F(StoreFixture, RelaxedDurabilityStillCommitsInOrder) {
  reopen(Durability::relaxed);
  ASSERT_TRUE(store->append("lead-1", ExpectedVersion::any(), evs(3)));
  reopen();
  EXPECT_EQ(store->head(), 3u);
}

TEST_F(StoreFixture, AppendAfterCloseFailsCleanly) {
  store->close();
  auto r = store->append("lead-1", ExpectedVersion::any(), evs(1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::closed);
}

TEST(CloudEvents, EnvelopeHasStandardAttributesAndExtensions) {
  RecordedEvent e;
  e.id = "0193a0c4-0000-7000-8000-000000000001";
  e.type = "lead.created.v1";
  e.stream = "lead-42";
  e.stream_version = 3;
  e.position = 99;
  e.time_ms = 1'764'061'200'123;
  e.data = R"({"name":"An \"A\""})";
  e.metadata.actor = "user-7";
  e.metadata.reason = "line1\nline2";
  e.metadata.extra = {{"source", "web"}};
  std::string out;
  append_cloudevent_json(out, e);
  EXPECT_NE(out.find(R"("specversion":"1.0")"), std::string::npos);
  EXPECT_NE(out.find(R"("source":"/eventcrm/lead")"), std::string::npos);
  EXPECT_NE(out.find(R"("subject":"lead-42")"), std::string::npos);
  EXPECT_NE(out.find(R"("time":"2025-11-25T09:00:00.123Z")"), std::string::npos);
  EXPECT_NE(out.find(R"("data":{"name":"An \"A\""})"), std::string::npos);
  EXPECT_NE(out.find(R"("position":99,"streamversion":3)"), std::string::npos);
  EXPECT_NE(out.find(R"("reason":"line1\nline2")"), std::string::npos);
  EXPECT_NE(out.find(R"("metadata":{"source":"web"})"), std::string::npos);
  EXPECT_EQ(out.find("correlationid"), std::string::npos);
}

TEST(Rfc3339, RoundTripsAndRejectsMalformed) {
  std::int64_t ms = 0;
  ASSERT_TRUE(parse_rfc3339_ms("2025-11-25T09:00:00.123Z", ms));
  EXPECT_EQ(ms, 1'764'061'200'123);
  EXPECT_EQ(format_rfc3339_ms(ms), "2025-11-25T09:00:00.123Z");
  ASSERT_TRUE(parse_rfc3339_ms("2025-11-25T16:00:00+07:00", ms));
  EXPECT_EQ(ms, 1'764'061'200'000);
  for (const char* bad : {"2025-02-30T00:00:00Z", "2025-11-25 09:00:00Z", "2025-11-25T09:00:00",
                          "2025-11-25T25:00:00Z", "2025-11-25T09:00:00.Z", "x"}) {
    EXPECT_FALSE(parse_rfc3339_ms(bad, ms)) << bad;
  }
}

// The allocation-free formatter agrees with the C library's calendar, before 1970, on leap days
// and across centuries.
TEST(Rfc3339, FormatterMatchesGmtime) {
  std::vector<std::int64_t> samples = {
      0, -1, -999, -1000, -86'400'001, 951'782'400'000, 4'107'542'399'999, 253'402'300'799'999};
  for (std::int64_t ms = -2'208'988'800'000; ms < 4'102'444'800'000; ms += 7'777'777'777)
    samples.push_back(ms);
  for (std::int64_t ms : samples) {
    std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms - secs * 1000));
    EXPECT_EQ(format_rfc3339_ms(ms), want) << ms;
    std::int64_t back = 0;
    ASSERT_TRUE(parse_rfc3339_ms(format_rfc3339_ms(ms), back)) << ms;
    EXPECT_EQ(back, ms);
  }
}

TEST(Names, StreamAndTypeValidation) {
  EXPECT_TRUE(valid_stream_name("opportunity-7f3a"));
  EXPECT_TRUE(valid_stream_name("stock_item-p1:w2"));
  EXPECT_FALSE(valid_stream_name("-x"));
  EXPECT_FALSE(valid_stream_name("9lead-1"));
  EXPECT_TRUE(valid_event_type("opportunity.stage_changed.v1"));
  EXPECT_TRUE(valid_event_type("appointment.reminder_due.v12"));
  EXPECT_FALSE(valid_event_type("opportunity.v1"));
  EXPECT_FALSE(valid_event_type("Opportunity.changed.v1"));
  EXPECT_FALSE(valid_event_type("opportunity.changed.1"));
}

namespace {

TEST(Uuid7Sequence, StrictlyIncreasingWithinAMillisecondAndWhenTheClockStepsBack) {
  detail::Uuid7Sequence seq;
  std::string prev;
  std::int64_t ms = 1'764'000'000'000;
  for (int i = 0; i < 100'000; ++i) {
    if (i == 50'000)
      ms -= 5'000;  // the clock steps back: ids keep growing
    else if (i % 10'000 == 0)
      ++ms;
    auto id = seq.next(ms);
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '7') << id;                                          // version 7
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC 4122 variant
    ASSERT_LT(prev, id) << "after " << i << " ids";
    prev = std::move(id);
  }
}

TEST_F(StoreFixture, GeneratedEventIdsFollowLogOrder) {
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 50; ++i)
        ASSERT_TRUE(store->append("order-" + std::to_string(w), ExpectedVersion::any(),
                                  {NewEvent{{}, "order.placed.v1", "{}", {}}}));
    });
  }
  for (auto& t : writers)
    t.join();
  auto page = store->read_all(0, 1000, Filter{}, 10'000);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->events.size(), 400u);
  for (std::size_t i = 1; i < page->events.size(); ++i)
    EXPECT_LT(page->events[i - 1].id, page->events[i].id) << "position " << i + 1;
}

}  // namespace
