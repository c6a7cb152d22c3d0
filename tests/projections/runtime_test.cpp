// The projection runtime: catch-up then live, checkpoints across restarts, batching, failure
// isolation, read-your-writes, version switches without serving a half-built model, rebuilds.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <map>
#include <thread>

#include "projections/bytes.hpp"
#include "projections/counting_projection.hpp"
#include "projections/customer_history.hpp"
#include "projections/fixture.hpp"
#include "projections/registry.hpp"
#include "projections/runtime.hpp"

using namespace eventcrm;
using namespace std::chrono_literals;
using eventcrm::testing::CountingProjection;
using projections::State;

namespace {

using RuntimeTest = eventcrm::testing::ProjectionFixture;

TEST_F(RuntimeTest, CatchesUpInBatchesThenFollowsLive) {
  append_many(2500);
  open_runtime();
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>()));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({"counting"}, 2500, 10s));
  EXPECT_EQ(row("counting", "count"), "2500");
  ASSERT_TRUE(wait_state("counting", State::caught_up));

  const auto pos = append("lead-2", "lead.created.v1");
  ASSERT_TRUE(runtime->wait_until_applied({}, pos, 5s));
  EXPECT_EQ(row("counting", "count"), "2501");
  auto st = runtime->status("counting");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->checkpoint, pos);
  EXPECT_EQ(st->lag_events, 0u);
  EXPECT_EQ(st->serving_version, 1u);
  EXPECT_EQ(st->events_applied, 2501u);
  EXPECT_EQ(row("counting", "dup"), "");
}

// A live worker sleeps through commits of events it does not read (its position moves at its
// next poll); a reader waiting for it to pass such a position does not wait for the poll.
TEST_F(RuntimeTest, ReadYourWritesDoesNotWaitForAnIdleWorkersPoll) {
  append("account-1", "account.created.v1");
  projections::RuntimeOptions ro;
  ro.poll = std::chrono::seconds(30);
  open_runtime(ro);
  store::Filter accounts;
  accounts.types = {"account.created.v1"};
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>("counting", 1, accounts)));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({"counting"}, 1, 10s));
  ASSERT_TRUE(wait_state("counting", State::caught_up));
  for (int i = 0; i < 3; ++i) {
    const auto pos = append("lead-1", "lead.created.v1");  // not read by the worker
    const auto started = std::chrono::steady_clock::now();
    ASSERT_TRUE(runtime->wait_until_applied({"counting"}, pos, 10s));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_EQ(runtime->status("counting")->lag_events, 0u);
  }
  const auto pos = append("account-2", "account.created.v1");
  ASSERT_TRUE(runtime->wait_until_applied({"counting"}, pos, 10s));
  EXPECT_EQ(row("counting", "count"), "2");

  // Its lag counts only events it reads: none behind while others are committed.
  for (int i = 0; i < 5; ++i)
    append("lead-1", "lead.created.v1");
  auto st = runtime->status("counting");
  ASSERT_TRUE(st);
  EXPECT_LT(st->checkpoint, st->head);  // its position moves at its poll (30 s here)
  EXPECT_EQ(st->lag_events, 0u);
  EXPECT_EQ(st->lag_seconds, 0.0);
}

TEST_F(RuntimeTest, ReportsLagInPositionsAndSeconds) {
  append_many(10);
  open_runtime();
  std::atomic<bool> hold{true};
  auto p = std::make_unique<CountingProjection>();
  p->hold = &hold;
  ASSERT_TRUE(runtime->add(std::move(p)));
  clock->ms += 30'000;  // the events are 30 s old
  runtime->start();
  std::this_thread::sleep_for(50ms);
  auto st = runtime->status("counting");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->lag_events, 10u);
  EXPECT_GE(st->lag_seconds, 29.0);
  EXPECT_EQ(st->state, State::rebuilding);  // first build: nothing served yet
  EXPECT_FALSE(runtime->view("counting"));  // never a half-built model
  EXPECT_FALSE(runtime->wait_until_applied({"counting"}, 10, 50ms));
  hold = false;
  EXPECT_TRUE(runtime->wait_until_applied({"counting"}, 10, 5s));
  st = runtime->status("counting");
  EXPECT_EQ(st->lag_events, 0u);
  EXPECT_EQ(st->lag_seconds, 0.0);
}

