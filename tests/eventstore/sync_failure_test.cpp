// A failed WAL sync: the appends it was to make durable fail (their outcome unknown), the store
// takes no more writes, reads go on, and a reopened store holds every acknowledged event in a
// gap-free, verifying log.
#include <atomic>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "eventstore/store.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace eventcrm::store;
using eventcrm::testing::TempDir;

// Fails every sync of a WAL file (`*.log`) once `failing` is set; the bytes still reach the OS.
class FailingSyncFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingSyncFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base)
      : FileSystemWrapper(base) {}
  const char* Name() const override { return "FailingSyncFileSystem"; }

  std::atomic<bool> failing{false};

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0)
      *r = std::make_unique<File>(std::move(*r), this);
    return s;
  }

 private:
  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> t, FailingSyncFileSystem* fs)
        : FSWritableFileOwnerWrapper(std::move(t)), fs_(fs) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (fs_->failing)
        return rocksdb::IOStatus::IOError("injected: the disk failed the sync");
      return target()->Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (fs_->failing)
        return rocksdb::IOStatus::IOError("injected: the disk failed the sync");
      return target()->Fsync(o, dbg);
    }

   private:
    FailingSyncFileSystem* fs_;
  };
};

std::vector<NewEvent> one(int i) {
  return {NewEvent{{}, "lead.created.v1", R"({"i":)" + std::to_string(i) + "}", {}}};
}

TEST(SyncFailure, StopsWritesKeepsReadsAndLosesNoAcknowledgedEvent) {
  TempDir dir;
  auto fs = std::make_shared<FailingSyncFileSystem>(rocksdb::FileSystem::Default());
  std::vector<std::string> acked;
  {
    Options o;
    o.path = dir.str();
    o.file_system = fs;
    auto opened = EventStore::open(o);
    ASSERT_TRUE(opened) << opened.error().message;
    auto& s = **opened;
    for (int i = 0; i < 20; ++i) {
      auto r = s.append("lead-" + std::to_string(i % 3), ExpectedVersion::any(), one(i));
      ASSERT_TRUE(r) << r.error().message;
      acked.push_back(r->event_ids.at(0));
    }
    const auto head = s.head();
    ASSERT_EQ(head, 20u);
    EXPECT_FALSE(s.stats().writes_stopped.load());

    fs->failing = true;
    auto failed = s.append("lead-0", ExpectedVersion::any(), one(100));
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, errc::io_error);
    EXPECT_NE(failed.error().message.find("restart"), std::string::npos) << failed.error().message;

    EXPECT_TRUE(s.stats().writes_stopped.load());  // readiness and metrics report it
    fs->failing = false;  // the disk is fine again, but what the WAL holds is not known
    auto refused = s.append("lead-1", ExpectedVersion::any(), one(101));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::io_error);
    EXPECT_NE(refused.error().message.find("restart"), std::string::npos)
        << refused.error().message;

    // Reads go on, up to the last durable position.
    EXPECT_EQ(s.head(), head);
    auto page = s.read_all(0, 100, Filter{}, 10'000);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->events.size(), 20u);
    auto last = s.get_event(acked.back());
    ASSERT_TRUE(last) << last.error().message;
    s.close();
  }
  // Restarted: every acknowledged event is there (the failed one may be too: its outcome was
  // unknown), gap-free and verifying, and the store takes writes again.
  Options o;
  o.path = dir.str();
  auto reopened = EventStore::open(o);
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto& s = **reopened;
  EXPECT_GE(s.head(), 20u);
  EXPECT_LE(s.head(), 21u);
  for (const auto& id : acked) {
    auto e = s.get_event(id);
    EXPECT_TRUE(e) << id;
  }
  EXPECT_FALSE(s.stats().writes_stopped.load());
  auto report = s.verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checked, s.head());
  auto again = s.append("lead-2", ExpectedVersion::any(), one(102));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->first_position, s.head());
}

}  // namespace
