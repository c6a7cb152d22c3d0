// Recovery of the read models when a power cut lost a read model's commit from the end of one WAL
// file while later commits, in the next WAL file, reached the disk (page-cache writeback is not
// in file order). The read model must come back as of its last commit before the hole and apply
// the rest again: every event once, none missing.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "projections/bytes.hpp"
#include "projections/checkpoint_replay.hpp"
#include "projections/counting_projection.hpp"
#include "projections/fixture.hpp"
#include "projections/runtime.hpp"
#include "support/wal_file.hpp"

using namespace eventcrm;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct CheckpointReplayTest : eventcrm::testing::ProjectionFixture {
  // A runtime over the read models in `path` with the counting projection, started and serving.
  std::unique_ptr<projections::Runtime> serve(const fs::path& path) {
    projections::RuntimeOptions ro;
    ro.path = path.string();
    ro.poll = 20ms;
    return serve_counting(ro);
  }

  // Appends `n` events one by one, each applied (one live commit, one WAL record) before the next.
  void append_live(projections::Runtime& rt, int n) {
    for (int i = 0; i < n; ++i) {
      const auto pos = append("lead-" + std::to_string(i % 3), "lead.noted.v1");
      ASSERT_TRUE(rt.wait_until_applied({"counting"}, pos, 10s)) << "position " << pos;
    }
  }

  // Copies the directory of a database that is running, as a crash would leave it. RocksDB may
  // delete an obsolete file (the WAL it recovered at open) during the copy: then it copies again.
  static void copy_running(const fs::path& from, const fs::path& to) {
    for (int attempt = 0;; ++attempt) {
      std::error_code ec;
      fs::remove_all(to, ec);
      fs::copy(from, to, fs::copy_options::recursive, ec);
      if (!ec)
        return;
      ASSERT_LT(attempt, 20) << "cannot copy " << from << ": " << ec.message();
      std::this_thread::sleep_for(10ms);
    }
  }

  static std::string row(projections::Runtime& rt, const std::string& key) {
    auto v = rt.view("counting");
    return v ? (*v)->get(key).value_or("") : "<" + v.error().message + ">";
  }
};

TEST_F(CheckpointReplayTest, ACommitLostAtAWalsEndIsAppliedAgainNotSkippedOver) {
  // Each image is copied while its runtime runs, as a crash would leave it: stopping flushes
  // the memtable, and the WAL records would be gone.
  const fs::path first = dir.path() / "first", image = dir.path() / "image",
                 second = dir.path() / "second", later = dir.path() / "later";
  {
    // Built at the first start (without a WAL), then 30 live commits in the WAL.
    auto rt = serve(first);
    ASSERT_TRUE(rt);
    ASSERT_TRUE(rt->wait_until_applied({"counting"}, 0, 10s));
    append_live(*rt, 30);
    copy_running(first, image);
  }
  // `later` goes on from the same state: opening recovers the WAL into a table file and starts
  // a new WAL, which gets the commits of events 31 to 40.
  fs::copy(image, second, fs::copy_options::recursive);
  const auto first_wal = eventcrm::testing::last_wal(image);
  ASSERT_FALSE(first_wal.empty());
  {
    auto rt = serve(second);
    ASSERT_TRUE(rt);
    ASSERT_EQ(row(*rt, "count"), "30");
    append_live(*rt, 10);
    copy_running(second, later);
  }
  const auto next_wal = eventcrm::testing::last_wal(later);
  ASSERT_GT(next_wal.filename().string(), first_wal.filename().string());
  fs::copy_file(next_wal, image / next_wal.filename());
  // The commit of event 30, the first WAL's last record, never reached the disk.
  auto bytes = eventcrm::testing::read_file(first_wal);
  const auto recs = eventcrm::testing::wal_records(bytes);
  ASSERT_FALSE(recs.empty());
  ASSERT_EQ(recs.back().type, 1);
  bytes.resize(recs.back().offset);
  eventcrm::testing::write_file(first_wal, bytes);

  auto rt = serve(image);
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->recovery_dropped_commits(), 10u);
  ASSERT_TRUE(rt->wait_until_applied({"counting"}, 40, 10s));
  EXPECT_EQ(row(*rt, "count"), "40");
  EXPECT_EQ(row(*rt, "dup"), "");
  for (std::uint64_t p = 1; p <= 40; ++p)
    EXPECT_EQ(row(*rt, "seen/" + projections::bytes::be64(p)), "1") << "position " << p;

  // Reopened once more: nothing is dropped now, and nothing is applied twice.
  rt.reset();
  rt = serve(image);
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->recovery_dropped_commits(), 0u);
  append_live(*rt, 1);
  EXPECT_EQ(row(*rt, "count"), "41");
  EXPECT_EQ(row(*rt, "dup"), "");
}

