// The projection runtime on its own RocksDB database. Key layout (one keyspace, by prefix):
//   'N'                       -> be64 next storage slot id
//   'M' name                  -> served slot + version, slot + version being built
//   'C' be64(slot)            -> be64 checkpoint: the log position the slot's rows reflect
//   'D' be64(slot) key        -> a projection's row
// A slot is one copy of one projection at one version; rebuilding writes a fresh slot, so the
// served copy is never half-built, and dropping the old one is one DeleteRange.
#include "projections/runtime.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/thread_name.hpp"
#include "projections/bytes.hpp"
#include "projections/checkpoint_replay.hpp"

namespace eventcrm::projections {

std::string readmodels_path(std::string_view data_dir) {
  return (std::filesystem::path(std::string(data_dir)) / "readmodels").string();
}

const char* to_string(State s) noexcept {
  switch (s) {
    case State::starting:
      return "starting";
    case State::running:
      return "running";
    case State::caught_up:
      return "caught_up";
    case State::rebuilding:
      return "rebuilding";
    case State::failed:
      return "failed";
    case State::stopped:
      return "stopped";
  }
  return "unknown";
}

namespace {

using bytes::be64;
using bytes::get_be32;
using bytes::get_be64;
using bytes::put_be32;
using bytes::put_be64;
using detail::checkpoint_key;

std::string meta_key(std::string_view name) {
  return "M" + std::string(name);
}
std::string data_prefix(std::uint64_t slot) {
  return "D" + be64(slot);
}
const std::string kNextSlotKey = "N";

struct Meta {
  std::uint64_t active_slot = 0;
  std::uint32_t active_version = 0;
  std::uint64_t build_slot = 0;
  std::uint32_t build_version = 0;

  std::string encode() const {
    std::string s;
    put_be64(s, active_slot);
    put_be32(s, active_version);
    put_be64(s, build_slot);
    put_be32(s, build_version);
    return s;
  }
  static bool decode(std::string_view s, Meta& m) {
    if (s.size() != 24)
      return false;
    m.active_slot = get_be64(s);
    m.active_version = get_be32(s.substr(8));
    m.build_slot = get_be64(s.substr(12));
    m.build_version = get_be32(s.substr(20));
    return true;
  }
};

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 64 || n[0] < 'a' || n[0] > 'z')
    return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

Error io_error(const rocksdb::Status& s) {
  return Error{errc::io_error, s.ToString()};
}

// One read-model row; nullopt when it is absent. Other failures throw: in `apply` they fail the
// projection at that event, in a query they fail the request.
std::optional<std::string> read_row(rocksdb::DB& db, const rocksdb::ReadOptions& ro,
                                    const std::string& key) {
  std::string value;
  auto s = db.Get(ro, key, &value);
  if (s.IsNotFound())
    return std::nullopt;
  if (!s.ok())
    throw std::runtime_error("read-model read: " + s.ToString());
  return value;
}

// The database, shared with views so a view outliving the runtime stays valid.
struct Db {
  std::unique_ptr<rocksdb::Env> env;                // wraps RuntimeOptions::file_system
  std::unique_ptr<detail::CheckpointChain> replay;  // the WAL filter db was opened with
  std::unique_ptr<rocksdb::DB> db;
};

// The committed rows a worker has read or written in its current slot, so lookups that repeat
// (a stream's account, a counter) skip RocksDB. Only the worker writes its slot, so the cache is
// coherent; it lives as long as one pass over one slot and is dropped when it grows too large.
struct RowCache {
  static constexpr std::size_t kMaxEntries = 1u << 18;
  std::unordered_map<std::string, std::optional<std::string>> rows;
  void remember(const std::string& key, std::optional<std::string> value) {
    if (rows.size() >= kMaxEntries)
      rows.clear();
    rows.insert_or_assign(key, std::move(value));
  }
};

// One commit's writes, kept as an overlay of the rows this batch wrote (so an event reads what
// earlier events of the batch wrote), with per-event save points. The commit writes each row once,
// with its final value, in key order: while catching up, a batch holds thousands of events and
// one record's events are close together in the log, so most rows are written several times in a
// batch (a record's document and index rows on every event of it); writing only the last of them,
// sorted (cheap skip-list inserts, each next to the one before), was the largest saving of a
// rebuild. The rows committed are the same as writing every operation in order.
class BatchImpl final : public Batch {
 public:
  BatchImpl(rocksdb::DB& db, const std::string& prefix, RowCache& cache)
      : db_(db), prefix_(prefix), cache_(cache) {}
  void put(std::string_view key, std::string_view value) override {
    overlay(full(key), Pending{std::string(value), true});
  }
  // Written once and not read back soon (a new activity's rows, a history row): not kept in the
  // row cache after the commit, where it would only push out rows that are read again.
  void put_new(std::string_view key, std::string_view value) override {
    overlay(full(key), Pending{std::string(value), false});
  }
  void del(std::string_view key) override { overlay(full(key), Pending{std::nullopt, true}); }
  std::optional<std::string> get(std::string_view key) override {
    const std::string& k = full(key);
    if (auto it = pending_.find(k); it != pending_.end())
      return it->second.value;
    if (auto it = cache_.rows.find(k); it != cache_.rows.end())
      return it->second;
    auto out = read_row(db_, rocksdb::ReadOptions(), k);
    cache_.remember(k, out);
    return out;
  }

  void save_point() { undo_.clear(); }
  // Undoes the writes since the last save point.
  void rollback() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      if (it->second)
        pending_[it->first] = std::move(*it->second);
      else
        pending_.erase(it->first);
    }
    undo_.clear();
  }
  // The batch to commit: every row written, once, in key order, then `extra_key` (the checkpoint).
  rocksdb::Status write_batch(rocksdb::WriteBatch& wb, const std::string& extra_key,
                              const std::string& extra_value) const {
    std::vector<const std::pair<const std::string, Pending>*> rows;
    rows.reserve(pending_.size());
    for (const auto& row : pending_)
      rows.push_back(&row);
    std::sort(rows.begin(), rows.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* row : rows) {
      const auto& value = row->second.value;
      auto s = value ? wb.Put(row->first, *value) : wb.Delete(row->first);
      if (!s.ok())
        return s;
    }
    return wb.Put(extra_key, extra_value);
  }
  // After the batch is durable: its rows are the committed state.
  void committed() {
    for (auto& [k, v] : pending_) {
      if (v.remember)
        cache_.remember(k, std::move(v.value));
      else
        cache_.rows.erase(k);  // an older value may be cached
    }
    pending_.clear();
  }

 private:
  struct Pending {
    std::optional<std::string> value;  // nullopt: deleted
    bool remember;                     // kept in the row cache once committed
  };
  const std::string& full(std::string_view key) {
    key_.assign(prefix_);
    key_.append(key);
    return key_;
  }
  void overlay(const std::string& k, Pending value) {
    auto it = pending_.find(k);
    if (it == pending_.end()) {
      undo_.emplace_back(k, std::nullopt);
      pending_.emplace(k, std::move(value));
    } else {
      undo_.emplace_back(k, std::move(it->second));
      it->second = std::move(value);
    }
  }
  rocksdb::DB& db_;
  const std::string& prefix_;
  RowCache& cache_;
  std::unordered_map<std::string, Pending> pending_;
  // (key, its overlay entry before the current event: nullopt = absent)
  std::vector<std::pair<std::string, std::optional<Pending>>> undo_;
  std::string key_;
};

