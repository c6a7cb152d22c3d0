// Recovery from a WAL with a hole: a power cut can leave a later, unsynced record on disk while
// an earlier one never reached it (page-cache writeback is not in file order). The store must
// open to the clean prefix before the hole, never with a gap in the log.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "eventstore/store.hpp"
#include "support/temp_dir.hpp"
#include "support/wal_file.hpp"

namespace {

using namespace eventcrm;
namespace fs = std::filesystem;

using eventcrm::testing::kWalBlock;
using eventcrm::testing::read_file;
using eventcrm::testing::WalRecord;
using eventcrm::testing::write_file;

// The one non-empty WAL (they are named by increasing numbers).
fs::path only_wal(const fs::path& dir) {
  return eventcrm::testing::last_wal(dir);
}

std::unique_ptr<store::EventStore> open_store(const fs::path& dir) {
  store::Options options;
  options.path = dir.string();
  auto opened = store::EventStore::open(options);
  if (!opened)
    ADD_FAILURE() << "open failed: " << opened.error().message;
  return opened ? std::move(*opened) : nullptr;
}

// Single-event appends, one WAL record each.
void append_events(store::EventStore& s, int n) {
  const std::string pad(300, 'x');
  for (int i = 0; i < n; ++i) {
    auto r = s.append("gap-" + std::to_string(i % 5), store::ExpectedVersion::any(),
                      {store::NewEvent{"",
                                       "test.happened.v1",
                                       R"({"n":)" + std::to_string(i) + R"(,"pad":")" + pad + "\"}",
                                       {}}});
    ASSERT_TRUE(r) << r.error().message;
  }
}

std::vector<std::uint64_t> positions(store::EventStore& s) {
  std::vector<std::uint64_t> out;
  std::uint64_t after = 0;
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = s.read_all(after, 500);
    if (!page || page->events.empty())
      break;
    for (const auto& e : page->events)
      out.push_back(e.position);
    after = out.back();
  }
  return out;
}

// Within one WAL RocksDB ends the log at a missing record, wherever it lies: this pins that
// down for the RocksDB the store is built with (the filter covers what it does not).
TEST(WalRecovery, AZeroedRecordEndsTheLogThere) {
  eventcrm::testing::TempDir root;
  const auto original = root.path() / "original";
  {
    auto s = open_store(original);
    ASSERT_TRUE(s);
    append_events(*s, 400);
    s->close();
  }
  const auto wal_name = only_wal(original).filename();
  ASSERT_FALSE(wal_name.empty());
  const auto recs = eventcrm::testing::wal_records(read_file(original / wal_name));
  ASSERT_GT(recs.size(), 300u);
  // Holes: a record in the middle of the first block, the first one of the second block, and a
  // record's first fragment (the rest of it in the next block).
  std::vector<std::size_t> holes;
  auto first = [&](auto pred) {
    for (std::size_t i = 0; i < recs.size(); ++i) {
      if (pred(recs[i]))
        return i;
    }
    return recs.size();
  };
  holes.push_back(
      first([](const WalRecord& r) { return r.type == 1 && r.offset > kWalBlock / 2; }));
  holes.push_back(first([](const WalRecord& r) { return r.type == 1 && r.offset >= kWalBlock; }));
  holes.push_back(first([](const WalRecord& r) { return r.type == 2; }));
  for (const auto hole : holes) {
    ASSERT_LT(hole, recs.size());
    std::size_t events_before = 0;  // a record of type 1 or 2 starts an event
    for (std::size_t i = 0; i < hole; ++i)
      events_before += recs[i].type == 1 || recs[i].type == 2 ? 1 : 0;
    const auto dir = root.path() / ("hole-" + std::to_string(hole));
    fs::copy(original, dir, fs::copy_options::recursive);
    auto bytes = read_file(dir / wal_name);
    std::memset(bytes.data() + recs[hole].offset, 0, recs[hole].size);
    write_file(dir / wal_name, bytes);

    auto s = open_store(dir);
    ASSERT_TRUE(s);
    const auto got = positions(*s);
    ASSERT_EQ(got.size(), events_before) << "hole at WAL record " << hole;
    for (std::size_t i = 0; i < got.size(); ++i)
      ASSERT_EQ(got[i], i + 1) << "a gap in the log after recovery";
    EXPECT_EQ(s->head(), events_before);
    const auto v = s->verify();
    EXPECT_TRUE(v.ok) << "the chain breaks: " << v.problem;
  }
}