// Read models written before the chain hold 8-byte checkpoints (here rewritten so, through the
// WAL as an older binary would have left them): they open and go on, every event once.
TEST_F(CheckpointReplayTest, CheckpointsFromBeforeTheChainOpenAndGoOn) {
  const fs::path path = dir.path() / "older";
  {
    auto rt = serve(path);
    ASSERT_TRUE(rt);
    ASSERT_TRUE(rt->wait_until_applied({"counting"}, 0, 10s));
    append_live(*rt, 20);
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path.string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    int rewritten = 0;
    for (it->Seek("C"); it->Valid() && it->key().starts_with("C"); it->Next()) {
      ASSERT_EQ(it->value().size(), 16u);
      ASSERT_TRUE(
          db->Put(rocksdb::WriteOptions(), it->key(), it->value().ToString().substr(0, 8)).ok());
      ++rewritten;
    }
    ASSERT_GT(rewritten, 0);
  }
  auto rt = serve(path);
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->recovery_dropped_commits(), 0u);
  EXPECT_EQ(row(*rt, "count"), "20");
  append_live(*rt, 10);
  EXPECT_EQ(row(*rt, "count"), "30");
  EXPECT_EQ(row(*rt, "dup"), "");
}

}  // namespace

namespace {

using projections::detail::checkpoint_key;
using projections::detail::checkpoint_value;
using projections::detail::CheckpointChain;
using Option = rocksdb::WalFilter::WalProcessingOption;

// One WAL record: a slot's rows and its checkpoint, as a commit writes them.
Option replay(CheckpointChain& chain, std::uint64_t slot, std::uint64_t position,
              std::optional<std::uint64_t> follows) {
  rocksdb::WriteBatch wb;
  wb.Put("D" + projections::bytes::be64(slot) + "row", "value");
  wb.Put(checkpoint_key(slot),
         follows ? checkpoint_value(position, *follows) : projections::bytes::be64(position));
  bool changed = false;
  return chain.LogRecordFound(1, "1.log", wb, nullptr, &changed);
}

TEST(CheckpointChain, LetsInOnlyCommitsThatFollowTheSlotsCheckpoint) {
  CheckpointChain chain(std::map<std::uint64_t, std::uint64_t>{{5, 100}, {6, 7}});
  EXPECT_EQ(replay(chain, 5, 90, 80), Option::kContinueProcessing);  // in the table files
  EXPECT_EQ(replay(chain, 5, 110, 100), Option::kContinueProcessing);
  EXPECT_EQ(replay(chain, 5, 120, 115), Option::kIgnoreCurrentRecord);  // 110..115 lost
  EXPECT_EQ(replay(chain, 6, 8, 7), Option::kContinueProcessing);       // other slots go on
  EXPECT_EQ(replay(chain, 5, 130, 120), Option::kIgnoreCurrentRecord);  // after the hole
  EXPECT_EQ(replay(chain, 7, 3, 0), Option::kContinueProcessing);       // a new slot starts at 0
  EXPECT_EQ(replay(chain, 8, 3, 2), Option::kIgnoreCurrentRecord);      // its first commit lost
  EXPECT_EQ(chain.dropped_commits(), 3u);
  // A checkpoint without a chain (a synced switch) is a new start.
  EXPECT_EQ(replay(chain, 5, 200, std::nullopt), Option::kContinueProcessing);
  EXPECT_EQ(replay(chain, 5, 210, 200), Option::kContinueProcessing);
  // Records without a checkpoint are not the filter's business.
  rocksdb::WriteBatch meta;
  meta.Put("Mcounting", "x");
  bool changed = false;
  EXPECT_EQ(chain.LogRecordFound(1, "1.log", meta, nullptr, &changed), Option::kContinueProcessing);
}

TEST(CheckpointChain, WithoutTheTableFilesASlotsFirstCommitIsItsStart) {
  CheckpointChain chain(std::nullopt);
  EXPECT_EQ(replay(chain, 5, 50, 40), Option::kContinueProcessing);
  EXPECT_EQ(replay(chain, 5, 60, 50), Option::kContinueProcessing);
  EXPECT_EQ(replay(chain, 5, 80, 70), Option::kIgnoreCurrentRecord);
  EXPECT_EQ(chain.dropped_commits(), 1u);
}

}  // namespace