// The rows of a copy being built offline (RuntimeOptions::bulk_load). The copy's slot starts
// empty, so its rows are kept in memory, and a row not there does not exist: no read of the
// database, no write per commit, and a row deleted is simply forgotten. spill() writes the rows
// as one sorted table file and ingests it (a file with keys in the slot's range only, so the
// first lands at the last level, as after a full compaction); after a spill, rows not in memory
// are read from the database and a delete is kept as a tombstone. A spill persists no checkpoint:
// a build is only resumed from its start (see RuntimeImpl::follow), and is switched to after its
// last spill. Events are not undone on a poison event: a failed build is never served.
class BulkBatch final : public Batch {
 public:
  BulkBatch(rocksdb::DB& db, const std::string& prefix, std::uint64_t slot, std::string dir,
            std::atomic<std::int64_t>& total)
      : db_(db), prefix_(prefix), slot_(slot), dir_(std::move(dir)), total_(total) {}
  ~BulkBatch() override { total_ -= bytes_; }
  BulkBatch(const BulkBatch&) = delete;
  BulkBatch& operator=(const BulkBatch&) = delete;

  void put(std::string_view key, std::string_view value) override {
    const std::string& k = full(key);
    auto it = rows_.find(k);
    if (it == rows_.end()) {
      it = rows_.emplace(k, std::nullopt).first;
      account(static_cast<std::int64_t>(k.size() + kEntryOverhead));
    }
    account(static_cast<std::int64_t>(value.size()) - size_of(it->second));
    it->second.emplace(value);
  }
  void del(std::string_view key) override {
    const std::string& k = full(key);
    auto it = rows_.find(k);
    if (!spilled_) {
      if (it != rows_.end()) {
        account(-static_cast<std::int64_t>(it->first.size() + kEntryOverhead) -
                size_of(it->second));
        rows_.erase(it);
      }
      return;
    }
    if (it == rows_.end()) {
      rows_.emplace(k, std::nullopt);
      account(static_cast<std::int64_t>(k.size() + kEntryOverhead));
    } else {
      account(-size_of(it->second));
      it->second.reset();
    }
  }
  std::optional<std::string> get(std::string_view key) override {
    const std::string& k = full(key);
    if (auto it = rows_.find(k); it != rows_.end())
      return it->second;
    if (!spilled_)
      return std::nullopt;
    return read_row(db_, rocksdb::ReadOptions(), k);
  }
  // A new key needs no lookup: its row is appended, unindexed, until the spill sorts it in.
  void put_new(std::string_view key, std::string_view value) override {
    const std::size_t size = prefix_.size() + key.size() + value.size();
    char* at = reserve(size);
    std::memcpy(at, prefix_.data(), prefix_.size());
    std::memcpy(at + prefix_.size(), key.data(), key.size());
    std::memcpy(at + prefix_.size() + key.size(), value.data(), value.size());
    fresh_.push_back(
        {{at, prefix_.size() + key.size()}, {at + prefix_.size() + key.size(), value.size()}});
    account(static_cast<std::int64_t>(size + sizeof(Fresh)));
  }

  std::int64_t bytes() const { return bytes_; }

  // Writes the rows in memory to the database (one table file, ingested) and forgets them.
  rocksdb::Status spill() {
    if (rows_.empty() && fresh_.empty())
      return rocksdb::Status::OK();
    std::vector<Sorted> sorted;
    sorted.reserve(rows_.size() + fresh_.size());
    for (const auto& [key, value] : rows_)
      sorted.push_back({key, value ? std::string_view(*value) : std::string_view(), !value});
    // Keys apart from those of rows_ and from each other (Batch::put_new); if not, the writer
    // refuses the file (its keys must increase strictly) and the build fails.
    for (const auto& row : fresh_)
      sorted.push_back({row.key, row.value, false});
    sort_by_key(sorted.data(), sorted.size());
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    const std::string file = (std::filesystem::path(dir_) / ("slot-" + std::to_string(slot_) + "-" +
                                                             std::to_string(++files_) + ".sst"))
                                 .string();
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db_.GetOptions());
    auto s = writer.Open(file);
    for (const auto& row : sorted) {
      if (!s.ok())
        break;
      s = row.del ? writer.Delete(row.key) : writer.Put(row.key, row.value);
    }
    if (s.ok())
      s = writer.Finish();
    if (s.ok()) {
      rocksdb::IngestExternalFileOptions io;
      io.move_files = true;
      io.write_global_seqno = false;
      s = db_.IngestExternalFile({file}, io);
    }
    std::filesystem::remove(file, ec);
    if (!s.ok())
      return s;
    rows_.clear();
    forget_fresh();
    account(-bytes_);
    spilled_ = true;
    return s;
  }

 private:
  // Roughly what a row costs beyond its key and value bytes (hash node, strings, bucket).
  static constexpr std::size_t kEntryOverhead = 96;
  static constexpr std::size_t kChunk = std::size_t{1} << 20;

  struct Sorted {
    std::string_view key;
    std::string_view value;
    bool del;
    std::uint8_t avail = 0;  // see sort_by_key
    std::uint64_t word = 0;
  };
  struct Fresh {
    std::string_view key;
    std::string_view value;
  };

  // Room for `size` bytes of put_new rows, which stay where they are until the spill.
  char* reserve(std::size_t size) {
    if (chunks_.empty() || chunk_used_ + size > chunk_size_) {
      chunk_size_ = std::max(kChunk, size);
      chunks_.push_back(std::make_unique<char[]>(chunk_size_));
      chunk_used_ = 0;
    }
    char* at = chunks_.back().get() + chunk_used_;
    chunk_used_ += size;
    return at;
  }
  void forget_fresh() {
    fresh_.clear();
    chunks_.clear();
    chunk_used_ = chunk_size_ = 0;
  }
  // Sorts distinct keys. Every key of a spill starts with its slot's prefix and index keys with
  // their sort and facet, so comparing whole keys (as std::sort does) goes over the same long
  // prefixes again and again. This is a three-way radix quicksort (Bentley and Sedgewick) on
  // eight bytes of the keys at a time, kept beside each key (a caching multikey quicksort),
  // which also skips at once the bytes all the keys of a partition share.
  static void sort_by_key(Sorted* a, std::size_t n) {
    load(a, n, 0);
    sort_cached(a, n, 0);
  }
  // The eight bytes of each key from `depth` (zeros past its end) and how many of them exist.
  static void load(Sorted* a, std::size_t n, std::size_t depth) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view k = a[i].key;
      const std::size_t avail = k.size() > depth ? std::min<std::size_t>(8, k.size() - depth) : 0;
      std::uint64_t word = 0;
      for (std::size_t b = 0; b < avail; ++b)
        word |= static_cast<std::uint64_t>(static_cast<unsigned char>(k[depth + b]))
                << (56 - 8 * b);
      a[i].word = word;
      a[i].avail = static_cast<std::uint8_t>(avail);
    }
  }
  // Bytes from `depth` on that every key of a[0, n) shares.
  static std::size_t shared(const Sorted* a, std::size_t n, std::size_t depth) {
    const std::string_view first = a[0].key.substr(std::min(depth, a[0].key.size()));
    std::size_t common = first.size();
    for (std::size_t i = 1; i < n && common > 0; ++i) {
      const std::string_view k = a[i].key.substr(std::min(depth, a[i].key.size()));
      const std::size_t m = std::min(common, k.size());
      std::size_t j = 0;
      while (j < m && first[j] == k[j])
        ++j;
      common = j;
    }
    return common;
  }
  static bool less(const Sorted& x, const Sorted& y) {
    return x.word != y.word ? x.word < y.word : x.avail < y.avail;
  }
  // a[i].word holds the bytes of each key from `depth`.
  static void sort_cached(Sorted* a, std::size_t n, std::size_t depth) {
    while (n > 1) {
      if (n < 16) {
        auto before = [&](const Sorted& x, const Sorted& y) {
          if (x.word != y.word || x.avail != y.avail || x.avail < 8)
            return less(x, y);
          return x.key.substr(depth) < y.key.substr(depth);
        };
        for (std::size_t i = 1; i < n; ++i) {
          for (std::size_t j = i; j > 0 && before(a[j], a[j - 1]); --j)
            std::swap(a[j], a[j - 1]);
        }
        return;
      }
      // Median of three as the pivot.
      const Sorted* x = &a[0];
      const Sorted* y = &a[n / 2];
      const Sorted* z = &a[n - 1];
      if (less(*y, *x))
        std::swap(x, y);
      if (less(*z, *y)) {
        y = z;
        if (less(*y, *x))
          y = x;
      }
      const std::uint64_t pw = y->word;
      const std::uint8_t pa = y->avail;
      std::size_t lt = 0, i = 0, gt = n;  // [0, lt) <, [lt, i) ==, [gt, n) > the pivot
      while (i < gt) {
        const Sorted& c = a[i];
        if (c.word < pw || (c.word == pw && c.avail < pa))
          std::swap(a[lt++], a[i++]);
        else if (c.word > pw || c.avail > pa)
          std::swap(a[i], a[--gt]);
        else
          ++i;
      }
      // Keys that end within these eight bytes are equal: one at most, the keys being distinct.
      if (pa == 8 && gt - lt > 1) {
        const std::size_t next = depth + 8 + shared(a + lt, gt - lt, depth + 8);
        load(a + lt, gt - lt, next);
        sort_cached(a + lt, gt - lt, next);
      }
      // The smaller side by recursion, the larger by the loop: the stack stays logarithmic.
      if (lt < n - gt) {
        sort_cached(a, lt, depth);
        a += gt;
        n -= gt;
      } else {
        sort_cached(a + gt, n - gt, depth);
        n = lt;
      }
    }
  }
  static std::int64_t size_of(const std::optional<std::string>& v) {
    return v ? static_cast<std::int64_t>(v->size()) : 0;
  }
  void account(std::int64_t delta) {
    bytes_ += delta;
    total_ += delta;
  }
  const std::string& full(std::string_view key) {
    key_.assign(prefix_);
    key_.append(key);
    return key_;
  }

  rocksdb::DB& db_;
  const std::string& prefix_;
  std::uint64_t slot_;
  std::string dir_;
  std::atomic<std::int64_t>& total_;
  std::unordered_map<std::string, std::optional<std::string>> rows_;
  std::vector<Fresh> fresh_;  // put_new rows, in chunks_
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::size_t chunk_used_ = 0, chunk_size_ = 0;
  std::int64_t bytes_ = 0;
  bool spilled_ = false;
  unsigned files_ = 0;
  std::string key_;
};

