// WAL files written into ahead of time, so that a WAL sync writes data blocks only.
//
// An fdatasync of a file that grows (or of blocks fallocate() left unwritten) must also commit
// the file's new size or extent state to the file system's journal: two writes and a wait for
// each. Over blocks already written and synced it flushes the data blocks alone. Measured here
// (ext4, one write + fdatasync of 20 KB, a group commit's size): 233-238 us growing, 114-140 us
// over written blocks. PostgreSQL zero-fills its WAL segments before use for the same reason.
//
// The event store's RocksDB writes through this file system. It keeps one *spare*: a file of
// zeros, written and synced by a background thread. When RocksDB creates a WAL, the spare is
// renamed to the WAL's name and opened for writing from its start (the file system's
// ReuseWritableFile, as RocksDB's own log recycling does), and the thread prepares the next one.
// Without a spare ready, the WAL is created as usual.
//
// Recovery is unchanged: RocksDB's WAL reader skips zero-filled blocks (records of the reserved
// zero type, which preallocated files have always had), so the zeros after the last record read
// as the end of the log, as the end of a file does. A WAL that RocksDB closes is trimmed to its
// contents (PosixWritableFile::Close truncates what it preallocated). (RocksDB's own recycling
// cannot be used: it is switched off under point-in-time recovery, the mode the store needs, and
// it leaves old records, not zeros, after the end.)
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <rocksdb/file_system.h>

namespace eventcrm::store::detail {

class ZeroFilledWals final : public rocksdb::FileSystemWrapper {
 public:
  // The spare's name in the database directory (RocksDB ignores files it does not name), and
  // the name it is written under until it is complete and synced.
  static constexpr const char* kSpare = "eventcrm-wal-spare";
  static constexpr const char* kSparePart = "eventcrm-wal-spare.part";

  // WALs of the database in `db_dir` come from spares of `spare_bytes` zeros; `used`, if
  // given, counts them.
  ZeroFilledWals(const std::shared_ptr<rocksdb::FileSystem>& base, std::string db_dir,
                 std::uint64_t spare_bytes, std::atomic<std::uint64_t>* used = nullptr);
  ~ZeroFilledWals() override;
  ZeroFilledWals(const ZeroFilledWals&) = delete;
  ZeroFilledWals& operator=(const ZeroFilledWals&) = delete;

  const char* Name() const override { return "eventcrm.ZeroFilledWals"; }

  // Makes sure a spare is ready before the database opens (a complete one left by an earlier run
  // counts; a part-written one is deleted), then keeps one ready in the background. The
  // directory must exist. A failure only means WALs are created as usual; it is returned so the
  // caller can say so.
  rocksdb::IOStatus start();

  // Stops preparing spares (one being written is abandoned and deleted) and taking them.
  // Idempotent; the destructor calls it.
  void stop();

  // Empties the WALs older than `current_wal` (RocksDB's log number of the WAL it writes now)
  // that hold nothing but zeros: made from a spare and never written to, because the process
  // was killed before its first append. RocksDB keeps such a WAL after recovering it (there
  // was nothing to recover, so its log number does not move on), and each such restart would
  // otherwise keep another spare's worth of disk: a crash loop would fill it. An empty WAL is
  // the same log to RocksDB (what a closed, unwritten WAL is trimmed to). Call with the
  // database open, so that its lock is held. Returns how many were emptied.
  std::size_t trim_unwritten(std::uint64_t current_wal) const;

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;

 private:
  bool is_wal(const std::string& name) const;
  rocksdb::IOStatus prepare();  // writes and syncs a spare, then names it
  void run();                   // the background thread

  std::string dir_;
  std::string spare_, part_;
  std::uint64_t bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;   // a spare is there to take
  bool taking_ = false;  // a WAL is being made from it
  bool stopping_ = false;
  std::atomic<std::uint64_t>* used_;
  std::thread thread_;
};

}  // namespace eventcrm::store::detail