TEST_F(RuntimeTest, ResumesFromItsCheckpointWithoutReapplying) {
  append_many(1500);
  open_runtime(128);
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>()));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({"counting"}, 1500, 10s));
  runtime->stop();
  append_many(700, "lead-9");
  open_runtime(128);
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>()));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({"counting"}, 2200, 10s));
  EXPECT_EQ(row("counting", "count"), "2200");
  EXPECT_EQ(row("counting", "dup"), "");
  auto st = runtime->status("counting");
  EXPECT_EQ(st->events_applied, 700u);  // only the new ones this time
}

// An offline build spills rows without a checkpoint (it is never resumed part-way): stopped after
// a spill, it is started over in an emptied slot, here by a serving runtime, and every event
// counts once.
TEST_F(RuntimeTest, BulkBuildStoppedAfterASpillIsStartedOverNotResumed) {
  append_many(5000);
  projections::RuntimeOptions ro;
  ro.bulk_load = true;
  ro.bulk_memory_bytes = 1;  // every commit spills
  ro.catch_up_batch = 1000;
  ro.catch_up_chunks = 1;
  open_runtime(ro);
  std::atomic<bool> hold{false};
  auto counting = std::make_unique<CountingProjection>();
  counting->hold = &hold;
  ASSERT_TRUE(runtime->add(std::move(counting)));
  ASSERT_TRUE(runtime->rebuild("counting"));
  runtime->start();
  for (int i = 0; i < 10'000 && runtime->status("counting")->build_position == 0; ++i)
    std::this_thread::sleep_for(1ms);
  hold = true;  // the worker stops in its next event, then sees the runtime stopping
  std::thread stopper([&] { runtime->stop(); });
  std::this_thread::sleep_for(20ms);
  hold = false;
  stopper.join();
  const auto part = runtime->status("counting")->build_position;
  ASSERT_GT(part, 0u);
  ASSERT_LT(part, 5000u);

  open_runtime(128);
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>()));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({"counting"}, 5000, 20s));
  EXPECT_EQ(row("counting", "count"), "5000");
  EXPECT_EQ(row("counting", "dup"), "");
}

TEST_F(RuntimeTest, FilteredProjectionSeesOnlyItsEventsAndAdvancesPastTheRest) {
  append_many(300, "lead-1", "lead.noted.v1");
  append("case-1", "case.opened.v1");
  append_many(300, "lead-1", "lead.noted.v1");
  open_runtime();
  store::Filter f;
  f.categories = {"case"};
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>("cases", 1, f)));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({"cases"}, store->head(), 5s));
  EXPECT_EQ(row("cases", "count"), "1");
}

TEST_F(RuntimeTest, PoisonEventStopsOnlyThatProjection) {
  append_many(50);
  const auto poison = append("lead-7", "lead.broken.v1");
  append_many(50);
  open_runtime();
  auto bad = std::make_unique<CountingProjection>("fragile");
  bad->poison_type = "lead.broken.v1";
  ASSERT_TRUE(runtime->add(std::move(bad)));
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>("sturdy")));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({"sturdy"}, 101, 5s));
  ASSERT_TRUE(wait_state("fragile", State::failed));
  auto st = runtime->status("fragile");
  ASSERT_TRUE(st);
  ASSERT_TRUE(st->failed_position);
  EXPECT_EQ(*st->failed_position, poison);
  EXPECT_NE(st->error.find("poison event"), std::string::npos);
  EXPECT_EQ(st->checkpoint, 0u);  // nothing served: its first build never finished
  EXPECT_EQ(st->build_position, poison - 1);
  // The events before the poison one, in the same batch, are committed; the rest are not.
  EXPECT_FALSE(runtime->view("fragile"));  // its first build never finished
  EXPECT_FALSE(runtime->wait_until_applied({"fragile"}, 10, 2s));
  EXPECT_EQ(row("sturdy", "count"), "101");
  // Live events still reach the healthy projection.
  const auto pos = append("lead-8", "lead.created.v1");
  EXPECT_TRUE(runtime->wait_until_applied({"sturdy"}, pos, 5s));
}

TEST_F(RuntimeTest, PoisonInALiveProjectionKeepsServingWhatWasApplied) {
  append_many(20);
  open_runtime();
  auto bad = std::make_unique<CountingProjection>("fragile");
  bad->poison_type = "lead.broken.v1";
  ASSERT_TRUE(runtime->add(std::move(bad)));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({"fragile"}, 20, 5s));
  const auto poison = append("lead-7", "lead.broken.v1");
  ASSERT_TRUE(wait_state("fragile", State::failed));
  auto st = runtime->status("fragile");
  EXPECT_EQ(st->failed_position.value_or(0), poison);
  EXPECT_EQ(row("fragile", "count"), "20");
  EXPECT_EQ(st->lag_events, 1u);
}