class ViewImpl final : public View {
 public:
  ViewImpl(std::shared_ptr<Db> db, std::uint64_t slot, std::uint64_t position,
           std::uint32_t version)
      : db_(std::move(db)),
        snapshot_(db_->db->GetSnapshot()),
        prefix_(data_prefix(slot)),
        end_(data_prefix(slot + 1)),
        position_(position),
        version_(version) {}
  ~ViewImpl() override { db_->db->ReleaseSnapshot(snapshot_); }
  ViewImpl(const ViewImpl&) = delete;
  ViewImpl& operator=(const ViewImpl&) = delete;

  std::uint64_t position() const override { return position_; }
  std::uint32_t version() const override { return version_; }
  std::optional<std::string> get(std::string_view key) const override {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    return read_row(*db_->db, ro, prefix_ + std::string(key));
  }
  void scan(std::string_view from, std::string_view to,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    walk(from, to, false, fn);
  }
  void scan_back(std::string_view from, std::string_view to,
                 const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    walk(from, to, true, fn);
  }

 private:
  // Rows with keys in [from, to) (empty `to`: the end of the slot), up or down.
  void walk(std::string_view from, std::string_view to, bool backward,
            const std::function<bool(std::string_view, std::string_view)>& fn) const {
    const std::string lower = prefix_ + std::string(from);
    const std::string upper = to.empty() ? end_ : prefix_ + std::string(to);
    const rocksdb::Slice lower_slice(lower), upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    ro.iterate_lower_bound = &lower_slice;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(ro));
    if (backward)
      it->SeekToLast();
    else
      it->Seek(lower);
    for (; it->Valid(); backward ? it->Prev() : it->Next()) {
      auto k = it->key().ToStringView();
      if (!fn(k.substr(prefix_.size()), it->value().ToStringView()))
        return;
    }
    if (!it->status().ok())
      throw std::runtime_error("read-model scan: " + it->status().ToString());
  }

  std::shared_ptr<Db> db_;
  const rocksdb::Snapshot* snapshot_;
  std::string prefix_, end_;
  std::uint64_t position_;
  std::uint32_t version_;
};

// Catch-up reads shared by the workers. Each worker scanning the log on its own decoded every
// event once per projection (20-odd times); the tap decodes each stretch of kChunk positions once
// and hands the decoded chunk to every worker passing through it, each filtering for itself.
// Workers reading close together are kept together: one that runs more than kLead chunks ahead of
// another within kWindow behind it waits (a bounded while), so the chunks kept cover the group and
// a chunk is decoded once. Readers further apart (a rebuild from 0 beside workers near the head)
// do not wait for each other. Only whole chunks at or below the head are read here; the tail is
// read through a subscription. Evicted chunks are simply read again, so this is a cache only.
// The lead is wide on purpose: with a lead of 12 chunks, workers ahead spent most of a rebuild
// waiting for the slowest while it waited for a core, and a 2-core machine ran 1.45 cores busy
// (1M events: 24 s); with 64, 1.9 cores (15-17 s). The chunks kept cost ~85 MB at most.
class LogTap {
 public:
  static constexpr std::uint64_t kChunk = 1024;  // positions per chunk
  static constexpr std::uint64_t kLead = 64;     // chunks a reader may run ahead of its group
  static constexpr std::uint64_t kWindow = 128;  // readers further behind are another group
  static constexpr std::size_t kKeep = 160;      // chunks kept
  static constexpr std::chrono::milliseconds kMaxWait{200};

  struct Chunk {
    std::uint64_t last = 0;                    // the last position it covers
    std::vector<store::RecordedEvent> events;  // every event of the stretch, in log order
  };

  explicit LogTap(store::EventStore& s) : store_(s) {}

