#include "eventstore/wal_recovery.hpp"

#include <rocksdb/env.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <memory>

#include "eventstore/codec.hpp"

namespace eventcrm::store::detail {

namespace {

// The events a WAL record puts: their first position and how many, and whether they are
// contiguous among themselves. Every other entry is let through untouched.
class EventPuts final : public rocksdb::WriteBatch::Handler {
 public:
  explicit EventPuts(std::uint32_t events_cf) : events_cf_(events_cf) {}

  rocksdb::Status PutCF(std::uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice&) override {
    if (cf != events_cf_ || key.size() != 8)
      return rocksdb::Status::OK();
    const auto position = get_be64(key.ToStringView());
    if (count == 0)
      first = position;
    else if (position != first + count)
      contiguous = false;
    ++count;
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(std::uint32_t, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(std::uint32_t, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteRangeCF(std::uint32_t, const rocksdb::Slice&,
                                const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(std::uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }

  std::uint64_t first = 0;
  std::uint64_t count = 0;
  bool contiguous = true;

 private:
  std::uint32_t events_cf_;
};

// Replays nothing: for reading what the table files hold.
class ReplayNothing final : public rocksdb::WalFilter {
 public:
  const char* Name() const override { return "eventcrm.ReplayNothing"; }
  WalProcessingOption LogRecordFound(unsigned long long, const std::string&,
                                     const rocksdb::WriteBatch&, rocksdb::WriteBatch*,
                                     bool*) override {
    return WalProcessingOption::kIgnoreCurrentRecord;
  }
};

// The read-only open must not rotate the store's LOG files.
class Silent final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

}  // namespace

void ContiguousReplay::ColumnFamilyLogNumberMap(
    const std::map<std::uint32_t, std::uint64_t>&,
    const std::map<std::string, std::uint32_t>& cf_name_id_map) {
  const auto it = cf_name_id_map.find(kEventsColumnFamily);
  if (it != cf_name_id_map.end())
    events_cf_ = it->second;
}

rocksdb::WalFilter::WalProcessingOption ContiguousReplay::LogRecordFound(
    unsigned long long, const std::string&, const rocksdb::WriteBatch& batch, rocksdb::WriteBatch*,
    bool*) {
  if (!events_cf_)
    return WalProcessingOption::kContinueProcessing;  // a store made before it had events
  EventPuts puts(*events_cf_);
  if (!batch.Iterate(&puts).ok() || puts.count == 0)
    return WalProcessingOption::kContinueProcessing;  // no events in it: nothing to order
  const std::uint64_t last = puts.first + puts.count - 1;
  if (next_ == 0) {
    // The first record with events: the table files say where the log goes on.
    next_ = persisted_head_ ? *persisted_head_ + 1 : puts.first;
  }
  if (puts.contiguous && last < next_)
    return WalProcessingOption::kContinueProcessing;  // already in the events' table files
  if (puts.contiguous && puts.first == next_) {
    next_ = last + 1;
    return WalProcessingOption::kContinueProcessing;
  }
  if (!hole_at_)
    hole_at_ = next_;
  ++dropped_records_;
  dropped_events_ += puts.count;
  return WalProcessingOption::kIgnoreCurrentRecord;
}

bool read_table_files(
    const rocksdb::DBOptions& options, const std::string& path,
    const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
    const std::function<void(rocksdb::DB&, const std::vector<rocksdb::ColumnFamilyHandle*>&)>&
        read) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec))
    return false;
  ReplayNothing nothing;
  rocksdb::DBOptions o(options);
  o.wal_filter = &nothing;
  o.info_log = std::make_shared<Silent>();
  o.max_open_files = 64;  // table files are opened as the reads need them, not all at once
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(o, path, families, &handles, &raw).ok())
    return false;
  std::unique_ptr<rocksdb::DB> db(raw);
  read(*db, handles);
  for (auto* h : handles)
    db->DestroyColumnFamilyHandle(h);
  return true;
}

std::optional<std::uint64_t> persisted_head(const rocksdb::DBOptions& options,
                                            const std::string& path,
                                            const rocksdb::ColumnFamilyOptions& events_options) {
  std::optional<std::uint64_t> head;
  read_table_files(
      options, path,
      {{rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
       {kEventsColumnFamily, events_options}},
      [&](rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& cfs) {
        std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), cfs[1]));
        it->SeekToLast();
        if (it->Valid() && it->key().size() == 8)
          head = get_be64(it->key().ToStringView());
        else if (it->status().ok())
          head = 0;
      });
  return head;
}

}  // namespace eventcrm::store::detail