// Counts the rows of every slot in the read-model database (after the runtime closed it).
std::size_t raw_data_rows(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Options o;
  auto s = rocksdb::DB::OpenForReadOnly(o, path, &raw);
  if (!s.ok())
    return SIZE_MAX;
  std::unique_ptr<rocksdb::DB> db(raw);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  std::size_t n = 0;
  for (it->Seek("D"); it->Valid() && it->key().starts_with("D"); it->Next())
    ++n;
  return n;
}

TEST_F(RuntimeTest, NewVersionIsBuiltBesideTheOldAndSwitchedWhenCaughtUp) {
  append_many(400);
  open_runtime(50);
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>("counting", 1)));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({"counting"}, 400, 5s));
  runtime->stop();

  open_runtime(50);
  std::atomic<bool> hold{true};
  auto v2 = std::make_unique<CountingProjection>("counting", 2);
  v2->hold = &hold;
  ASSERT_TRUE(runtime->add(std::move(v2)));
  runtime->start();
  ASSERT_TRUE(wait_state("counting", State::rebuilding));
  // Queries keep reading version 1, complete, while version 2 is built.
  auto v = runtime->view("counting");
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)->version(), 1u);
  EXPECT_EQ((*v)->get("count").value_or(""), "400");
  EXPECT_EQ((*v)->get("seen/" + projections::bytes::be64(1)).value_or(""), "1");
  hold = false;
  ASSERT_TRUE(wait_state("counting", State::caught_up));
  auto st = runtime->status("counting");
  EXPECT_EQ(st->serving_version, 2u);
  EXPECT_EQ(row("counting", "seen/" + projections::bytes::be64(1)), "2");
  EXPECT_EQ(row("counting", "count"), "400");
  // The old view still reads its snapshot.
  EXPECT_EQ((*v)->get("count").value_or(""), "400");
  v->reset();
  runtime.reset();
  EXPECT_EQ(raw_data_rows(readmodels()), 401u);  // version 1's rows are gone
}

TEST_F(RuntimeTest, RebuildWhileLiveWithConcurrentAppendsIsByteIdentical) {
  open_runtime(200);
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>()));
  ASSERT_TRUE(runtime->add(projections::make_customer_history()));
  runtime->start();
  std::atomic<bool> stop{false};
  std::thread appender([&] {
    for (int i = 0; !stop; ++i) {
      const std::string a = "A" + std::to_string(i % 7);
      append("account-" + a, "account.created.v1", R"({"name":"Acme )" + std::to_string(i) + "\"}");
      append("contact-" + std::to_string(i), "contact.created.v1",
             R"({"account_id":")" + a + R"(","name":"Nguyen Van )" + std::to_string(i) + "\"}");
      append("contact-" + std::to_string(i), "contact.renamed.v1", R"({"name":"B"})", "user-2");
      append("opportunity-" + std::to_string(i), "opportunity.opened.v1",
             R"({"contact_id":")" + std::to_string(i) +
                 R"(","amount":{"amount":"10.00","currency":"VND"}})");
      append("opportunity-" + std::to_string(i), "opportunity.stage_changed.v1",
             R"({"stage":"negotiation"})", "user-3", "price agreed");
      append("lead-" + std::to_string(i), "lead.created.v1", R"({"source":"web"})");
    }
  });
  std::this_thread::sleep_for(600ms);
  stop = true;
  appender.join();
  const auto head = store->head();
  ASSERT_TRUE(runtime->wait_until_applied({}, head, 10s));
  auto live_counting = runtime->dump("counting");
  auto live_history = runtime->dump("customer_history");
  ASSERT_TRUE(live_counting && live_history);
  EXPECT_EQ(live_counting->size(), head + 1);  // one seen row per event, plus the count
  EXPECT_GT(live_history->size(), 100u);

  ASSERT_TRUE(runtime->rebuild("counting"));
  ASSERT_TRUE(runtime->rebuild("customer_history"));
  ASSERT_TRUE(wait_state("counting", State::caught_up));
  ASSERT_TRUE(wait_state("customer_history", State::caught_up));
  EXPECT_EQ(*runtime->dump("counting"), *live_counting);
  EXPECT_EQ(*runtime->dump("customer_history"), *live_history);
}