  // Whether the chunk holding `after + 1` lies wholly at or below the head.
  bool whole_chunk_after(std::uint64_t after) const {
    return (after / kChunk + 1) * kChunk <= store_.head();
  }

  // The chunk holding position `after + 1`, which must be whole (see whole_chunk_after).
  // `reader` identifies the caller for pacing until leave(reader).
  std::shared_ptr<const Chunk> chunk(const void* reader, std::uint64_t after, bool stored_form,
                                     const std::atomic<bool>& stopping, std::string& error) {
    const std::uint64_t index = after / kChunk;
    std::shared_ptr<Entry> entry;
    {
      std::unique_lock lk(mu_);
      const auto [it, added] = readers_.insert_or_assign(reader, index);
      if (added || it->second != index)
        cv_.notify_all();
      // Bounded: a reader stuck elsewhere (its apply slow, its thread descheduled) only delays.
      cv_.wait_for(lk, kMaxWait, [&] { return stopping || !too_far_ahead(index); });
      auto& slot = chunks_[{index, stored_form}];
      if (!slot)
        slot = std::make_shared<Entry>();
      entry = slot;
      evict();
    }
    std::lock_guard el(entry->mu);
    if (!entry->chunk) {
      store::Filter all;
      all.stored_form = stored_form;
      auto page = store_.read_all(index * kChunk, kChunk, all, kChunk);
      if (!page) {
        error = page.error().message;
        return nullptr;
      }
      if (page->events.size() != kChunk || page->scanned_to != (index + 1) * kChunk) {
        error = "the log has a gap after position " + std::to_string(index * kChunk);
        return nullptr;
      }
      auto c = std::make_shared<Chunk>();
      c->last = page->scanned_to;
      c->events = std::move(page->events);
      entry->chunk = std::move(c);
    }
    return entry->chunk;
  }

  // The reader reads through a subscription now (or has stopped): nobody waits for it.
  void leave(const void* reader) {
    std::lock_guard lk(mu_);
    if (readers_.erase(reader))
      cv_.notify_all();
  }

 private:
  struct Entry {
    std::mutex mu;  // held while the chunk is read, so it is decoded once
    std::shared_ptr<const Chunk> chunk;
  };

  // Requires mu_.
  bool too_far_ahead(std::uint64_t index) const {
    for (const auto& [r, other] : readers_) {
      if (other < index && index - other > kLead && index - other <= kWindow)
        return true;
    }
    return false;
  }
  // Requires mu_. Drops the oldest chunks past kKeep (readers behind them read them again).
  void evict() {
    while (chunks_.size() > kKeep)
      chunks_.erase(chunks_.begin());
  }

  store::EventStore& store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<const void*, std::uint64_t> readers_;  // reader -> chunk it reads
  std::map<std::pair<std::uint64_t, bool>, std::shared_ptr<Entry>> chunks_;
};

struct Worker {
  std::unique_ptr<Projection> projection;
  std::string name;
  std::uint32_t version = 0;
  store::Filter filter;
  std::thread thread;
  // Offline builds: the memory its build holds (rows and held state), as last counted.
  std::atomic<std::int64_t> bulk_bytes{0};

  mutable std::mutex mu;  // guards everything below
  mutable std::condition_variable cv;
  Meta meta;
  std::uint64_t served_position = 0;  // rows of meta.active_slot reflect the log up to here
  std::uint64_t build_position = 0;   // rows of meta.build_slot reflect the log up to here
  bool writing_out = false;           // see ProjectionStatus::writing_out
  State state = State::starting;
  std::optional<std::uint64_t> failed_position;
  std::string error;
  bool rebuild_requested = false;
  bool build_fresh = false;  // meta.build_slot was just allocated: nothing is written in it yet
  bool running = false;      // the thread is in its loop
  std::uint64_t events_applied = 0;
};

class RuntimeImpl final : public Runtime {
 public:
  RuntimeImpl(store::EventStore& store, RuntimeOptions options, std::shared_ptr<Db> db,
              std::uint64_t next_slot)
      : store_(store), opts_(std::move(options)), db_(std::move(db)), next_slot_(next_slot) {}
  ~RuntimeImpl() override { stop(); }

  std::uint64_t recovery_dropped_commits() const override { return db_->replay->dropped_commits(); }

  Status<Error> add(std::unique_ptr<Projection> p) override {
    auto w = std::make_unique<Worker>();
    w->name = p->name();
    w->version = p->version();
    w->filter = p->filter();
    if (!valid_name(w->name)) {
      return unexpected(Error{errc::invalid_name, "invalid projection name: " + w->name});
    }
    if (w->version == 0) {
      return unexpected(Error{errc::invalid_name, "projection versions start at 1: " + w->name});
    }
    std::lock_guard lk(workers_mu_);
    if (workers_.count(w->name)) {
      return unexpected(Error{errc::invalid_name, "projection added twice: " + w->name});
    }
    std::string value;
    auto s = db_->db->Get(rocksdb::ReadOptions(), meta_key(w->name), &value);
    if (s.ok()) {
      if (!Meta::decode(value, w->meta)) {
        return unexpected(Error{errc::io_error, "malformed projection record: " + w->name});
      }
    } else if (!s.IsNotFound()) {
      return unexpected(io_error(s));
    }
    auto served = read_checkpoint(w->meta.active_slot);
    if (!served)
      return unexpected(std::move(served).error());
    auto built = read_checkpoint(w->meta.build_slot);
    if (!built)
      return unexpected(std::move(built).error());
    w->served_position = *served;
    w->build_position = *built;
    w->projection = std::move(p);
    workers_.emplace(w->name, std::move(w));
    return Ok{};
  }

  void start() override {
    std::lock_guard lk(workers_mu_);
    stopping_ = false;
    started_ = true;
    for (auto& [name, w] : workers_)
      launch(*w, 0);
  }

  void stop() override {
    stopping_ = true;
    store_.wake_subscriptions();  // live workers return from their wait now, not at the poll
    std::lock_guard lk(workers_mu_);
    started_ = false;
    for (auto& [name, w] : workers_) {
      if (w->thread.joinable())
        w->thread.join();
      std::lock_guard wl(w->mu);
      if (w->state != State::failed)
        w->state = State::stopped;
      w->cv.notify_all();
    }
    // Rows written since the last flush would otherwise be replayed from the WAL at every open.
    (void)db_->db->Flush(rocksdb::FlushOptions());
  }

  std::vector<ProjectionStatus> status() const override {
    std::vector<ProjectionStatus> out;
    std::lock_guard lk(workers_mu_);
    for (const auto& [name, w] : workers_)
      out.push_back(status_of(*w));
    return out;
  }

  Result<ProjectionStatus> status(std::string_view name) const override {
    std::lock_guard lk(workers_mu_);
    auto it = workers_.find(std::string(name));
    if (it == workers_.end())
      return unknown(name);
    return status_of(*it->second);
  }

