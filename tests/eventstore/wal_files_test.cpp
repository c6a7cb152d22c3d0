// WALs written over zero-filled spares (eventstore/wal_files.hpp): made from the spare, trimmed
// when closed, and read back to their last record when the store stops without closing them.
// (The crash and power-loss tests run stores with spares as well.)
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "eventstore/store.hpp"
#include "eventstore/wal_files.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace eventcrm;
namespace fs = std::filesystem;
using store::detail::ZeroFilledWals;

constexpr std::uint64_t kSpare = 1u << 20;

std::vector<fs::path> wal_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log")
      out.push_back(entry.path());
  }
  return out;
}

ino_t inode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool wait_for_spare(const fs::path& dir) {
  const auto spare = dir / ZeroFilledWals::kSpare;
  for (int i = 0; i < 500; ++i) {  // 10 s at most
    std::error_code ec;
    if (fs::exists(spare, ec) && fs::file_size(spare, ec) >= kSpare)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::unique_ptr<store::EventStore> open_store(const fs::path& dir, std::uint64_t spare) {
  store::Options options;
  options.path = dir.string();
  options.wal_spare_bytes = spare;
  auto opened = store::EventStore::open(options);
  if (!opened)
    ADD_FAILURE() << "open failed: " << opened.error().message;
  return opened ? std::move(*opened) : nullptr;
}

void append_events(store::EventStore& s, int n) {
  for (int i = 0; i < n; ++i) {
    auto r = s.append(
        "wal-" + std::to_string(i % 7), store::ExpectedVersion::any(),
        {store::NewEvent{"", "test.happened.v1", R"({"n":)" + std::to_string(i) + "}", {}}});
    ASSERT_TRUE(r) << r.error().message;
  }
}

TEST(ZeroFilledWals, TheWalIsMadeFromTheSpareAndTrimmedWhenClosed) {
  eventcrm::testing::TempDir dir;
  auto s = open_store(dir.path(), kSpare);
  ASSERT_TRUE(s);
  const auto wals = wal_files(dir.path());
  ASSERT_EQ(wals.size(), 1u);
  EXPECT_GE(fs::file_size(wals.front()), kSpare) << "the WAL was not made from a spare";
  EXPECT_EQ(s->stats().wal_spares_used.load(), 1u);
  EXPECT_TRUE(wait_for_spare(dir.path())) << "no next spare was prepared";
  append_events(*s, 200);
  s->close();
  s.reset();
  for (const auto& wal : wal_files(dir.path()))
    EXPECT_LT(fs::file_size(wal), kSpare) << wal << " kept its zeros after the close";

  s = open_store(dir.path(), 0);
  ASSERT_TRUE(s);
  auto all = s->read_all(0, 1000);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->events.size(), 200u);
}

TEST(ZeroFilledWals, ASpareLeftByAnEarlierRunIsUsed) {
  eventcrm::testing::TempDir dir;
  const auto spare = dir.path() / ZeroFilledWals::kSpare;
  {
    std::ofstream out(spare, std::ios::binary);
    const std::string zeros(kSpare, '\0');
    out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  const auto inode = inode_of(spare);
  auto s = open_store(dir.path(), kSpare);
  ASSERT_TRUE(s);
  const auto wals = wal_files(dir.path());
  ASSERT_EQ(wals.size(), 1u);
  EXPECT_EQ(inode_of(wals.front()), inode) << "the WAL is not the spare that was there";
}

// A closed store stops preparing spares; the one it left ready serves the next open.
TEST(ZeroFilledWals, AClosedStoreLeavesItsSpareToTheNextOpen) {
  eventcrm::testing::TempDir dir;
  auto first = open_store(dir.path(), kSpare);
  ASSERT_TRUE(first);
  append_events(*first, 50);
  ASSERT_TRUE(wait_for_spare(dir.path()));
  first->close();  // the object lives on, as a store being replaced does
  const auto spare = dir.path() / ZeroFilledWals::kSpare;
  const auto inode = inode_of(spare);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(fs::exists(dir.path() / ZeroFilledWals::kSparePart));
  EXPECT_EQ(inode_of(spare), inode);

  auto second = open_store(dir.path(), kSpare);
  ASSERT_TRUE(second);
  bool from_spare = false;
  for (const auto& wal : wal_files(dir.path()))
    from_spare = from_spare || inode_of(wal) == inode;
  EXPECT_TRUE(from_spare) << "the reopened store's WAL is not the spare the first one left";
  auto all = second->read_all(0, 100);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->events.size(), 50u);
}

// What a crash leaves: the files as they are while the store runs, the WAL ending in zeros.
TEST(ZeroFilledWals, AStoreStoppedWithoutClosingReadsItsWalToTheLastRecord) {
  eventcrm::testing::TempDir dir;
  auto s = open_store(dir.path() / "live", kSpare);
  ASSERT_TRUE(s);
  append_events(*s, 300);
  const auto wals = wal_files(dir.path() / "live");
  ASSERT_FALSE(wals.empty());
  EXPECT_GE(fs::file_size(wals.back()), kSpare);
  ASSERT_TRUE(wait_for_spare(dir.path() / "live"));  // no rename while the copy is taken
  fs::copy(dir.path() / "live", dir.path() / "crashed", fs::copy_options::recursive);
  s->close();

  auto copy = open_store(dir.path() / "crashed", kSpare);
  ASSERT_TRUE(copy);
  auto all = copy->read_all(0, 1000);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->events.size(), 300u);
  for (std::size_t i = 0; i < all->events.size(); ++i)
    EXPECT_EQ(all->events[i].position, i + 1);
  const auto verified = copy->verify(1, 300);
  EXPECT_TRUE(verified.ok) << verified.problem;
  EXPECT_EQ(verified.checked, 300u);
  append_events(*copy, 10);  // and it goes on from there
  EXPECT_EQ(copy->head(), 310u);
}