TEST_F(RuntimeTest, OfflineRebuildRunsToTheHeadAndStops) {
  append_many(1200);
  open_runtime();
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>()));
  ASSERT_TRUE(runtime->rebuild("counting"));
  int calls = 0;
  auto done = runtime->run_until_caught_up([&](const auto&) { ++calls; });
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_GE(calls, 1);
  EXPECT_EQ(row("counting", "count"), "1200");
  auto st = runtime->status("counting");
  EXPECT_EQ(st->checkpoint, 1200u);
  EXPECT_EQ(st->serving_version, 1u);
  // Again, from scratch: the same rows.
  auto before = runtime->dump("counting");
  ASSERT_TRUE(runtime->rebuild("counting"));
  ASSERT_TRUE(runtime->run_until_caught_up());
  EXPECT_EQ(*runtime->dump("counting"), *before);
}

// One customer's records, 13 events over 7 streams, with payloads the domain's codecs accept.
void append_customer(eventcrm::testing::ProjectionFixture& f, int n) {
  const std::string id = "c" + std::to_string(n);
  const std::string owner = "user-" + std::to_string(n % 7);
  const std::string at =
      "2026-11-" + std::string(n % 28 < 9 ? "0" : "") + std::to_string(n % 28 + 1) + "T09:00:00Z";
  const std::string common = R"(,"owner_id":")" + owner + R"(","created_by":")" + owner +
                             R"(","created_at":")" + at + "\"}";
  f.append("account-" + id, "account.created.v1",
           R"({"account_id":")" + id + R"(","profile":{"name":"Customer )" + id +
               R"(","industry":"retail"})" + common,
           owner);
  for (int k = 0; k < 2; ++k) {
    const std::string cid = id + "-" + std::to_string(k);
    f.append("contact-" + cid, "contact.created.v1",
             R"({"contact_id":")" + cid + R"(","account_id":")" + id +
                 R"(","profile":{"first_name":"Van","last_name":"Nguyen )" + cid + R"("})" + common,
             owner);
    f.append("contact-" + cid, "contact.updated.v1",
             R"({"contact_id":")" + cid + R"(","account_id":")" + id +
                 R"(","changes":{"title":"Buyer )" + std::to_string(n % 3) + R"("}})",
             owner, "promoted");
  }
  const std::string opp = R"({"opportunity_id":")" + id + R"(","account_id":")" + id + "\"";
  f.append("opportunity-" + id, "opportunity.created.v1",
           opp + R"(,"name":"Deal )" + id + R"(","amount":{"amount":")" + std::to_string(1000 + n) +
               R"(.50","currency":"VND"},"expected_close_date":"2026-12-15","probability":10,)" +
               R"("stage":"prospecting")" + common,
           owner);
  f.append("opportunity-" + id, "opportunity.stage_changed.v1",
           opp + R"(,"from_stage":"prospecting","to_stage":"proposal","probability":50,)" +
               R"("changed_at":")" + at + "\"}",
           owner);
  f.append("opportunity-" + id, "opportunity.stage_changed.v1",
           opp + R"(,"from_stage":"proposal","to_stage":"negotiation","probability":75,)" +
               R"("changed_at":")" + at + "\"}",
           owner);
  if (n % 2 == 0) {
    f.append("opportunity-" + id, "opportunity.won.v1",
             opp + R"(,"amount":{"amount":")" + std::to_string(1000 + n) +
                 R"(.50","currency":"VND"},"stage":"won","closed_on":"2026-11-20"})",
             owner);
  }
  for (int k = 0; k < 2; ++k) {
    const std::string aid = id + "-" + std::to_string(k);
    f.append("activity-" + aid, "activity.logged.v1",
             R"({"activity_id":")" + aid + R"(","account_id":")" + id +
                 R"(","kind":"call","subject":"Follow-up","occurred_at":")" + at +
                 R"(","logged_by":")" + owner + "\"}",
             owner);
  }
  f.append("lead-" + id, "lead.created.v1",
           R"({"lead_id":")" + id + R"(","company":"Customer )" + id +
               R"(","first_name":"Lan","last_name":"Tran","utm":{"source":"newsletter"})" + common,
           "web");
  f.append("lead-" + id, "lead.qualified.v1",
           R"({"lead_id":")" + id + R"(","qualified_by":")" + owner + "\"}", owner);
}