  bool wait_until_applied(const std::vector<std::string>& names, std::uint64_t position,
                          std::chrono::milliseconds timeout) const override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<Worker*> targets;
    {
      std::lock_guard lk(workers_mu_);
      if (names.empty()) {
        for (const auto& [name, w] : workers_)
          targets.push_back(w.get());
      } else {
        for (const auto& n : names) {
          auto it = workers_.find(n);
          if (it == workers_.end())
            return false;
          targets.push_back(it->second.get());
        }
      }
    }
    for (Worker* w : targets) {
      std::unique_lock wl(w->mu);
      const bool ok = w->cv.wait_until(wl, deadline, [&] {
        return reflects(*w, position) || w->state == State::failed || w->state == State::stopped;
      });
      if (!ok || !reflects(*w, position))
        return false;
    }
    return true;
  }

  // Whether `w`'s served rows reflect the log up to `position` (under w.mu): it applied that
  // far, or it follows the log live and nothing it reads was committed between. (A live worker
  // sleeps through commits of events it does not read and moves its position only at its next
  // poll; a read-your-writes query need not wait for that.)
  bool reflects(const Worker& w, std::uint64_t position) const {
    if (w.meta.active_slot == 0)
      return false;
    return w.served_position >= position ||
           (w.state == State::caught_up && !w.meta.build_slot &&
            !store_.may_have_events(w.filter, w.served_position, position));
  }

  Result<std::unique_ptr<View>> view(std::string_view name) const override {
    std::lock_guard lk(workers_mu_);
    auto it = workers_.find(std::string(name));
    if (it == workers_.end())
      return unknown(name);
    Worker& w = *it->second;
    // Under the worker's lock: a version switch (which drops the old rows) cannot slip between
    // choosing the slot and taking the snapshot.
    std::lock_guard wl(w.mu);
    if (w.meta.active_slot == 0) {
      return unexpected(Error{errc::not_ready, "projection " + w.name + " is still being built"});
    }
    return std::unique_ptr<View>(std::make_unique<ViewImpl>(
        db_, w.meta.active_slot, w.served_position, w.meta.active_version));
  }

  Status<Error> rebuild(std::string_view name) override {
    std::lock_guard lk(workers_mu_);
    auto it = workers_.find(std::string(name));
    if (it == workers_.end())
      return unknown(name);
    Worker& w = *it->second;
    bool relaunch = false;
    {
      std::lock_guard wl(w.mu);
      w.rebuild_requested = true;
      w.state = State::rebuilding;
      w.failed_position.reset();
      w.error.clear();
      relaunch = started_ && !w.running && !stopping_;
    }
    if (relaunch) {
      if (w.thread.joinable())
        w.thread.join();
      launch(w, 0);
    }
    return Ok{};
  }

  Status<Error> run_until_caught_up(
      const std::function<void(const std::vector<ProjectionStatus>&)>& progress) override {
    const std::uint64_t target = store_.head();
    {
      std::lock_guard lk(workers_mu_);
      stopping_ = false;
      for (auto& [name, w] : workers_) {
        if (w->thread.joinable())
          w->thread.join();
        launch(*w, target);
      }
    }
    for (;;) {
      bool any_running = false;
      {
        std::lock_guard lk(workers_mu_);
        for (auto& [name, w] : workers_) {
          std::lock_guard wl(w->mu);
          any_running = any_running || w->running;
        }
      }
      if (progress)
        progress(status());
      if (!any_running)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::lock_guard lk(workers_mu_);
    for (auto& [name, w] : workers_) {
      if (w->thread.joinable())
        w->thread.join();
      std::lock_guard wl(w->mu);
      if (w->state == State::failed) {
        return unexpected(Error{errc::failed, "projection " + w->name + " failed at position " +
                                                  std::to_string(w->failed_position.value_or(0)) +
                                                  ": " + w->error});
      }
    }
    return Ok{};
  }

  Status<Error> compact() override {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    auto s = db_->db->Flush(fo);
    if (s.ok()) {
      rocksdb::CompactRangeOptions co;
      co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      s = db_->db->CompactRange(co, nullptr, nullptr);
    }
    if (!s.ok())
      return unexpected(io_error(s));
    return Ok{};
  }

  Result<std::vector<std::pair<std::string, std::string>>> dump(
      std::string_view name) const override {
    auto v = view(name);
    if (!v)
      return unexpected(std::move(v).error());
    std::vector<std::pair<std::string, std::string>> rows;
    (*v)->scan({}, {}, [&](std::string_view k, std::string_view val) {
      rows.emplace_back(std::string(k), std::string(val));
      return true;
    });
    return rows;
  }

 private:
  static Unexpected<Error> unknown(std::string_view name) {
    return unexpected(Error{errc::unknown_projection, "no projection named " + std::string(name)});
  }

  Result<std::uint64_t> read_checkpoint(std::uint64_t slot) const {
    if (slot == 0)
      return std::uint64_t{0};
    std::string value;
    auto s = db_->db->Get(rocksdb::ReadOptions(), checkpoint_key(slot), &value);
    if (s.IsNotFound())
      return std::uint64_t{0};
    if (!s.ok())
      return unexpected(io_error(s));
    const auto position = detail::checkpoint_position(value);
    if (!position)
      return unexpected(Error{errc::io_error, "malformed checkpoint"});
    return *position;
  }

  // The next slot id, persisted before it is used. Written under the lock, not in the caller's
  // batch: workers preparing builds at once could otherwise commit their counters out of order,
  // leave a lower one stored, and after a restart hand out a slot id still in use (whose rows a
  // later switch would then drop).
  Result<std::uint64_t> allocate_slot() {
    std::lock_guard lk(slot_mu_);
    const std::uint64_t slot = next_slot_;
    auto s = db_->db->Put(rocksdb::WriteOptions(), kNextSlotKey, be64(slot + 1));
    if (!s.ok())
      return unexpected(io_error(s));
    next_slot_ = slot + 1;
    return slot;
  }

  static void drop_slot(rocksdb::WriteBatch& wb, std::uint64_t slot) {
    if (slot == 0)
      return;
    wb.DeleteRange(data_prefix(slot), data_prefix(slot + 1));
    wb.Delete(checkpoint_key(slot));
  }

  // Offline only (bulk_load: no view can hold a snapshot of it): deletes the table files wholly
  // inside a dropped slot's rows, which drop_slot's range deletion only hides until a compaction.
  // Best effort: rows left behind stay hidden by the range deletion.
  void reclaim_files(std::uint64_t slot) {
    if (slot == 0 || !opts_.bulk_load)
      return;
    const std::string begin = data_prefix(slot), end = data_prefix(slot + 1);
    const rocksdb::Slice b(begin), e(end);
    (void)rocksdb::DeleteFilesInRange(db_->db.get(), db_->db->DefaultColumnFamily(), &b, &e);
  }

  // Empties a build slot whose writes may have outlived their checkpoint (a bulk build spills
  // rows without one), so it can be built again from position 0.
  rocksdb::Status clear_slot(std::uint64_t slot) {
    rocksdb::WriteBatch wb;
    drop_slot(wb, slot);
    rocksdb::WriteOptions synced;
    synced.sync = true;
    auto s = db_->db->Write(synced, &wb);
    if (s.ok())
      reclaim_files(slot);
    return s;
  }

  // Requires workers_mu_.
  void launch(Worker& w, std::uint64_t stop_at) {
    {
      std::lock_guard wl(w.mu);
      if (w.state == State::failed && !w.rebuild_requested)
        return;  // stays failed
      w.running = true;
    }
    w.thread = std::thread([this, &w, stop_at] {
      // "p:" and the projection's name, cut to what the kernel keeps (15 characters).
      name_this_thread(("p:" + w.name).substr(0, 15).c_str());
      try {
        run(w, stop_at);
      } catch (const std::exception& e) {
        fail(w, 0, std::string("projection runner: ") + e.what());
      } catch (...) {
        fail(w, 0, "projection runner: unknown exception");
      }
      std::lock_guard wl(w.mu);
      w.running = false;
      w.cv.notify_all();
    });
  }

  void fail(Worker& w, std::uint64_t position, std::string error) {
    std::lock_guard wl(w.mu);
    w.state = State::failed;
    w.failed_position = position;
    w.error = std::move(error);
    w.cv.notify_all();
  }

  // Decides which slot this worker writes: starts a build when asked to rebuild, when the code's
  // version differs from the served one, or when nothing is served yet. Returns false on an I/O
  // error (the worker is then failed).
  bool prepare(Worker& w) {
    std::unique_lock wl(w.mu);
    Meta m = w.meta;
    const bool stale_build = m.build_slot != 0 && m.build_version != w.version;
    const bool need_build =
        w.rebuild_requested || stale_build || (m.build_slot == 0 && m.active_version != w.version);
    if (!need_build) {
      if (m.build_slot != 0) {
        w.state = State::rebuilding;
      } else if (w.state != State::caught_up) {
        w.state = State::running;
      }
      return true;
    }
    auto slot = allocate_slot();
    if (!slot) {
      wl.unlock();
      fail(w, 0, "cannot start a build: " + slot.error().message);
      return false;
    }
    rocksdb::WriteBatch wb;
    const std::uint64_t stale_slot = m.build_slot;
    drop_slot(wb, stale_slot);
    m.build_slot = *slot;
    m.build_version = w.version;
    wb.Put(meta_key(w.name), m.encode());
    auto s = db_->db->Write(rocksdb::WriteOptions(), &wb);
    if (!s.ok()) {
      wl.unlock();
      fail(w, 0, "cannot start a build: " + s.ToString());
      return false;
    }
    w.meta = m;
    w.build_position = 0;
    w.build_fresh = true;
    w.rebuild_requested = false;
    w.state = State::rebuilding;
    reclaim_files(stale_slot);
    return true;
  }

  // The copy being written has caught up: a build becomes the served copy (and the old one is
  // dropped); a served copy is now live.
  bool caught_up(Worker& w) {
    bool building = false;
    {
      std::lock_guard wl(w.mu);
      building = w.meta.build_slot != 0;
    }
    // The build was written without the WAL: make it durable before the synced switch. (An
    // offline build's rows are in ingested table files, durable once ingested: a flush would
    // only write a tiny file of metadata per read model, which every later read looks into.)
    if (building && !opts_.bulk_load) {
      rocksdb::FlushOptions fo;
      fo.wait = true;
      if (auto s = db_->db->Flush(fo); !s.ok()) {
        fail(w, w.build_position, "cannot flush the rebuilt copy: " + s.ToString());
        return false;
      }
    }
    std::unique_lock wl(w.mu);
    if (w.meta.build_slot == 0) {
      w.state = State::caught_up;
      w.cv.notify_all();
      return true;
    }
    Meta m = w.meta;
    const std::uint64_t old_slot = m.active_slot;
    m.active_slot = m.build_slot;
    m.active_version = m.build_version;
    m.build_slot = 0;
    m.build_version = 0;
    rocksdb::WriteBatch wb;
    wb.Put(meta_key(w.name), m.encode());
    wb.Put(checkpoint_key(m.active_slot), be64(w.build_position));
    drop_slot(wb, old_slot);
    // Held under the worker's lock: view() cannot snapshot the old slot after its rows are gone.
    rocksdb::WriteOptions synced;
    synced.sync = true;
    auto s = db_->db->Write(synced, &wb);
    if (!s.ok()) {
      wl.unlock();
      fail(w, w.build_position, "cannot switch to the rebuilt copy: " + s.ToString());
      return false;
    }
    w.meta = m;
    w.served_position = w.build_position;
    w.build_position = 0;
    w.state = State::caught_up;
    w.cv.notify_all();
    reclaim_files(old_slot);
    return true;
  }

  void run(Worker& w, std::uint64_t stop_at) {
    for (;;) {
      if (stopping_)
        return;
      if (!prepare(w))
        return;
      std::uint64_t slot = 0, pos = 0;
      bool building = false, fresh = false;
      {
        std::lock_guard wl(w.mu);
        building = w.meta.build_slot != 0;
        slot = building ? w.meta.build_slot : w.meta.active_slot;
        pos = building ? w.build_position : w.served_position;
        fresh = building && w.build_fresh;
        w.build_fresh = false;
      }
      // A build resumed from its start, or resumed offline (a bulk build restarts from its
      // start), may hold rows written after its checkpoint: it starts over in an empty slot.
      if (building && !fresh && (pos == 0 || opts_.bulk_load)) {
        if (auto s = clear_slot(slot); !s.ok()) {
          fail(w, pos, "cannot restart the build: " + s.ToString());
          return;
        }
        pos = 0;
        set_position(w, true, 0, 0);
      }
      const Outcome o = follow(w, slot, building, pos, stop_at);
      if (o != Outcome::restart)
        return;
    }
  }

  enum class Outcome { done, restart };

  void set_writing_out(Worker& w, bool on) {
    std::lock_guard wl(w.mu);
    w.writing_out = on;
  }

  // Whether no other offline build holds more memory than `w`'s. Called from worker threads
  // without workers_mu_ (stop() holds it while joining them): workers are only added before the
  // runtime runs, so the map does not change under them.
  bool holds_the_most(const Worker& w) const {
    const std::int64_t mine = w.bulk_bytes.load();
    for (const auto& [name, other] : workers_) {
      if (other.get() != &w && other->bulk_bytes.load() > mine)
        return false;
    }
    return true;
  }

  void set_position(Worker& w, bool building, std::uint64_t pos, std::size_t applied) {
    std::lock_guard wl(w.mu);
    (building ? w.build_position : w.served_position) = pos;
    w.events_applied += applied;
    w.cv.notify_all();
  }

  Outcome follow(Worker& w, std::uint64_t slot, bool building, std::uint64_t pos,
                 std::uint64_t stop_at) {
    const std::string prefix = data_prefix(slot);
    const std::string ckey = checkpoint_key(slot);
    std::uint64_t persisted = pos;
    // The served copy: WAL without fsync, which survives a process crash (rows are rebuildable).
    // A copy being built skips the WAL: after a crash it comes back as of the last memtable flush,
    // its rows and checkpoint together (they share each batch, and a flush persists a prefix of
    // the writes), and resumes from there; caught_up() flushes it before the synced write that
    // switches queries to it, so a served copy never depends on a lost write.
    rocksdb::WriteOptions wo;
    wo.disableWAL = building;
    // An offline build keeps its rows in memory (see BulkBatch) and persists no checkpoint until
    // it is switched to.
    std::optional<BulkBatch> bulk;
    // What the projection holds in memory while building offline (Projection::hold), as counted
    // in bulk_bytes_.
    struct Held {
      Projection& projection;
      std::atomic<std::int64_t>& total;
      std::atomic<std::int64_t>& worker_total;  // Worker::bulk_bytes
      bool on = false;
      std::int64_t counted = 0;
      void start() {
        on = true;
        projection.hold(true);
      }
      void recount() {
        const std::int64_t now = projection.held_bytes();
        total += now - counted;
        counted = now;
      }
      ~Held() {
        worker_total = 0;
        if (!on)
          return;
        projection.hold(false);
        recount();
      }
    } held{*w.projection, bulk_bytes_, w.bulk_bytes};
    if (building && opts_.bulk_load) {
      bulk.emplace(*db_->db, prefix, slot, (std::filesystem::path(opts_.path) / "bulk").string(),
                   bulk_bytes_);
      held.start();
    }
    auto persist = [&](std::uint64_t p) {
      if (p == persisted || bulk)
        return true;
      auto s = db_->db->Put(wo, ckey, detail::checkpoint_value(p, persisted));
      if (!s.ok()) {
        fail(w, p, "cannot save the checkpoint: " + s.ToString());
        return false;
      }
      persisted = p;
      return true;
    };
    // Commits the batch with the checkpoint `next_pos`; false when the worker is done (failed).
    auto commit = [&](BatchImpl& batch, std::uint64_t next_pos, std::size_t applied,
                      const std::optional<std::uint64_t>& poison, std::string& error) {
      rocksdb::WriteBatch wb;
      auto s = batch.write_batch(wb, ckey, detail::checkpoint_value(next_pos, persisted));
      if (s.ok())
        s = db_->db->Write(wo, &wb);
      if (!s.ok()) {
        fail(w, pos, "cannot commit the read model: " + s.ToString());
        return false;
      }
      batch.committed();
      pos = persisted = next_pos;
      set_position(w, building, pos, applied);
      if (poison) {
        fail(w, *poison, std::move(error));
        return false;
      }
      return true;
    };
    // Writes an offline build's rows out; false when that failed (the worker is then failed).
    // `release`: how much of the projection's held state to write out with them (the least
    // recently touched first, see Projection::flush).
    auto spill = [&](std::int64_t release) {
      try {
        w.projection->flush(*bulk, release);
      } catch (const std::exception& ex) {
        fail(w, pos, std::string("cannot write the rebuilt rows: ") + ex.what());
        return false;
      }
      held.recount();
      if (auto s = bulk->spill(); !s.ok()) {
        fail(w, pos, "cannot write the rebuilt rows: " + s.ToString());
        return false;
      }
      return true;
    };
    // The same for an offline build: the rows stay in memory unless the builds together hold
    // more than their budget.
    auto commit_bulk = [&](std::uint64_t next_pos, std::size_t applied,
                           const std::optional<std::uint64_t>& poison, std::string& error) {
      if (poison) {
        fail(w, *poison, std::move(error));
        return false;
      }
      // Over the budget, the build holding the most writes its rows out with the less recently
      // touched half of its held state: a few large table files. (Every build above an even
      // share spilling at once wrote hundreds of small ones, and each read of a row not in
      // memory then looked into every one of them.)
      held.recount();
      w.bulk_bytes = bulk->bytes() + held.counted;
      const auto budget = static_cast<std::int64_t>(opts_.bulk_memory_bytes);
      if (bulk_bytes_.load() > budget && holds_the_most(w)) {
        if (!spill(held.counted / 2))
          return false;
        w.bulk_bytes = bulk->bytes() + held.counted;
      }
      pos = next_pos;
      set_position(w, building, pos, applied);
      return true;
    };
    // Applies one event; on an exception its partial writes are undone (not in an offline
    // build, which is then never served) and `error` says why.
    auto apply = [&](const store::RecordedEvent& e, Batch& batch, BatchImpl* undoable,
                     std::string& error) {
      if (undoable)
        undoable->save_point();
      try {
        w.projection->apply(e, batch);
        return true;
      } catch (const std::exception& ex) {
        error = ex.what();
      } catch (...) {
        error = "unknown exception";
      }
      if (undoable)
        undoable->rollback();
      return false;
    };
    bool live = false;
    RowCache cache;
    std::unique_ptr<store::Subscription> sub;
    struct LeaveTap {
      LogTap& tap;
      const void* reader;
      ~LeaveTap() { tap.leave(reader); }
    } leave_tap{tap_, &w};
    // Applies the events `fill` gives (fill(batch, apply_one) returns the position the batch
    // reaches, or nullopt when reading failed and the worker is failed) and commits them.
    auto step = [&](auto&& fill) {
      std::size_t applied = 0;
      std::optional<std::uint64_t> poison;
      std::string error;
      auto run = [&](Batch& batch, BatchImpl* undoable) {
        return fill([&](const store::RecordedEvent& e) {
          if (!apply(e, batch, undoable, error)) {
            // The poison event's partial writes are undone; those before it commit.
            poison = e.position;
            return false;
          }
          ++applied;
          return true;
        });
      };
      if (bulk) {
        auto next = run(*bulk, nullptr);
        return next && commit_bulk(poison ? *poison - 1 : *next, applied, poison, error);
      }
      BatchImpl batch(*db_->db, prefix, cache);
      auto next = run(batch, &batch);
      return next && commit(batch, poison ? *poison - 1 : *next, applied, poison, error);
    };
    for (;;) {
      if (stopping_) {
        persist(pos);
        return Outcome::done;
      }
      if (rebuild_pending(w)) {
        persist(pos);
        return Outcome::restart;
      }
      const std::uint64_t head = store_.head();
      const std::uint64_t target = stop_at ? stop_at : head;
      if (pos >= target && (stop_at || !live)) {
        if (!persist(pos))
          return Outcome::done;
        if (bulk) {
          set_writing_out(w, true);
          const bool written = spill(INT64_MAX);
          set_writing_out(w, false);
          if (!written)
            return Outcome::done;
        }
        if (!caught_up(w))
          return Outcome::done;
        if (building)
          return Outcome::restart;  // now writing the served slot
        live = true;
        if (stop_at)
          return Outcome::done;
      }
      // Catching up (or a live worker far behind): whole chunks decoded once for every worker,
      // many of them per commit.
      const bool behind = !live || head - pos > 4 * LogTap::kChunk;
      if (behind && tap_.whole_chunk_after(pos)) {
        sub.reset();
        const bool ok = step([&](const auto& apply_one) -> std::optional<std::uint64_t> {
          std::uint64_t scanned = pos;
          std::size_t taken = 0;
          for (std::size_t n = 0; n < opts_.catch_up_chunks && taken < opts_.catch_up_batch &&
                                  !stopping_ && tap_.whole_chunk_after(scanned);
               ++n) {
            std::string read_error;
            auto chunk = tap_.chunk(&w, scanned, w.filter.stored_form, stopping_, read_error);
            if (!chunk) {
              fail(w, pos, "cannot read the log: " + read_error);
              return std::nullopt;
            }
            for (const auto& e : chunk->events) {
              if (e.position <= scanned || !w.filter.matches(e))
                continue;
              if (!apply_one(e))
                return scanned;
              ++taken;
            }
            scanned = chunk->last;
          }
          return scanned;
        });
        if (!ok)
          return Outcome::done;
        continue;
      }
      tap_.leave(&w);
      if (!sub)
        sub = store_.subscribe(pos, w.filter);
      auto events = sub->next(opts_.catch_up_batch, opts_.poll);
      if (!events) {
        fail(w, pos, "cannot read the log: " + events.error().message);
        return Outcome::done;
      }
      if (events->empty()) {
        const std::uint64_t scanned = sub->position();
        if (scanned > pos) {
          pos = scanned;
          set_position(w, building, pos, 0);
          if (pos - persisted >= opts_.idle_checkpoint_every && !persist(pos)) {
            return Outcome::done;
          }
        }
        continue;
      }
      const bool ok = step([&](const auto& apply_one) -> std::optional<std::uint64_t> {
        for (const auto& e : *events) {
          if (!apply_one(e))
            break;
        }
        return sub->position();
      });
      if (!ok)
        return Outcome::done;
    }
  }

  bool rebuild_pending(Worker& w) {
    std::lock_guard wl(w.mu);
    return w.rebuild_requested;
  }

  ProjectionStatus status_of(const Worker& w) const {
    ProjectionStatus st;
    st.name = w.name;
    st.version = w.version;
    std::uint64_t writing = 0;
    {
      std::lock_guard wl(w.mu);
      st.serving_version = w.meta.active_version;
      st.checkpoint = w.served_position;
      st.build_position = w.meta.build_slot ? w.build_position : 0;
      st.state = w.state;
      st.failed_position = w.failed_position;
      st.error = w.error;
      st.events_applied = w.events_applied;
      st.writing_out = w.writing_out;
      writing = w.meta.build_slot ? w.build_position : w.served_position;
    }
    st.head = store_.head();
    st.lag_events = st.head > writing ? st.head - writing : 0;
    // A live worker with nothing it reads in between is not behind (see reflects()).
    if (st.lag_events > 0 && st.state == State::caught_up &&
        !store_.may_have_events(w.filter, writing, st.head)) {
      st.lag_events = 0;
    }
    if (st.lag_events > 0) {
      auto oldest = store_.get_at(writing + 1);
      if (oldest) {
        const auto& clock = store_.options().clock;
        const std::int64_t now = clock ? clock->now_ms() : SystemClock().now_ms();
        st.lag_seconds = std::max<double>(0.0, static_cast<double>(now - oldest->time_ms) / 1000.0);
      }
    }
    return st;
  }

  store::EventStore& store_;
  RuntimeOptions opts_;
  std::shared_ptr<Db> db_;
  LogTap tap_{store_};
  std::mutex slot_mu_;
  std::uint64_t next_slot_;
  mutable std::mutex workers_mu_;
  std::map<std::string, std::unique_ptr<Worker>, std::less<>> workers_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::atomic<std::int64_t> bulk_bytes_{0};  // rows held in memory by offline builds
};

