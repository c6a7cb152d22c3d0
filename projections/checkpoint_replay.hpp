// Recovery of the read models from their WAL without a hole in any projection's commits.
//
// A served read model commits its rows and its checkpoint in one WAL record, without a sync (a
// read model can be rebuilt from the log). After a process crash the WAL holds every record. A
// power cut can do worse: the page cache writes dirty pages back in no particular order, so a
// later record can reach the disk while an earlier one of the same projection did not. RocksDB
// ends the replay of one WAL file at its first missing record, but it goes on with the next WAL
// file (see eventstore/wal_recovery.hpp, where the log has the same exposure). Replayed as is,
// the later commit would leave the projection's checkpoint past the events of the lost one, whose
// effects would then be missing for good (until a rebuild), and nothing would say so.
//
// So each checkpoint a commit writes also names the checkpoint it follows, and the read models
// replay through a filter that lets a commit in only if that is the slot's checkpoint so far (in
// the table files, which RocksDB syncs before it writes them, or from the commit replayed before
// it). A commit after a hole is dropped with its rows, and so is every later commit of that slot
// (they follow the dropped one). The projection then resumes from the last commit that survived
// and applies the lost events again: its rows and checkpoint always match.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <rocksdb/options.h>
#include <rocksdb/wal_filter.h>

namespace eventcrm::projections::detail {

// A slot's checkpoint row: 'C' be64(slot) -> be64(position) [be64(the checkpoint it follows)].
// Written without the second half where there is no chain to keep (a synced switch to a rebuilt
// copy, which also makes every earlier WAL record durable), and by versions before the chain.
std::string checkpoint_key(std::uint64_t slot);
std::string checkpoint_value(std::uint64_t position, std::uint64_t follows);
// The position a checkpoint row holds; nullopt when malformed.
std::optional<std::uint64_t> checkpoint_position(std::string_view value);

class CheckpointChain final : public rocksdb::WalFilter {
 public:
  // `persisted`: each slot's checkpoint in the table files; nullopt when they could not be read,
  // and a slot's first commit replayed is then taken as its start.
  explicit CheckpointChain(std::optional<std::map<std::uint64_t, std::uint64_t>> persisted)
      : known_(persisted ? std::move(*persisted) : std::map<std::uint64_t, std::uint64_t>{}),
        lenient_(!persisted) {}

  const char* Name() const override { return "eventcrm.CheckpointChain"; }

  WalProcessingOption LogRecordFound(unsigned long long log_number,
                                     const std::string& log_file_name,
                                     const rocksdb::WriteBatch& batch,
                                     rocksdb::WriteBatch* new_batch, bool* batch_changed) override;

  // Commits dropped, for the runtime's warning and metrics.
  std::uint64_t dropped_commits() const { return dropped_; }

 private:
  std::map<std::uint64_t, std::uint64_t> known_;  // slot -> its checkpoint so far
  bool lenient_;  // no table files read: a slot's first commit replayed is its start
  std::uint64_t dropped_ = 0;
};

// Each slot's checkpoint in the table files of the read-model database at `path` (its WAL not
// replayed); nullopt when there is no database there yet or it could not be read.
std::optional<std::map<std::uint64_t, std::uint64_t>> persisted_checkpoints(
    const rocksdb::DBOptions& options, const std::string& path);

}  // namespace eventcrm::projections::detail