// Every read model of the registry, built live (each event applied as it is appended, through the
// store's subscription) and rebuilt offline in bulk (chunks of the log decoded once and shared by
// all workers, rows kept in memory and ingested as sorted table files): the same rows, byte for
// byte. Also with a memory budget so small that the builds spill at every commit (rows read back
// from ingested files, deletes kept as tombstones), and with a bulk build stopped part-way and
// finished by a serving runtime (which must start it over, not resume rows without a checkpoint).
TEST_F(RuntimeTest, EveryReadModelRebuiltInBulkIsByteIdenticalToItsLiveBuild) {
  open_runtime();
  std::vector<std::string> names;
  for (auto& p : projections::all_projections()) {
    names.push_back(p->name());
    ASSERT_TRUE(runtime->add(std::move(p)));
  }
  runtime->start();
  for (int n = 0; n < 480; ++n)
    append_customer(*this, n);
  const auto head = store->head();
  ASSERT_GT(head, 5000u);  // several chunks of the shared reader
  ASSERT_TRUE(runtime->wait_until_applied({}, head, 60s));
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> live;
  for (const auto& name : names) {
    auto rows = runtime->dump(name);
    ASSERT_TRUE(rows) << name << ": " << rows.error().message;
    live[name] = std::move(*rows);
  }
  EXPECT_GT(live["opportunities"].size(), 400u);
  EXPECT_GT(live["customer_history"].size(), head);

  auto expect_live_rows = [&](const char* how) {
    for (const auto& name : names) {
      auto st = runtime->status(name);
      ASSERT_TRUE(st);
      EXPECT_EQ(st->checkpoint, head) << how << ": " << name;
      auto rows = runtime->dump(name);
      ASSERT_TRUE(rows) << how << ": " << name;
      EXPECT_TRUE(*rows == live[name]) << how << ": " << name << ": rebuilt " << rows->size()
                                       << " rows, live " << live[name].size();
    }
  };
  auto reopen = [&](bool bulk, std::size_t memory) {
    projections::RuntimeOptions ro;
    ro.bulk_load = bulk;
    ro.bulk_memory_bytes = memory;
    ro.catch_up_batch = 3000;
    ro.catch_up_chunks = 3;
    open_runtime(ro);
    for (auto& p : projections::all_projections())
      ASSERT_TRUE(runtime->add(std::move(p)));
  };
  for (std::size_t memory : {std::size_t{1} << 30, std::size_t{1}}) {
    reopen(true, memory);
    for (const auto& name : names)
      ASSERT_TRUE(runtime->rebuild(name));
    auto done = runtime->run_until_caught_up();
    ASSERT_TRUE(done) << done.error().message;
    expect_live_rows(memory == 1 ? "spilling at every commit" : "in memory");
    ASSERT_TRUE(runtime->compact());
    expect_live_rows("after a compaction");
  }

  reopen(true, 1);
  for (const auto& name : names)
    ASSERT_TRUE(runtime->rebuild(name));
  runtime->start();
  // Stopped once the sales dashboard (counters: an event applied twice shows) has spilled part of
  // its build.
  for (int i = 0; i < 5000; ++i) {
    auto st = runtime->status("sales_dashboard");
    ASSERT_TRUE(st);
    if (st->build_position > 0 || st->state == projections::State::caught_up)
      break;
    std::this_thread::sleep_for(1ms);
  }
  runtime->stop();
  reopen(false, 0);
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({}, head, 60s));
  expect_live_rows("bulk builds stopped, then finished live");
}

TEST_F(RuntimeTest, RejectsBadNamesAndUnknownProjections) {
  open_runtime();
  EXPECT_FALSE(runtime->add(std::make_unique<CountingProjection>("Bad-Name")));
  EXPECT_FALSE(runtime->add(std::make_unique<CountingProjection>("v0", 0)));
  ASSERT_TRUE(runtime->add(std::make_unique<CountingProjection>()));
  EXPECT_FALSE(runtime->add(std::make_unique<CountingProjection>()));
  EXPECT_FALSE(runtime->view("nope"));
  EXPECT_FALSE(runtime->rebuild("nope"));
  EXPECT_FALSE(runtime->wait_until_applied({"nope"}, 0, 10ms));
}

}  // namespace