// Where a row is inserted in the memtable is remembered per *run* of keys, and the next insert
// into the same run starts its skip-list search there (RocksDB's insert hints). A run: the rows
// of one index value of a collection ('D' slot "i/" sort NUL facet=value NUL ...: new records'
// sort keys are mostly times, so they land next to the last one), else the rows of a slot that
// share their first two bytes ("d/" documents under time-ordered ids, history rows, ...). Keys
// outside the slots (meta, checkpoints) take no hint. Measured on the HTTP write benchmark, the
// four read models an activity touches took a median 52.6 against 59.5 us of CPU per request
// over 11 alternating pairs of runs (lower with hints in 10).
class RowRun final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "eventcrm.RowRun"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    constexpr std::size_t kSlot = 9;  // 'D' and the slot
    const std::string_view k(key.data(), key.size());
    if (k.substr(kSlot, 2) == "i/") {
      const std::size_t sort_end = k.find('\0', kSlot);
      const std::size_t value_end =
          sort_end == std::string_view::npos ? sort_end : k.find('\0', sort_end + 1);
      if (value_end != std::string_view::npos)
        return rocksdb::Slice(key.data(), value_end + 1);
    }
    return rocksdb::Slice(key.data(), std::min(key.size(), kSlot + 2));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() > 9 && key[0] == 'D';
  }
};

}  // namespace

