#include "projections/checkpoint_replay.hpp"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <utility>
#include <vector>

#include "eventstore/wal_recovery.hpp"
#include "projections/bytes.hpp"

namespace eventcrm::projections::detail {

namespace {

constexpr char kCheckpointPrefix = 'C';

std::optional<std::uint64_t> slot_of(const rocksdb::Slice& key) {
  if (key.size() != 9 || key[0] != kCheckpointPrefix)
    return std::nullopt;
  return bytes::get_be64(std::string_view(key.data() + 1, 8));
}

// The checkpoint rows a WAL record writes, in order; every other entry is let through.
class CheckpointWrites final : public rocksdb::WriteBatch::Handler {
 public:
  struct Write {
    std::uint64_t slot = 0;
    std::uint64_t position = 0;            // 0 when deleted
    std::optional<std::uint64_t> follows;  // set for a commit of the chain
  };
  std::vector<Write> writes;

  rocksdb::Status PutCF(std::uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    const auto slot = cf == 0 ? slot_of(key) : std::nullopt;
    if (!slot)
      return rocksdb::Status::OK();
    const std::string_view v(value.data(), value.size());
    Write w{*slot, checkpoint_position(v).value_or(0), std::nullopt};
    if (v.size() == 16)
      w.follows = bytes::get_be64(v.substr(8));
    writes.push_back(w);
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(std::uint32_t cf, const rocksdb::Slice& key) override {
    if (const auto slot = cf == 0 ? slot_of(key) : std::nullopt)
      writes.push_back(Write{*slot, 0, std::nullopt});
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(std::uint32_t cf, const rocksdb::Slice& key) override {
    return DeleteCF(cf, key);
  }
  rocksdb::Status DeleteRangeCF(std::uint32_t, const rocksdb::Slice&,
                                const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(std::uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
};

}  // namespace

std::string checkpoint_key(std::uint64_t slot) {
  return kCheckpointPrefix + bytes::be64(slot);
}

std::string checkpoint_value(std::uint64_t position, std::uint64_t follows) {
  return bytes::be64(position) + bytes::be64(follows);
}

std::optional<std::uint64_t> checkpoint_position(std::string_view value) {
  if (value.size() != 8 && value.size() != 16)
    return std::nullopt;
  return bytes::get_be64(value.substr(0, 8));
}

rocksdb::WalFilter::WalProcessingOption CheckpointChain::LogRecordFound(
    unsigned long long, const std::string&, const rocksdb::WriteBatch& batch, rocksdb::WriteBatch*,
    bool*) {
  CheckpointWrites found;
  if (!batch.Iterate(&found).ok() || found.writes.empty())
    return WalProcessingOption::kContinueProcessing;
  // A record is replayed whole or not at all: its checkpoints are decided first (against those
  // it wrote itself before, then the ones replayed so far) and kept only if it is let in.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> wrote;  // slot -> position, in order
  const auto so_far = [&](std::uint64_t slot) -> std::optional<std::uint64_t> {
    for (auto it = wrote.rbegin(); it != wrote.rend(); ++it) {
      if (it->first == slot)
        return it->second;
    }
    if (const auto it = known_.find(slot); it != known_.end())
      return it->second;
    // A slot without a checkpoint in the table files starts at 0; without the table files, at
    // its first commit replayed.
    return lenient_ ? std::nullopt : std::optional<std::uint64_t>(0);
  };
  for (const auto& w : found.writes) {
    const auto before = so_far(w.slot);
    // No chain (a new start, or a deletion), the chain goes on, or the slot's first commit:
    if (!w.follows || !before || *w.follows == *before) {
      wrote.emplace_back(w.slot, w.position);
    } else if (w.position > *before) {
      ++dropped_;  // follows a commit that is not there: a hole
      return WalProcessingOption::kIgnoreCurrentRecord;
    }
    // else: at or before what the table files hold, already in them
  }
  for (const auto& [slot, position] : wrote)
    known_[slot] = position;
  return WalProcessingOption::kContinueProcessing;
}

std::optional<std::map<std::uint64_t, std::uint64_t>> persisted_checkpoints(
    const rocksdb::DBOptions& options, const std::string& path) {
  std::map<std::uint64_t, std::uint64_t> found;
  bool ok = false;
  const bool opened = store::detail::read_table_files(
      options, path, {{rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}},
      [&](rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>&) {
        const std::string begin(1, kCheckpointPrefix), end(1, kCheckpointPrefix + 1);
        rocksdb::ReadOptions ro;
        const rocksdb::Slice upper(end);
        ro.iterate_upper_bound = &upper;
        std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro));
        for (it->Seek(begin); it->Valid(); it->Next()) {
          const auto slot = slot_of(it->key());
          const auto position = checkpoint_position(it->value().ToStringView());
          if (slot && position)
            found[*slot] = *position;
        }
        ok = it->status().ok();
      });
  if (!opened || !ok)
    return std::nullopt;
  return found;
}

}  // namespace eventcrm::projections::detail