// The record lost at the end of one WAL while the first record of the next WAL reached the
// disk: RocksDB reads the first WAL to its end without a corruption, then the next one.
TEST(WalRecovery, ARecordLostAtAWalsEndIsNotSkippedOver) {
  eventcrm::testing::TempDir root;
  const auto image = root.path() / "image", later = root.path() / "later";
  {
    auto s = open_store(image);
    ASSERT_TRUE(s);
    append_events(*s, 40);
    s->close();
  }
  // `later` goes on from the same state: reopening flushes the recovered WAL and starts a new
  // one, which gets event 41.
  fs::copy(image, later, fs::copy_options::recursive);
  const auto first_wal = only_wal(image);
  ASSERT_FALSE(first_wal.empty());
  {
    auto s = open_store(later);
    ASSERT_TRUE(s);
    append_events(*s, 1);
    s->close();
  }
  const auto next_wal = only_wal(later);
  ASSERT_FALSE(next_wal.empty());
  ASSERT_GT(next_wal.filename().string(), first_wal.filename().string());
  fs::copy_file(next_wal, image / next_wal.filename());
  // Event 40 never reached the disk.
  auto bytes = read_file(first_wal);
  const auto recs = eventcrm::testing::wal_records(bytes);
  ASSERT_EQ(recs.back().type, 1);
  bytes.resize(recs.back().offset);
  write_file(first_wal, bytes);

  auto s = open_store(image);
  ASSERT_TRUE(s);
  const auto got = positions(*s);
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(got[i], i + 1) << "a gap in the log after recovery (" << got.size() << " events)";
  EXPECT_EQ(got.size(), 39u);
  EXPECT_EQ(s->head(), 39u);
  EXPECT_EQ(s->stats().recovery_dropped_events.load(), 1u);
  const auto v = s->verify();
  EXPECT_TRUE(v.ok) << "the chain breaks: " << v.problem;

  // The log goes on from the prefix, and the dropped record stays dropped at the next open.
  append_events(*s, 5);
  s->close();
  s = open_store(image);
  ASSERT_TRUE(s);
  const auto again = positions(*s);
  ASSERT_EQ(again.size(), 44u);
  for (std::size_t i = 0; i < again.size(); ++i)
    ASSERT_EQ(again[i], i + 1);
  EXPECT_EQ(s->stats().recovery_dropped_events.load(), 0u);
  EXPECT_TRUE(s->verify().ok);
}

// The same when the lost record was the only one its WAL held: the replay's first record is
// already past the hole, and only the table files tell where the log ends.
TEST(WalRecovery, TheFirstRecordReplayedMayAlreadyBePastAHole) {
  eventcrm::testing::TempDir root;
  const auto base = root.path() / "base", a = root.path() / "a", b = root.path() / "b";
  auto run = [](const fs::path& dir, int events) {
    auto s = open_store(dir);
    ASSERT_TRUE(s);
    append_events(*s, events);
    s->close();
  };
  run(base, 40);
  fs::copy(base, a, fs::copy_options::recursive);
  run(a, 1);  // events 1-40 go to table files at the open; 41 to a new WAL
  fs::copy(a, b, fs::copy_options::recursive);
  run(b, 1);  // 41 to table files, 42 to a newer WAL
  const auto wal_41 = only_wal(a), wal_42 = only_wal(b);
  ASSERT_FALSE(wal_41.empty());
  ASSERT_FALSE(wal_42.empty());
  ASSERT_GT(wal_42.filename().string(), wal_41.filename().string());
  write_file(wal_41, "");  // event 41 never reached the disk; event 42 did
  fs::copy_file(wal_42, a / wal_42.filename());

  auto s = open_store(a);
  ASSERT_TRUE(s);
  const auto got = positions(*s);
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(got[i], i + 1) << "a gap in the log after recovery (" << got.size() << " events)";
  EXPECT_EQ(got.size(), 40u);
  EXPECT_EQ(s->stats().recovery_dropped_events.load(), 1u);
  EXPECT_TRUE(s->verify().ok);
}

}  // namespace