Result<std::unique_ptr<Runtime>> Runtime::open(store::EventStore& store, RuntimeOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  rocksdb::Options o;
  o.create_if_missing = true;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 3;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Obsolete WAL files are deleted, never archived or recycled (compact() relies on it).
  o.WAL_ttl_seconds = 0;
  o.WAL_size_limit_MB = 0;
  o.recycle_log_file_num = 0;
  if (options.bulk_load) {
    // Rows are written once and read back rarely while loading: fewer, larger flushes and no
    // rewriting of them until the one compaction at the end.
    o.write_buffer_size = 128u << 20;
    o.max_write_buffer_number = 3;
    o.min_write_buffer_number_to_merge = 1;
    o.disable_auto_compactions = true;
    o.level0_file_num_compaction_trigger = 1 << 20;
    o.level0_slowdown_writes_trigger = 1 << 20;
    o.level0_stop_writes_trigger = 1 << 20;
    o.soft_pending_compaction_bytes_limit = 0;
    o.hard_pending_compaction_bytes_limit = 0;
  }
  // LZ4 rather than the default snappy: as small here (66 against 68 MB of read models for
  // 200,000 events) and cheaper to write; a 1M-event rebuild's largest build spent ~4 % of its
  // CPU compressing. Files already written keep their own compression.
  o.compression = rocksdb::kLZ4Compression;
  // Hints need memtable inserts that are not concurrent: the workers' batches of one write group
  // are inserted by its leader, one after the other.
  o.allow_concurrent_memtable_write = false;
  o.memtable_insert_with_hint_prefix_extractor = std::make_shared<RowRun>();
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  auto db = std::make_shared<Db>();
  if (options.file_system) {
    db->env = rocksdb::NewCompositeEnv(options.file_system);
    o.env = db->env.get();
  }
  if (options.memtable_bytes > 0)
    o.write_buffer_size = options.memtable_bytes;
  // Each projection's commits are replayed as a chain, never past a lost one
  // (checkpoint_replay.hpp).
  db->replay = std::make_unique<detail::CheckpointChain>(
      detail::persisted_checkpoints(rocksdb::DBOptions(o), options.path));
  o.wal_filter = db->replay.get();
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(o, options.path, &raw);
  if (!s.ok()) {
    return unexpected(Error{errc::io_error, "cannot open the read models: " + s.ToString()});
  }
  db->db.reset(raw);
  if (const auto dropped = db->replay->dropped_commits()) {
    std::fprintf(stderr,
                 "eventcrm: %llu read-model commit(s) were not replayed: an earlier commit of the "
                 "same read model was lost from the WAL (a power cut before it was synced); those "
                 "read models apply the events again from their last commit that survived\n",
                 static_cast<unsigned long long>(dropped));
  }
  std::string value;
  std::uint64_t next_slot = 1;
  s = db->db->Get(rocksdb::ReadOptions(), kNextSlotKey, &value);
  if (s.ok() && value.size() == 8) {
    next_slot = get_be64(value);
  } else if (!s.ok() && !s.IsNotFound()) {
    return unexpected(io_error(s));
  }
  return std::unique_ptr<Runtime>(
      std::make_unique<RuntimeImpl>(store, std::move(options), std::move(db), next_slot));
}

}  // namespace eventcrm::projections
