// Recovery of the log from the WAL as a clean prefix, never with a hole.
//
// A power cut can leave a later, unsynced WAL record on disk while an earlier one never reached
// it: the page cache writes dirty pages back in no particular order, and a sync in progress
// may have written some of its pages and not others. Within one WAL file RocksDB's
// point-in-time recovery stops at the first missing or damaged record. Across files it does
// not: a WAL that ends early (its last records lost) reads as a clean end, and the next WAL's
// records are replayed after it, leaving a gap in the log (tests/eventstore/wal_recovery_test).
//
// The store therefore replays through a WAL filter that lets a record with events in only if
// its first position follows the last one replayed (or lies in what the events' table files
// already hold, which RocksDB syncs before it writes them). A record after a hole is dropped
// with everything it wrote (its stream index and id entries are in the same record), and so is
// every later one of that run. Such records were never acknowledged: an append is answered
// only after a sync that covers every record before it. Records the store writes in a later
// run continue from the prefix and are replayed as usual.
//
// Where the replay must start is read before the store opens: the last position in the events
// column family's table files, from a read-only open that replays nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/wal_filter.h>

namespace eventcrm::store::detail {

// The column family that holds events by be64 position.
inline constexpr const char* kEventsColumnFamily = "events";

class ContiguousReplay final : public rocksdb::WalFilter {
 public:
  // `persisted_head`: the last position in the events' table files (0: none); nullopt when it
  // could not be read, and the first record replayed is taken as the start.
  explicit ContiguousReplay(std::optional<std::uint64_t> persisted_head)
      : persisted_head_(persisted_head) {}

  const char* Name() const override { return "eventcrm.ContiguousReplay"; }

  void ColumnFamilyLogNumberMap(
      const std::map<std::uint32_t, std::uint64_t>& cf_lognumber_map,
      const std::map<std::string, std::uint32_t>& cf_name_id_map) override;

  WalProcessingOption LogRecordFound(unsigned long long log_number,
                                     const std::string& log_file_name,
                                     const rocksdb::WriteBatch& batch,
                                     rocksdb::WriteBatch* new_batch, bool* batch_changed) override;

  // What was dropped, for the store's warning.
  std::uint64_t dropped_records() const { return dropped_records_; }
  std::uint64_t dropped_events() const { return dropped_events_; }
  // The position the replayed log should have gone on with (the hole's start), if any dropped.
  std::optional<std::uint64_t> hole_at() const { return hole_at_; }

 private:
  std::optional<std::uint64_t> persisted_head_;
  std::optional<std::uint32_t> events_cf_;
  std::uint64_t next_ = 0;  // the position the next record must start at (0: not known yet)
  std::uint64_t dropped_records_ = 0;
  std::uint64_t dropped_events_ = 0;
  std::optional<std::uint64_t> hole_at_;
};

// Opens the database at `path` read-only, replaying none of its WAL records, and calls `read`
// with it and the handles of `families` (in their order): what its table files hold. False,
// without calling `read`, when there is no database there yet or it could not be opened.
bool read_table_files(
    const rocksdb::DBOptions& options, const std::string& path,
    const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
    const std::function<void(rocksdb::DB&, const std::vector<rocksdb::ColumnFamilyHandle*>&)>&
        read);

// The last position in the events column family's table files, without the WAL (see
// read_table_files). nullopt: no database at `path` yet, or it could not be read (the caller
// falls back to the first record replayed).
std::optional<std::uint64_t> persisted_head(const rocksdb::DBOptions& options,
                                            const std::string& path,
                                            const rocksdb::ColumnFamilyOptions& events_options);

}  // namespace eventcrm::store::detail
