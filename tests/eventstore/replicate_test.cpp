// EventStore::replicate, the read replica's write path: events recorded by another store are
// stored verbatim and must continue the local log exactly (positions, stream versions, hash
// chain); redeliveries are skipped; anything else writes nothing.
#include <gtest/gtest.h>

#include "eventstore/store.hpp"
#include "support/temp_dir.hpp"

using namespace eventcrm::store;
using eventcrm::testing::TempDir;

namespace {

std::unique_ptr<EventStore> open_store(const TempDir& dir) {
  Options o;
  o.path = dir.str();
  o.durability = Durability::relaxed;
  auto s = EventStore::open(o);
  EXPECT_TRUE(s) << s.error().message;
  return std::move(*s);
}

NewEvent ev(const std::string& data, std::vector<std::pair<std::string, std::string>> extra = {}) {
  NewEvent e;
  e.type = "account.updated.v1";
  e.data = data;
  e.metadata.actor = "user-1";
  e.metadata.reason = "test";
  e.metadata.extra = std::move(extra);
  return e;
}

struct ReplicateTest : ::testing::Test {
  TempDir source_dir, replica_dir;
  std::unique_ptr<EventStore> source = open_store(source_dir);
  std::unique_ptr<EventStore> replica = open_store(replica_dir);

  std::vector<RecordedEvent> source_log() {
    auto page = source->read_all(0, 10'000, {}, 100'000);
    EXPECT_TRUE(page);
    return page->events;
  }
  void write_source() {
    for (int i = 0; i < 20; ++i) {
      std::vector<StreamAppend> parts;
      parts.push_back({"account-a" + std::to_string(i % 3),
                       ExpectedVersion::any(),
                       {ev(R"({"i":)" + std::to_string(i) + "}", {{"k", std::to_string(i)}})}});
      if (i % 5 == 0)
        parts.push_back({"contact-c" + std::to_string(i),
                         ExpectedVersion::no_stream(),
                         {ev("{}"), ev(R"({"second":true})", {{"empty", ""}})}});
      ASSERT_TRUE(source->append_multi(std::move(parts)));
    }
  }
};

TEST_F(ReplicateTest, CopiesTheLogVerbatimInRuns) {
  write_source();
  auto log = source_log();
  ASSERT_EQ(log.size(), 28u);
  for (std::size_t i = 0; i < log.size(); i += 5) {
    std::vector<RecordedEvent> run(
        log.begin() + static_cast<std::ptrdiff_t>(i),
        log.begin() + static_cast<std::ptrdiff_t>(std::min(log.size(), i + 5)));
    auto r = replica->replicate(run);
    ASSERT_TRUE(r) << r.error().message;
  }
  EXPECT_EQ(replica->head(), source->head());
  auto copy = replica->read_all(0, 10'000, {}, 100'000);
  ASSERT_TRUE(copy);
  ASSERT_EQ(copy->events.size(), log.size());
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(copy->events[i].id, log[i].id);
    EXPECT_EQ(copy->events[i].hash, log[i].hash);
    EXPECT_EQ(copy->events[i].metadata, log[i].metadata);
    EXPECT_EQ(copy->events[i].time_ms, log[i].time_ms);
  }
  EXPECT_TRUE(replica->verify().ok);
  EXPECT_EQ(*replica->stream_version("account-a0"), *source->stream_version("account-a0"));
  auto by_id = replica->get_event(log[7].id);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->position, log[7].position);

  // A redelivery of what is already there is skipped, not an error.
  auto again = replica->replicate({log[3], log[4]});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(replica->head(), source->head());
}

TEST_F(ReplicateTest, RefusesGapsOtherLogsAndTamperingWithoutWriting) {
  write_source();
  auto log = source_log();
  ASSERT_TRUE(replica->replicate({log[0], log[1]}));

  auto gap = replica->replicate({log[3]});
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error().code, errc::wrong_expected_version);

  RecordedEvent tampered = log[2];
  tampered.data = R"({"i":999})";
  auto bad = replica->replicate({tampered, log[3]});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::corrupted);
  EXPECT_EQ(replica->head(), 2u);

  // A run whose second half is bad writes nothing of its first half either.
  RecordedEvent bad_version = log[3];
  bad_version.stream_version += 1;
  auto half = replica->replicate({log[2], bad_version});
  ASSERT_FALSE(half);
  EXPECT_EQ(replica->head(), 2u);

  // Another log's event at a position this one already holds.
  RecordedEvent other = log[1];
  other.id = "0190c0de-0000-7000-8000-000000000001";
  auto foreign = replica->replicate({other});
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, errc::corrupted);

  ASSERT_TRUE(replica->replicate({log[2], log[3]}));
  EXPECT_EQ(replica->head(), 4u);
  EXPECT_TRUE(replica->verify().ok);
}

TEST_F(ReplicateTest, SubscribersOfTheReplicaSeeReplicatedEvents) {
  write_source();
  auto log = source_log();
  auto sub = replica->subscribe(0, {});
  ASSERT_TRUE(replica->replicate({log[0], log[1], log[2]}));
  auto got = sub->next(10, std::chrono::milliseconds(2000));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[2].id, log[2].id);
}

}  // namespace