// A store killed before its first append leaves a WAL that is a whole spare of zeros, and
// RocksDB keeps it after recovering nothing from it; a crash loop would keep one per restart.
// The next open empties it.
TEST(ZeroFilledWals, AWalNeverWrittenToIsEmptiedAtTheNextOpen) {
  eventcrm::testing::TempDir root;
  auto live = open_store(root.path() / "boot-0", kSpare);
  ASSERT_TRUE(live);
  append_events(*live, 5);
  live->close();  // a store with events; the kills below come before any append
  for (int boot = 1; boot <= 3; ++boot) {
    const auto dir = root.path() / ("boot-" + std::to_string(boot));
    fs::copy(root.path() / ("boot-" + std::to_string(boot - 1)), dir, fs::copy_options::recursive);
    auto s = open_store(dir, kSpare);
    ASSERT_TRUE(s);
    if (boot > 1) {
      EXPECT_EQ(s->stats().wal_spares_reclaimed.load(), 1u) << "boot " << boot;
    }
    std::uint64_t wal_bytes = 0;
    for (const auto& wal : wal_files(dir))
      wal_bytes += fs::file_size(wal);
    // The live WAL (a spare) and nothing else keeps disk.
    EXPECT_LE(wal_bytes, kSpare) << "boot " << boot << ": " << wal_files(dir).size() << " WALs";
    EXPECT_EQ(s->head(), 5u);
    // Killed now: the copy is the directory as the kill leaves it (the live WAL unwritten),
    // taken once the next spare is written (no file is renamed while it is copied).
    ASSERT_TRUE(wait_for_spare(dir));
    fs::copy(dir, root.path() / ("boot-" + std::to_string(boot) + "-killed"),
             fs::copy_options::recursive);
    s->close();
    fs::remove_all(dir);
    fs::rename(root.path() / ("boot-" + std::to_string(boot) + "-killed"), dir);
  }
  auto last = open_store(root.path() / "boot-3", kSpare);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->head(), 5u);
  append_events(*last, 1);
  EXPECT_EQ(last->head(), 6u);
}

}  // namespace
