// The RocksDB event store: one writer thread coalesces concurrent appends into one WriteBatch,
// one syncer thread makes groups of such batches durable with one WAL sync (group commit);
// readers read durable positions only, the latest of them from the tail in memory (tail.hpp).
//
// Column families:
//   events     be64(position)            -> record (canonical bytes ‖ hash)
//   streams    stream '\0' be64(version) -> be64(position); its last entry is the stream's head
//   heads      (no longer used: stores made before kept stream heads here)
//   ids        uuid (16 bytes)           -> be64(position)
//   snapshots  stream                    -> be64(version) ‖ state bytes
#include "eventstore/store.hpp"

#include <openssl/hmac.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/write_batch.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/thread_name.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/first_positions.hpp"
#include "eventstore/sealing.hpp"
#include "eventstore/tail.hpp"
#include "eventstore/wal_files.hpp"
#include "eventstore/wal_recovery.hpp"

namespace eventcrm::store {
namespace {

using detail::be64;
using detail::get_be64;

Unexpected<Error> fail(errc code, std::string message, std::string stream = {},
                       std::optional<std::int64_t> current = std::nullopt) {
  return unexpected(Error{code, std::move(message), std::move(stream), current});
}

Error io_error(const rocksdb::Status& s) {
  return Error{errc::io_error, s.ToString(), {}, {}};
}

bool valid_utf8(std::string_view s) {
  return simdjson::validate_utf8(s.data(), s.size());
}

// Checks one event as given by a caller; fills in a generated id.
std::optional<Error> validate_event(NewEvent& ev, const Options& o, bool& generated) {
  generated = false;
  if (!valid_event_type(ev.type)) {
    return Error{errc::invalid_event_type,
                 "event type '" + ev.type.substr(0, 128) +
                     "' is not of the form category.verb_past_tense.vN",
                 {},
                 {}};
  }
  if (ev.id.empty()) {
    generated = true;  // named by the writer, in log order (detail::Uuid7Sequence)
  } else if (!valid_uuid(ev.id)) {
    return Error{errc::invalid_event_id, "event id must be a UUID (8-4-4-4-12 hex)", {}, {}};
  } else {
    std::transform(ev.id.begin(), ev.id.end(), ev.id.begin(),
                   [](char c) { return static_cast<char>(std::tolower(c)); });
  }
  const auto& m = ev.metadata;
  std::size_t size = ev.data.size() + m.actor.size() + m.reason.size() + m.correlation_id.size() +
                     m.causation_id.size();
  for (const auto& [k, v] : m.extra)
    size += k.size() + v.size();
  if (size > o.max_event_bytes) {
    return Error{errc::event_too_large,
                 "event of " + std::to_string(size) + " bytes exceeds the limit of " +
                     std::to_string(o.max_event_bytes),
                 {},
                 {}};
  }
  // Parsed from a padded copy in a buffer the thread keeps: parse() would otherwise allocate a
  // padded copy for every event.
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;
  padded.assign(ev.data);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  auto doc = parser.parse(padded.data(), ev.data.size(), false);
  if (doc.error() || !doc.value().is_object()) {
    return Error{errc::invalid_json, "event data must be a valid JSON object", {}, {}};
  }
  bool utf8 = valid_utf8(m.actor) && valid_utf8(m.reason) && valid_utf8(m.correlation_id) &&
              valid_utf8(m.causation_id);
  std::unordered_set<std::string_view> keys;
  for (const auto& [k, v] : m.extra) {
    utf8 = utf8 && valid_utf8(k) && valid_utf8(v);
    if (k.empty() || !keys.insert(k).second) {
      return Error{errc::invalid_json, "metadata keys must be non-empty and unique", {}, {}};
    }
  }
  if (!utf8)
    return Error{errc::invalid_json, "metadata must be valid UTF-8", {}, {}};
  return std::nullopt;
}

class SubscriptionImpl;

class RocksEventStore final : public EventStore {
 public:
  explicit RocksEventStore(Options o) : opts_(std::move(o)) {
    if (!opts_.clock)
      opts_.clock = std::make_shared<SystemClock>();
  }
  ~RocksEventStore() override { close(); }

  Status<Error> open_db();

  Result<AppendResult> append(std::string_view stream, ExpectedVersion expected,
                              std::vector<NewEvent> events) override {
    std::vector<StreamAppend> parts;
    parts.push_back(StreamAppend{std::string(stream), expected, std::move(events)});
    return append_multi(std::move(parts));
  }

  Result<AppendResult> append_multi(std::vector<StreamAppend> parts) override {
    std::promise<Result<AppendResult>> p;
    auto f = p.get_future();
    append_async(std::move(parts), [&p](Result<AppendResult> r) { p.set_value(std::move(r)); });
    return f.get();
  }

  void append_async(std::vector<StreamAppend> parts, AppendCallback done) override;
  Result<AppendResult> replicate(std::vector<RecordedEvent> events) override;

  Result<std::vector<RecordedEvent>> read_stream(std::string_view stream, std::int64_t from_version,
                                                 Direction direction, std::size_t limit) override;
  Result<LogPage> read_all(std::uint64_t after, std::size_t limit, const Filter& filter,
                           std::size_t scan_limit) override;
  Result<LogPage> read_all_backward(std::uint64_t before, std::size_t limit, const Filter& filter,
                                    std::size_t scan_limit) override;
  Result<RecordedEvent> get_event(std::string_view id) override;
  Result<RecordedEvent> get_at(std::uint64_t position) override;
  Result<std::int64_t> stream_version(std::string_view stream) override;
  Result<bool> stream_exists(std::string_view stream) override;

  std::uint64_t head() const override { return head_.load(std::memory_order_acquire); }
  std::uint64_t wait_for(std::uint64_t position, std::chrono::milliseconds timeout) override {
    std::unique_lock lk(head_mu_);
    head_cv_.wait_for(lk, timeout, [&] { return head() > position || closed_.load(); });
    return head();
  }
  // A live subscription that has read up to `position` (the head when it looked) sleeps until
  // events of the kinds it reads may have been committed after it, the store closes, or
  // `timeout`. Commits of other events do not wake it: with ~20 projection workers each
  // reading a few types, most used to wake at every commit only to find nothing to do.
  // `wakes`: wake_count() when the subscription last looked; a wake_subscriptions() since then
  // returns at once.
  void wait_for_kinds(std::uint64_t position, const detail::Kinds& wanted, std::uint64_t wakes,
                      std::chrono::milliseconds timeout) {
    std::unique_lock lk(head_mu_);
    if (head() > position || closed_.load() || wakes_.load() != wakes)
      return;
    Waiter w;
    w.wanted = wanted;
    waiters_.push_back(&w);
    w.cv.wait_for(lk, timeout, [&] { return w.woken || closed_.load(); });
    std::erase(waiters_, &w);
  }
  std::uint64_t wake_count() const { return wakes_.load(); }
  bool may_have_events(const Filter& filter, std::uint64_t after, std::uint64_t upto) override {
    if (upto <= after)
      return false;
    std::vector<std::shared_ptr<const detail::TailBlock>> blocks;
    if (!tail_.blocks_after(after, blocks) || blocks.empty() || blocks.back()->last() < upto)
      return true;
    const auto wanted = detail::Kinds::of(filter);
    for (const auto& b : blocks) {
      if (b->first() > upto)
        break;
      if (b->kinds().may_match(wanted))
        return true;
    }
    return false;
  }
  void wake_subscriptions() override {
    std::lock_guard lk(head_mu_);
    ++wakes_;
    for (Waiter* waiter : waiters_) {
      waiter->woken = true;
      waiter->cv.notify_one();
    }
  }
  std::uint64_t add_commit_listener(std::function<void(std::uint64_t)> fn) override {
    std::lock_guard lk(listeners_mu_);
    auto id = ++next_listener_id_;
    listeners_.emplace_back(id, std::move(fn));
    return id;
  }
  void remove_commit_listener(std::uint64_t id) override {
    std::lock_guard lk(listeners_mu_);
    std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
  }

  std::unique_ptr<Subscription> subscribe(std::uint64_t after, Filter filter) override;
  VerifyReport verify(std::uint64_t from, std::uint64_t to,
                      const std::function<void(std::uint64_t)>& progress) override;
  Status<Error> save_snapshot(std::string_view stream, std::int64_t version,
                              std::string_view bytes) override;
  Result<Snapshot> load_snapshot(std::string_view stream) override;
  Status<Error> forget_subject(std::string_view stream) override;
  Result<std::size_t> unsealed_personal_values(std::string_view stream) override;
  Result<std::string> keyed_digest(std::string_view name, std::string_view bytes) override;

  const StoreStats& stats() const override { return stats_; }
  const Options& options() const override { return opts_; }
  void close() override;

  bool is_closed() const { return closed_.load(); }

 private:
  struct Pending {
    std::vector<StreamAppend> parts;
    AppendCallback done;
    std::size_t events = 0;
    // Per event in append order: the store generated its id (a fresh UUIDv7 cannot have been
    // committed before, so the idempotency lookup is skipped for it).
    std::vector<bool> generated;
    // Set instead of `parts` for replicate(): events recorded elsewhere, stored verbatim.
    std::vector<RecordedEvent> verbatim;
    // Per event in append order: its data as the caller gave it when the store sealed it (else
    // empty), for comparing an idempotent retry with what was committed. Empty when no event's
    // data was changed by sealing.
    std::vector<std::string> plain;
  };
  // What the writer has staged in the current batch but not yet committed.
  struct Staged {
    std::unordered_map<std::string, std::int64_t> heads;
    std::unordered_map<std::string, RecordedEvent> ids;  // uuid bytes -> event
  };

  // A batch written to RocksDB (WAL and memtable), waiting for the WAL sync that makes it
  // durable. Batches reach the syncer in log order and are answered in that order.
  struct Written {
    std::vector<Pending> batch;
    std::vector<Result<AppendResult>> results;
    std::uint64_t last_position = 0;  // the log head once this batch is durable
    std::size_t events = 0;           // events this batch wrote (0: nothing to make durable)
    std::chrono::steady_clock::time_point started;
    std::shared_ptr<const detail::TailBlock> records;  // for the tail, once durable
  };

  void writer_loop();
  void syncer_loop();
  // A failed WAL write or sync: what RocksDB holds past the last durable batch is unknown, so
  // the store takes no more writes until it is reopened (as PostgreSQL does on a failed fsync).
  void stop_writes() { stats_.writes_stopped = true; }
  bool writes_stopped() const { return stats_.writes_stopped.load(); }
  Result<std::int64_t> last_version(std::string_view stream, std::uint64_t committed);
  // The position of the stream's first event, if it has one (a point lookup, or the cache of
  // first positions already durable).
  Result<std::optional<std::uint64_t>> first_position(std::string_view stream);
  Result<AppendResult> stage(Pending& p, rocksdb::WriteBatch& wb, Staged& staged,
                             std::uint64_t& next_pos, Hash& prev, std::int64_t& last_time);
  Result<AppendResult> stage_verbatim(Pending& p, rocksdb::WriteBatch& wb, Staged& staged,
                                      std::uint64_t& next_pos, Hash& prev, std::int64_t& last_time);
  Result<std::int64_t> current_version(const std::string& stream, const Staged& staged);
  Result<std::optional<RecordedEvent>> find_id(const std::string& uuid16, const Staged& staged);
  // `open`: personal fields unsealed for the reader (else as stored).
  Result<RecordedEvent> read_position(std::uint64_t pos, bool open = true);
  Status<Error> open_fields(RecordedEvent& e) {
    if (!sealer_)
      return Ok{};
    return sealer_->unseal(e);
  }

  Options opts_;
  std::unique_ptr<rocksdb::Env> env_;                  // wraps Options::file_system; outlives db_
  std::shared_ptr<detail::ZeroFilledWals> wal_files_;  // in env_, when WAL spares are on
  std::unique_ptr<detail::ContiguousReplay> wal_replay_;  // the WAL filter db_ was opened with
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  rocksdb::ColumnFamilyHandle* events_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* snapshots_cf_ = nullptr;
  std::unique_ptr<KeyStore> keys_;  // with a personal-data policy only
  std::unique_ptr<Sealer> sealer_;

  // Writer state (writer thread only, after open). It runs ahead of `head_`: it includes
  // batches written to RocksDB whose WAL sync has not returned yet.
  Hash last_hash_{};
  std::int64_t last_time_ = 0;
  std::uint64_t written_head_ = 0;
  detail::Uuid7Sequence id_sequence_;       // ids of events appended without one
  std::string record_buffer_, key_buffer_;  // stage()'s scratch space
  detail::TailRecords tail_records_;        // the staged records' places in the batch
  std::unordered_map<std::string, std::int64_t> head_cache_;

  // The durable head: readers see positions up to here, never a written but unsynced batch.
  std::atomic<std::uint64_t> head_{0};
  // The records of the latest durable positions, up to the head (read_all serves from it).
  detail::LogTail tail_{opts_.tail_bytes};
  std::atomic<bool> closed_{false};

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread writer_;

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<Written> sync_queue_;
  bool writer_done_ = false;
  std::thread syncer_;

  std::mutex head_mu_;
  std::condition_variable head_cv_;
  // Subscriptions asleep in wait_for_kinds (under head_mu_).
  struct Waiter {
    detail::Kinds wanted;
    bool woken = false;
    std::condition_variable cv;
  };
  std::vector<Waiter*> waiters_;
  std::atomic<std::uint64_t> wakes_{0};  // wake_subscriptions() calls (changed under head_mu_)

  std::mutex listeners_mu_;
  std::vector<std::pair<std::uint64_t, std::function<void(std::uint64_t)>>> listeners_;
  std::uint64_t next_listener_id_ = 0;

  std::mutex close_mu_;
  StoreStats stats_;
  // Streams' first positions, once durable: a stream's first event never moves, and every
  // command's reference checks (does this account exist?) would otherwise search the memtables.
  detail::FirstPositions first_positions_;
};

class SubscriptionImpl final : public Subscription {
 public:
  SubscriptionImpl(RocksEventStore& s, std::uint64_t after, Filter f)
      : store_(s), pos_(after), filter_(std::move(f)), kinds_(detail::Kinds::of(filter_)) {}

  Result<std::vector<RecordedEvent>> next(std::size_t max,
                                          std::chrono::milliseconds wait) override {
    auto deadline = std::chrono::steady_clock::now() + wait;
    bool woken = false;
    for (;;) {
      const std::uint64_t wakes = store_.wake_count();
      auto page = store_.read_all(pos_, max, filter_, 10'000);
      if (!page)
        return unexpected(std::move(page).error());
      pos_ = page->scanned_to;
      if (!page->events.empty())
        return std::move(page->events);
      if (pos_ < store_.head())
        continue;  // a stretch of filtered-out events
      // After a wake without events for us (wake_subscriptions(), or events whose kinds only
      // looked like ours) the caller sees the position move.
      auto now = std::chrono::steady_clock::now();
      if (woken || now >= deadline || store_.is_closed())
        return std::vector<RecordedEvent>{};
      store_.wait_for_kinds(pos_, kinds_, wakes,
                            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
      if (store_.head() <= pos_ && store_.wake_count() == wakes)
        return std::vector<RecordedEvent>{};
      woken = true;
    }
  }
  std::uint64_t position() const override { return pos_; }

 private:
  RocksEventStore& store_;
  std::uint64_t pos_;
  Filter filter_;
  detail::Kinds kinds_;  // what filter_ reads
};

// Memtable insert hints. The writer inserts each column family's keys mostly just after the last
// key it inserted with the same prefix: positions in order in `events`; in `ids`, generated ids
// (UUIDv7, increasing) whose first byte is the same for years; in `streams`, a stream's next
// version after its previous one. With a hint per prefix the skip list starts its search at the
// last insert instead of its head (the writer's memtable inserts were most of its time).
class StreamPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "eventcrm.StreamPrefix"; }
  // The stream's name and its NUL, without the 8-byte version.
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > 8; }
};

Status<Error> RocksEventStore::open_db() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.max_background_jobs = 2;
  o.bytes_per_sync = 1 << 20;
  o.keep_log_file_num = 5;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  std::shared_ptr<rocksdb::FileSystem> file_system = opts_.file_system;
  if (opts_.wal_spare_bytes > 0 && opts_.durability == Durability::sync) {
    std::error_code ec;
    std::filesystem::create_directories(opts_.path, ec);
    auto wals = std::make_shared<detail::ZeroFilledWals>(
        file_system ? file_system : rocksdb::FileSystem::Default(), opts_.path,
        opts_.wal_spare_bytes, &stats_.wal_spares_used);
    // Without a spare the WALs are made as usual: slower syncs, nothing else.
    (void)wals->start();
    wal_files_ = wals;
    file_system = std::move(wals);
  }
  if (file_system) {
    env_ = rocksdb::NewCompositeEnv(file_system);
    o.env = env_.get();
  }
  auto cache = rocksdb::NewLRUCache(opts_.block_cache_bytes);
  auto table = [&](bool bloom) {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    if (bloom)
      t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    return rocksdb::NewBlockBasedTableFactory(t);
  };
  // One writer thread: memtable inserts are never concurrent, and hints need them not to be.
  o.allow_concurrent_memtable_write = false;
  rocksdb::ColumnFamilyOptions plain(o), point(o);
  plain.table_factory.reset(table(false));
  point.table_factory.reset(table(true));
  rocksdb::ColumnFamilyOptions events(plain), streams(point), ids(point);
  std::shared_ptr<const rocksdb::SliceTransform> first_byte(rocksdb::NewFixedPrefixTransform(1));
  events.memtable_insert_with_hint_prefix_extractor = first_byte;
  ids.memtable_insert_with_hint_prefix_extractor = first_byte;
  streams.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamPrefix>();
  // A lookup of a stream with no events (a settings stream never changed, a record not yet
  // created) skips each memtable on a Bloom filter of its keys instead of searching it.
  streams.memtable_whole_key_filtering = true;
  streams.memtable_prefix_bloom_size_ratio = 0.02;
  std::vector<rocksdb::ColumnFamilyDescriptor> descs = {
      {rocksdb::kDefaultColumnFamilyName, plain},
      {detail::kEventsColumnFamily, events},
      {"streams", streams},
      {"heads", point},  // no longer written or read: stores made before kept stream heads here
      {"ids", ids},
      {"snapshots", point},
  };
  // The WAL is replayed as a clean prefix of the log, never past a hole (wal_recovery.hpp).
  wal_replay_ = std::make_unique<detail::ContiguousReplay>(
      detail::persisted_head(rocksdb::DBOptions(o), opts_.path, events));
  o.wal_filter = wal_replay_.get();
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(rocksdb::DBOptions(o), opts_.path, descs, &cfs_, &raw);
  if (!s.ok()) {
    return fail(errc::io_error,
                "cannot open the event store at the data directory: " + s.ToString());
  }
  db_.reset(raw);
  if (wal_files_) {
    // WALs made from spares and never written to (a kill before the first append) would each
    // keep a spare's worth of disk across restarts (wal_files.hpp).
    std::unique_ptr<rocksdb::LogFile> current;
    if (db_->GetCurrentWalFile(&current).ok() && current)
      stats_.wal_spares_reclaimed += wal_files_->trim_unwritten(current->LogNumber());
  }
  stats_.recovery_dropped_events = wal_replay_->dropped_events();
  if (const auto hole = wal_replay_->hole_at()) {
    std::fprintf(stderr,
                 "eventcrm: the WAL lacked the records from position %llu on (lost in a power "
                 "cut before they were synced); %llu unacknowledged event(s) written after them "
                 "were not replayed, and the log goes on from position %llu\n",
                 static_cast<unsigned long long>(*hole),
                 static_cast<unsigned long long>(wal_replay_->dropped_events()),
                 static_cast<unsigned long long>(*hole));
  }
  events_cf_ = cfs_[1];
  streams_cf_ = cfs_[2];
  ids_cf_ = cfs_[4];
  snapshots_cf_ = cfs_[5];
  if (!opts_.personal_data.empty()) {
    auto keys = KeyStore::open(opts_.keys_path.empty() ? opts_.path + "/keys" : opts_.keys_path);
    if (!keys)
      return unexpected(std::move(keys).error());
    keys_ = std::move(*keys);
    sealer_ = std::make_unique<Sealer>(opts_.personal_data, *keys_);
  }

  // Recover the head, the chain and the clock from the last event.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_cf_));
  it->SeekToLast();
  if (it->Valid()) {
    RecordedEvent last;
    if (!detail::decode_record(it->value().ToStringView(), last)) {
      return fail(errc::corrupted, "the last event in the store cannot be decoded");
    }
    head_ = last.position;
    written_head_ = last.position;
    last_hash_ = last.hash;
    last_time_ = last.time_ms;
  } else if (!it->status().ok()) {
    return unexpected(io_error(it->status()));
  }
  writer_ = std::thread([this] {
    name_this_thread("store-writer");
    writer_loop();
  });
  syncer_ = std::thread([this] {
    name_this_thread("store-syncer");
    syncer_loop();
  });
  return Ok{};
}

void RocksEventStore::append_async(std::vector<StreamAppend> parts, AppendCallback done) {
  auto reject = [&](Error e) {
    stats_.append_failures.fetch_add(1, std::memory_order_relaxed);
    done(unexpected(std::move(e)));
  };
  if (parts.empty())
    return reject(Error{errc::empty_batch, "nothing to append", {}, {}});
  std::size_t total = 0;
  // Duplicate streams and ids are looked for only where there can be any: most appends are one
  // event to one stream, and these sets were most of what such an append allocated.
  std::size_t all_events = 0;
  for (const auto& part : parts)
    all_events += part.events.size();
  std::unordered_set<std::string_view> streams, ids;
  std::vector<bool> generated;
  generated.reserve(all_events);
  std::vector<std::string> plain;
  for (auto& part : parts) {
    if (!valid_stream_name(part.stream)) {
      return reject(Error{errc::invalid_stream_name,
                          "stream name must be <category>-<id> (category [a-z][a-z0-9_]*, id "
                          "[A-Za-z0-9_.:-]+, at most 200 bytes)",
                          part.stream.substr(0, 200),
                          {}});
    }
    if (parts.size() > 1 && !streams.insert(part.stream).second) {
      return reject(Error{errc::duplicate_stream_in_batch,
                          "a stream may appear only once in a multi-stream append",
                          part.stream,
                          {}});
    }
    if (part.events.empty()) {
      return reject(Error{errc::empty_batch, "no events for stream", part.stream, {}});
    }
    if (part.expected.kind == ExpectedVersion::Kind::exact && part.expected.version < -1) {
      return reject(
          Error{errc::wrong_expected_version, "expected version must be >= -1", part.stream, {}});
    }
    total += part.events.size();
    if (total > opts_.max_events_per_append) {
      return reject(
          Error{errc::batch_too_large,
                "at most " + std::to_string(opts_.max_events_per_append) + " events per append",
                {},
                {}});
    }
    for (auto& ev : part.events) {
      bool gen = false;
      if (auto err = validate_event(ev, opts_, gen)) {
        err->stream = part.stream;
        return reject(std::move(*err));
      }
      generated.push_back(gen);
      if (!gen && all_events > 1 && !ids.insert(ev.id).second) {
        return reject(
            Error{errc::invalid_event_id, "event id " + ev.id + " appears twice", part.stream, {}});
      }
      // Sealed here, on the caller's thread, so the writer thread does no cryptography; types
      // without personal fields pay one hash lookup.
      if (sealer_ && sealer_->covers(ev.type)) {
        std::string original = ev.data;
        auto sealed = sealer_->seal(part.stream, ev.type, ev.data);
        if (!sealed) {
          sealed.error().stream = part.stream;
          return reject(std::move(sealed).error());
        }
        if (original != ev.data) {
          plain.resize(generated.size());
          plain.back() = std::move(original);
        }
      }
    }
  }
  {
    std::lock_guard lk(queue_mu_);
    if (stopping_)
      return reject(Error{errc::closed, "the event store is closed", {}, {}});
    if (!plain.empty())
      plain.resize(generated.size());
    queue_.push_back(Pending{
        std::move(parts), std::move(done), total, std::move(generated), {}, std::move(plain)});
  }
  queue_cv_.notify_one();
}

Result<AppendResult> RocksEventStore::replicate(std::vector<RecordedEvent> events) {
  if (events.empty())
    return fail(errc::empty_batch, "nothing to replicate");
  std::promise<Result<AppendResult>> promise;
  auto f = promise.get_future();
  {
    std::lock_guard lk(queue_mu_);
    if (stopping_)
      return fail(errc::closed, "the event store is closed");
    Pending p;
    p.events = events.size();
    p.verbatim = std::move(events);
    p.done = [&promise](Result<AppendResult> r) { promise.set_value(std::move(r)); };
    queue_.push_back(std::move(p));
  }
  queue_cv_.notify_one();
  return f.get();
}

// Stages events recorded by another store: same positions, versions, times and hashes, each
// checked against this log (contiguity and the hash chain) before anything is written.
Result<AppendResult> RocksEventStore::stage_verbatim(Pending& p, rocksdb::WriteBatch& wb,
                                                     Staged& staged, std::uint64_t& next_pos,
                                                     Hash& prev, std::int64_t& last_time) {
  AppendResult r;
  std::uint64_t pos = next_pos;
  Hash chain = prev;
  std::int64_t time = last_time;
  std::string canonical;
  std::unordered_map<std::string, std::int64_t> heads;
  // Nothing of this replication stays in the batch unless all of it is good.
  wb.SetSavePoint();
  const std::size_t noted = tail_records_.spans.size();
  auto failed = [&wb, this, noted](Error e) -> Result<AppendResult> {
    (void)wb.RollbackToSavePoint();
    tail_records_.spans.resize(noted);  // (their kinds stay: at worst a reader wakes for nothing)
    return unexpected(std::move(e));
  };
  for (RecordedEvent& rec : p.verbatim) {
    if (rec.position < pos) {
      // Already stored: fine when it is the same event (a redelivery), else a different log.
      auto have = read_position(rec.position);
      if (!have)
        return failed(std::move(have).error());
      if (have->id != rec.id || have->hash != rec.hash)
        return failed(Error{errc::corrupted,
                            "position " + std::to_string(rec.position) +
                                " holds another event here: not the same log",
                            {},
                            {}});
      r.replayed = true;
      continue;
    }
    if (rec.position != pos) {
      return failed(Error{
          errc::wrong_expected_version,
          "expected position " + std::to_string(pos) + ", got " + std::to_string(rec.position),
          {},
          {}});
    }
    if (!valid_stream_name(rec.stream))
      return failed(Error{errc::invalid_stream_name, "invalid stream name", rec.stream, {}});
    std::int64_t cur;
    if (auto it = heads.find(rec.stream); it != heads.end()) {
      cur = it->second;
    } else {
      auto c = current_version(rec.stream, staged);
      if (!c)
        return failed(std::move(c).error());
      cur = *c;
    }
    if (rec.stream_version != cur + 1) {
      return failed(Error{errc::wrong_expected_version,
                          "stream " + rec.stream + " is at version " + std::to_string(cur) +
                              "; the replicated event has version " +
                              std::to_string(rec.stream_version),
                          rec.stream, cur});
    }
    canonical.clear();
    detail::encode_canonical(canonical, rec);
    if (detail::chain_hash(chain, canonical) != rec.hash) {
      return failed(Error{errc::corrupted,
                          "the hash chain breaks at position " + std::to_string(rec.position) +
                              ": the event differs from the one its source recorded",
                          {},
                          {}});
    }
    chain = rec.hash;
    canonical.append(reinterpret_cast<const char*>(rec.hash.data()), rec.hash.size());
    auto pos_key = be64(rec.position);
    wb.Put(events_cf_, pos_key, canonical);
    tail_records_.note(wb, canonical.size(), rec.stream, rec.type);
    wb.Put(streams_cf_, detail::stream_key(rec.stream, rec.stream_version), pos_key);
    wb.Put(ids_cf_, detail::uuid_bytes(rec.id), pos_key);
    heads[rec.stream] = rec.stream_version;
    time = std::max(time, rec.time_ms);
    if (r.event_ids.empty())
      r.first_position = rec.position;
    r.last_position = rec.position;
    r.event_ids.push_back(rec.id);
    ++pos;
  }
  (void)wb.PopSavePoint();
  if (r.event_ids.empty()) {
    r.first_position = r.last_position = pos - 1;
    return r;
  }
  r.replayed = false;
  for (auto& [stream, version] : heads) {
    staged.heads[stream] = version;
    r.streams.push_back({stream, version, version});
  }
  next_pos = pos;
  prev = chain;
  last_time = time;
  return r;
}

Result<std::int64_t> RocksEventStore::current_version(const std::string& stream,
                                                      const Staged& staged) {
  if (auto it = staged.heads.find(stream); it != staged.heads.end())
    return it->second;
  if (auto it = head_cache_.find(stream); it != head_cache_.end())
    return it->second;
  // The writer decides against everything it has written, synced or not.
  auto ver = last_version(stream, std::numeric_limits<std::uint64_t>::max());
  if (!ver)
    return ver;
  if (head_cache_.size() > 1'000'000)
    head_cache_.clear();
  head_cache_.emplace(stream, *ver);
  return ver;
}

Result<std::optional<std::uint64_t>> RocksEventStore::first_position(std::string_view stream) {
  if (const auto cached = first_positions_.find(stream))
    return cached;
  std::string key(stream);
  key.push_back('\0');
  detail::put_be64(key, 0);
  rocksdb::PinnableSlice v;
  auto s = db_->Get(rocksdb::ReadOptions(), streams_cf_, key, &v);
  if (s.IsNotFound())
    return std::optional<std::uint64_t>{};
  if (!s.ok())
    return unexpected(io_error(s));
  if (v.size() != 8)
    return fail(errc::corrupted, "bad stream index entry for " + std::string(stream));
  const std::uint64_t position = get_be64(v.ToStringView());
  if (position <= head())
    first_positions_.remember(stream, position);
  return std::optional<std::uint64_t>(position);
}

// A stream's last version among its events at positions <= `committed` (-1: none): the last
// entry of its index in the streams column family. (Stores written before this index was the
// source also kept a `heads` column family; it is no longer written or read.)
Result<std::int64_t> RocksEventStore::last_version(std::string_view stream,
                                                   std::uint64_t committed) {
  // Most lookups of a stream without events (a record being created) end here: a point lookup,
  // where finding the last entry takes an iterator and a backward step in each memtable.
  auto first = first_position(stream);
  if (!first)
    return unexpected(std::move(first).error());
  if (!*first || **first > committed)
    return std::int64_t{-1};
  std::string prefix(stream);
  prefix.push_back('\0');
  std::string end = prefix;
  end.append(8, '\xff');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  for (it->SeekForPrev(end); it->Valid(); it->Prev()) {
    auto k = it->key().ToStringView();
    if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix)
      break;
    if (get_be64(it->value().ToStringView()) > committed)
      continue;  // written, not yet durable
    return static_cast<std::int64_t>(get_be64(k.substr(prefix.size())));
  }
  if (!it->status().ok())
    return unexpected(io_error(it->status()));
  return std::int64_t{-1};
}

Result<std::optional<RecordedEvent>> RocksEventStore::find_id(const std::string& uuid16,
                                                              const Staged& staged) {
  if (auto it = staged.ids.find(uuid16); it != staged.ids.end()) {
    return std::optional<RecordedEvent>(it->second);
  }
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), ids_cf_, uuid16, &v);
  if (s.IsNotFound())
    return std::optional<RecordedEvent>{};
  if (!s.ok())
    return unexpected(io_error(s));
  if (v.size() != 8)
    return fail(errc::corrupted, "bad id index entry");
  auto ev = read_position(get_be64(v), false);
  if (!ev)
    return unexpected(std::move(ev).error());
  return std::optional<RecordedEvent>(std::move(*ev));
}

// Decides one append against the committed state plus what this batch already staged.
// Writes nothing to `wb` unless the whole append succeeds.
Result<AppendResult> RocksEventStore::stage(Pending& p, rocksdb::WriteBatch& wb, Staged& staged,
                                            std::uint64_t& next_pos, Hash& prev,
                                            std::int64_t& last_time) {
  // Idempotency: are these event ids already committed (or staged)?
  std::size_t found = 0, total = 0, supplied = 0;
  bool all_same = true;
  std::vector<RecordedEvent> existing;
  for (const auto& part : p.parts) {
    for (const auto& ev : part.events) {
      const std::size_t index = total;
      if (p.generated[total++])
        continue;
      ++supplied;
      auto hit = find_id(detail::uuid_bytes(ev.id), staged);
      if (!hit)
        return unexpected(std::move(hit).error());
      if (!*hit)
        continue;
      ++found;
      // A retry is compared in the clear: each sealing draws a fresh nonce.
      if (auto opened = open_fields(**hit); !opened)
        return unexpected(std::move(opened).error());
      bool same;
      if (index < p.plain.size() && !p.plain[index].empty()) {
        NewEvent original = ev;
        original.data = p.plain[index];
        same = detail::same_content(**hit, original, part.stream);
      } else {
        same = detail::same_content(**hit, ev, part.stream);
      }
      if (!same)
        all_same = false;
      existing.push_back(std::move(**hit));
    }
  }
  if (found > 0) {
    if (found != total || supplied != total || !all_same) {
      return fail(errc::idempotency_conflict,
                  "event ids were already committed with different content or in another place",
                  p.parts.front().stream);
    }
    AppendResult r;
    r.replayed = true;
    std::size_t i = 0;
    r.first_position = existing.front().position;
    r.last_position = existing.front().position;
    for (const auto& part : p.parts) {
      AppendResult::Stream s{part.stream, existing[i].stream_version, existing[i].stream_version};
      for (std::size_t k = 0; k < part.events.size(); ++k, ++i) {
        s.first_version = std::min(s.first_version, existing[i].stream_version);
        s.last_version = std::max(s.last_version, existing[i].stream_version);
        r.first_position = std::min(r.first_position, existing[i].position);
        r.last_position = std::max(r.last_position, existing[i].position);
        r.event_ids.push_back(existing[i].id);
      }
      r.streams.push_back(std::move(s));
    }
    return r;
  }

  // Optimistic concurrency: every expectation must hold before anything is staged.
  std::vector<std::int64_t> currents;
  for (const auto& part : p.parts) {
    auto cur = current_version(part.stream, staged);
    if (!cur)
      return unexpected(std::move(cur).error());
    const auto& e = part.expected;
    bool ok = true;
    std::string want;
    switch (e.kind) {
      case ExpectedVersion::Kind::any:
        break;
      case ExpectedVersion::Kind::no_stream:
        ok = *cur == -1;
        want = "no stream";
        break;
      case ExpectedVersion::Kind::stream_exists:
        ok = *cur >= 0;
        want = "an existing stream";
        break;
      case ExpectedVersion::Kind::exact:
        ok = *cur == e.version;
        want = "version " + std::to_string(e.version);
        break;
    }
    if (!ok) {
      return fail(
          errc::wrong_expected_version,
          "stream " + part.stream + " is at version " + std::to_string(*cur) + ", expected " + want,
          part.stream, *cur);
    }
    currents.push_back(*cur);
  }

  AppendResult r;
  r.first_position = next_pos;
  std::int64_t now = std::max(opts_.clock->now_ms(), last_time);
  std::string& record = record_buffer_;  // reused: no allocation per event
  std::string& stream_key = key_buffer_;
  std::size_t index = 0;
  for (std::size_t pi = 0; pi < p.parts.size(); ++pi) {
    auto& part = p.parts[pi];
    std::int64_t version = currents[pi];
    AppendResult::Stream s{part.stream, version + 1, version};
    stream_key.assign(part.stream);
    stream_key.push_back('\0');
    const std::size_t stream_prefix = stream_key.size();
    for (auto& ev : part.events) {
      const bool generated = p.generated[index++];
      std::string id = generated ? id_sequence_.next(now) : std::move(ev.id);
      const std::int64_t stream_version = ++version;
      const std::uint64_t position = next_pos++;
      record.clear();
      detail::encode_canonical(record, position, stream_version, now, id, part.stream, ev.type,
                               ev.data, ev.metadata);
      const Hash hash = detail::chain_hash(prev, record);
      prev = hash;
      record.append(reinterpret_cast<const char*>(hash.data()), hash.size());
      char pos_key[8];
      detail::put_be64(pos_key, position);
      const rocksdb::Slice pos_slice(pos_key, 8);
      wb.Put(events_cf_, pos_slice, record);
      tail_records_.note(wb, record.size(), part.stream, ev.type);
      stream_key.resize(stream_prefix);
      detail::put_be64(stream_key, static_cast<std::uint64_t>(stream_version));
      wb.Put(streams_cf_, stream_key, pos_slice);
      char uuid16[16];
      detail::uuid_bytes(id, uuid16);
      wb.Put(ids_cf_, rocksdb::Slice(uuid16, 16), pos_slice);
      if (!generated) {
        // Kept for the idempotency check of a later append in this same group.
        RecordedEvent rec;
        rec.id = id;
        rec.type = std::move(ev.type);
        rec.stream = part.stream;
        rec.stream_version = stream_version;
        rec.position = position;
        rec.time_ms = now;
        rec.data = std::move(ev.data);
        rec.metadata = std::move(ev.metadata);
        rec.hash = hash;
        staged.ids.emplace(std::string(uuid16, 16), std::move(rec));
      }
      r.event_ids.push_back(std::move(id));
    }
    s.last_version = version;
    staged.heads[part.stream] = version;
    r.streams.push_back(std::move(s));
  }
  last_time = now;
  r.last_position = next_pos - 1;
  return r;
}

// The write pipeline, in two threads so that a batch's WAL sync overlaps the next batch's
// staging and memtable inserts:
//   writer:  takes the queued appends, decides them against what it has written so far
//            (versions, idempotency), writes them as one WriteBatch without sync (WAL + memtable)
//            and hands the batch to the syncer;
//   syncer:  syncs the WAL once for every batch handed over since its last sync, then moves the
//            durable head, tells the commit listeners and answers the appenders, in log order.
// Readers only see positions up to the durable head, so an acknowledged or visible event is
// always on disk. The WAL is one sequential file: a power loss keeps a prefix of it, and the
// batches were written in position order, so what survives is a gap-free prefix of the log.
void RocksEventStore::writer_loop() {
  std::vector<Pending> batch;
  std::vector<Result<AppendResult>> results;
  // Handed to the tail once written; the next one reserves what the last one took.
  rocksdb::WriteBatch wb;
  rocksdb::WriteOptions wo;
  wo.sync = false;  // the syncer syncs the WAL, once per group of batches
  for (;;) {
    batch.clear();
    {
      std::unique_lock lk(queue_mu_);
      queue_cv_.wait(lk, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty() && stopping_)
        break;
      std::size_t events = 0;
      while (!queue_.empty() &&
             (batch.empty() || events + queue_.front().events <= opts_.max_group_commit_events)) {
        events += queue_.front().events;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const auto started = std::chrono::steady_clock::now();
    wb.Clear();
    tail_records_.clear();
    Staged staged;
    std::uint64_t next_pos = written_head_ + 1;
    Hash prev = last_hash_;
    std::int64_t last_time = last_time_;
    results.clear();
    if (writes_stopped()) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        results.push_back(
            fail(errc::io_error,
                 "the event store stopped taking writes after a failed WAL write or sync; "
                 "check the disk, then restart the server"));
      }
    } else {
      try {
        for (auto& p : batch) {
          results.push_back(p.verbatim.empty()
                                ? stage(p, wb, staged, next_pos, prev, last_time)
                                : stage_verbatim(p, wb, staged, next_pos, prev, last_time));
        }
      } catch (const std::exception& e) {
        // A broken invariant (allocation, hashing): fail the whole batch, write nothing.
        results.clear();
        for (std::size_t i = 0; i < batch.size(); ++i) {
          results.push_back(fail(errc::io_error, std::string("append failed: ") + e.what()));
        }
        wb.Clear();
        tail_records_.clear();
        staged = Staged{};
        next_pos = written_head_ + 1;
      }
    }
    std::size_t written = next_pos - 1 - written_head_;
    std::shared_ptr<const detail::TailBlock> records;
    if (wb.Count() > 0) {
      auto s = db_->Write(wo, &wb);
      if (!s.ok()) {
        // Nothing of this batch is acknowledged; in-memory state stays at the last write.
        // Cached heads may include staged versions from earlier stages: drop the cache. A
        // failed WAL write leaves RocksDB in an error state, and the WAL must not be synced
        // after it: the store takes no more writes.
        stop_writes();
        head_cache_.clear();
        for (auto& r : results) {
          if (r && r->last_position > written_head_)
            r = unexpected(io_error(s));
        }
        written = 0;
      } else {
        for (auto& [stream, ver] : staged.heads)
          head_cache_[stream] = ver;
        last_hash_ = prev;
        last_time_ = last_time;
        // (A block that would not hold exactly the events written is not made: the tail then
        // starts again after it, and readers of those positions go to disk.)
        if (written > 0 && opts_.tail_bytes > 0 && tail_records_.spans.size() == written) {
          const std::size_t size = wb.GetDataSize();
          records = std::make_shared<const detail::TailBlock>(written_head_ + 1, std::move(wb),
                                                              std::move(tail_records_));
          wb = rocksdb::WriteBatch(std::min<std::size_t>(size, 8u << 20));
          tail_records_ = detail::TailRecords{};
        }
        written_head_ = next_pos - 1;
      }
    }
    {
      std::lock_guard lk(sync_mu_);
      sync_queue_.push_back(Written{std::move(batch), std::move(results), written_head_, written,
                                    started, std::move(records)});
    }
    sync_cv_.notify_one();
  }
  {
    std::lock_guard lk(sync_mu_);
    writer_done_ = true;
  }
  sync_cv_.notify_one();
}

void RocksEventStore::syncer_loop() {
  std::deque<Written> items;
  for (;;) {
    items.clear();
    {
      std::unique_lock lk(sync_mu_);
      sync_cv_.wait(lk, [&] { return !sync_queue_.empty() || writer_done_; });
      if (sync_queue_.empty() && writer_done_)
        break;
      items.swap(sync_queue_);
    }
    std::size_t written = 0;
    std::uint64_t last = 0;
    for (const auto& w : items) {
      written += w.events;
      if (w.events > 0)
        last = w.last_position;
    }
    // One sync covers every batch written before it. A group with nothing written needs none:
    // the batches before it were synced by an earlier round.
    std::string why = "an earlier WAL sync failed";
    if (written > 0 && !writes_stopped() && opts_.durability == Durability::sync) {
      const auto sync_started = std::chrono::steady_clock::now();
      auto s = db_->SyncWAL();
      stats_.sync_seconds.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - sync_started).count());
      stats_.syncs.fetch_add(1, std::memory_order_relaxed);
      if (!s.ok()) {
        stop_writes();
        why = "the WAL sync failed (" + s.ToString() + ")";
      }
    }
    if (writes_stopped() && written > 0) {
      // Not known to be durable: nothing of it is acknowledged, and the head stays.
      for (auto& w : items) {
        for (auto& r : w.results) {
          if (r && r->last_position > head_.load())
            r = fail(errc::io_error,
                     why +
                         ": this append's durability is unknown (its events may or may not be "
                         "there after a restart); check the disk, then restart the server");
        }
        w.events = 0;
      }
      written = 0;
    }
    if (written > 0) {
      const auto now = std::chrono::steady_clock::now();
      for (const auto& w : items) {
        if (w.events == 0)
          continue;
        stats_.commits.fetch_add(1, std::memory_order_relaxed);
        stats_.batch_events.observe(static_cast<double>(w.events));
        stats_.write_seconds.observe(std::chrono::duration<double>(now - w.started).count());
      }
      stats_.events_written.fetch_add(written, std::memory_order_relaxed);
      // Into the tail before the head moves: the tail covers every position up to the head.
      detail::Kinds kinds;
      for (auto& w : items) {
        if (w.events == 0)
          continue;
        kinds |= w.records ? w.records->kinds() : detail::Kinds::all();
        if (opts_.tail_bytes > 0)
          stats_.tail_bytes.store(tail_.push(std::move(w.records)), std::memory_order_relaxed);
      }
      {
        std::lock_guard lk(head_mu_);
        head_.store(last, std::memory_order_release);
        for (Waiter* waiter : waiters_) {
          if (!waiter->woken && kinds.may_match(waiter->wanted)) {
            waiter->woken = true;
            waiter->cv.notify_one();
          }
        }
      }
      head_cv_.notify_all();
      // Listeners hear of the commit before any appender is answered, so whoever acts on an
      // acknowledgement (a read-your-writes query, a test) finds them already told.
      std::lock_guard lk(listeners_mu_);
      for (auto& [id, fn] : listeners_)
        fn(last);
    }
    for (auto& w : items) {
      for (std::size_t i = 0; i < w.batch.size(); ++i) {
        auto& r = w.results[i];
        if (r) {
          stats_.appends.fetch_add(1, std::memory_order_relaxed);
        } else {
          stats_.append_failures.fetch_add(1, std::memory_order_relaxed);
        }
        w.batch[i].done(std::move(r));
      }
    }
  }
}

Result<RecordedEvent> RocksEventStore::read_position(std::uint64_t pos, bool open) {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), events_cf_, be64(pos), &v);
  if (s.IsNotFound()) {
    return fail(errc::not_found, "no event at position " + std::to_string(pos));
  }
  if (!s.ok())
    return unexpected(io_error(s));
  RecordedEvent e;
  if (!detail::decode_record(v, e) || e.position != pos) {
    return fail(errc::corrupted, "event at position " + std::to_string(pos) + " is corrupted");
  }
  if (open) {
    if (auto opened = open_fields(e); !opened)
      return unexpected(std::move(opened).error());
  }
  return e;
}

Result<std::vector<RecordedEvent>> RocksEventStore::read_stream(std::string_view stream,
                                                                std::int64_t from, Direction dir,
                                                                std::size_t limit) {
  if (!valid_stream_name(stream)) {
    return fail(errc::invalid_stream_name, "invalid stream name", std::string(stream));
  }
  std::uint64_t committed = head();
  std::vector<std::string> keys;
  std::string prefix(stream);
  prefix.push_back('\0');
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
    if (dir == Direction::forward) {
      it->Seek(detail::stream_key(stream, std::max<std::int64_t>(from, 0)));
      for (; it->Valid() && keys.size() < limit; it->Next()) {
        auto k = it->key().ToStringView();
        if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix)
          break;
        auto pos = get_be64(it->value().ToStringView());
        if (pos > committed)
          break;
        keys.push_back(be64(pos));
      }
    } else {
      if (from < 0) {
        std::string end = prefix;
        end.append(8, '\xff');
        it->SeekForPrev(end);
      } else {
        it->SeekForPrev(detail::stream_key(stream, from));
      }
      for (; it->Valid() && keys.size() < limit; it->Prev()) {
        auto k = it->key().ToStringView();
        if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix)
          break;
        auto pos = get_be64(it->value().ToStringView());
        if (pos > committed)
          continue;
        keys.push_back(be64(pos));
      }
    }
    if (!it->status().ok())
      return unexpected(io_error(it->status()));
  }
  std::vector<RecordedEvent> out;
  if (keys.empty())
    return out;
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), events_cf_, keys.size(), slices.data(), values.data(),
                statuses.data());
  out.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!statuses[i].ok())
      return unexpected(io_error(statuses[i]));
    RecordedEvent e;
    if (!detail::decode_record(values[i].ToStringView(), e)) {
      return fail(errc::corrupted, "corrupted event in stream", std::string(stream));
    }
    if (auto opened = open_fields(e); !opened)
      return unexpected(std::move(opened).error());
    out.push_back(std::move(e));
  }
  return out;
}

Result<LogPage> RocksEventStore::read_all(std::uint64_t after, std::size_t limit,
                                          const Filter& filter, std::size_t scan_limit) {
  LogPage page;
  page.scanned_to = after;
  std::uint64_t committed = head();
  if (after >= committed || limit == 0)
    return page;
  // One allocation for the page rather than a doubling series (each large reallocation also
  // makes malloc consolidate the small chunks the decoded events just freed).
  page.events.reserve(std::min<std::uint64_t>({limit, committed - after, 4096}));
  // Takes the next stored record; false when the page is done (full, scan limit, or an error).
  // Filtered readers (each projection, the relay) skip most events: look at the stream and
  // type first and decode (copy) the rest only for events they take.
  std::size_t scanned = 0;
  std::optional<Error> error;
  auto take = [&](std::string_view record) {
    std::uint64_t position = 0;
    std::string_view stream, type;
    if (!detail::peek_record(record, position, stream, type)) {
      error = Error{errc::corrupted,
                    "corrupted event after position " + std::to_string(page.scanned_to),
                    {},
                    {}};
      return false;
    }
    page.scanned_to = position;
    ++scanned;
    if (filter.matches(stream, type)) {
      RecordedEvent e;
      if (!detail::decode_record(record, e)) {
        error = Error{
            errc::corrupted, "corrupted event at position " + std::to_string(position), {}, {}};
        return false;
      }
      if (!filter.stored_form) {
        if (auto opened = open_fields(e); !opened) {
          error = std::move(opened).error();
          return false;
        }
      }
      page.events.push_back(std::move(e));
      if (page.events.size() >= limit)
        return false;
    }
    return scanned < scan_limit;
  };
  bool more = true;
  std::vector<std::shared_ptr<const detail::TailBlock>> blocks;
  if (tail_.blocks_after(after, blocks) && !blocks.empty() && blocks.back()->last() >= committed) {
    // Recent positions: from the tail in memory, no iterator.
    stats_.log_reads_tail.fetch_add(1, std::memory_order_relaxed);
    for (const auto& b : blocks) {
      const std::uint64_t end = std::min(b->last(), committed);
      for (std::uint64_t p = std::max(b->first(), after + 1); more && p <= end; ++p)
        more = take(b->at(p));
      if (!more || end == committed)
        break;
    }
  } else {
    std::string upper = be64(committed + 1);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
    stats_.log_reads_disk.fetch_add(1, std::memory_order_relaxed);
    for (it->Seek(be64(after + 1)); more && it->Valid(); it->Next())
      more = take(it->value().ToStringView());
    if (!it->status().ok())
      return unexpected(io_error(it->status()));
    if (more)
      page.scanned_to = std::max(page.scanned_to, committed);
  }
  if (error)
    return unexpected(std::move(*error));
  return page;
}

Result<LogPage> RocksEventStore::read_all_backward(std::uint64_t before, std::size_t limit,
                                                   const Filter& filter, std::size_t scan_limit) {
  LogPage page;
  std::uint64_t committed = head();
  if (before == 0 || before > committed + 1)
    before = committed + 1;
  page.scanned_to = before;
  if (before <= 1 || limit == 0)
    return page;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_cf_));
  std::size_t scanned = 0;
  for (it->SeekForPrev(be64(before - 1)); it->Valid(); it->Prev()) {
    RecordedEvent e;
    if (!detail::decode_record(it->value().ToStringView(), e)) {
      return fail(errc::corrupted, "corrupted event at position " +
                                       std::to_string(get_be64(it->key().ToStringView())));
    }
    page.scanned_to = e.position;
    ++scanned;
    if (filter.matches(e)) {
      if (!filter.stored_form) {
        if (auto opened = open_fields(e); !opened)
          return unexpected(std::move(opened).error());
      }
      page.events.push_back(std::move(e));
      if (page.events.size() >= limit)
        break;
    }
    if (scanned >= scan_limit)
      break;
  }
  if (!it->status().ok())
    return unexpected(io_error(it->status()));
  return page;
}

Result<RecordedEvent> RocksEventStore::get_event(std::string_view id) {
  if (!valid_uuid(id))
    return fail(errc::invalid_event_id, "event id must be a UUID");
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), ids_cf_, detail::uuid_bytes(id), &v);
  if (s.IsNotFound())
    return fail(errc::not_found, "no event with id " + std::string(id));
  if (!s.ok())
    return unexpected(io_error(s));
  auto pos = get_be64(v);
  if (pos > head())
    return fail(errc::not_found, "no event with id " + std::string(id));
  return read_position(pos);
}

Result<RecordedEvent> RocksEventStore::get_at(std::uint64_t position) {
  if (position == 0 || position > head()) {
    return fail(errc::not_found, "no event at position " + std::to_string(position));
  }
  return read_position(position);
}

Result<std::int64_t> RocksEventStore::stream_version(std::string_view stream) {
  if (!valid_stream_name(stream)) {
    return fail(errc::invalid_stream_name, "invalid stream name", std::string(stream));
  }
  return last_version(stream, head());
}

Result<bool> RocksEventStore::stream_exists(std::string_view stream) {
  if (!valid_stream_name(stream)) {
    return fail(errc::invalid_stream_name, "invalid stream name", std::string(stream));
  }
  auto first = first_position(stream);
  if (!first)
    return unexpected(std::move(first).error());
  return *first && **first <= head();
}

std::unique_ptr<Subscription> RocksEventStore::subscribe(std::uint64_t after, Filter filter) {
  return std::make_unique<SubscriptionImpl>(*this, after, std::move(filter));
}

VerifyReport RocksEventStore::verify(std::uint64_t from, std::uint64_t to,
                                     const std::function<void(std::uint64_t)>& progress) {
  VerifyReport rep;
  std::uint64_t committed = head();
  if (to == 0 || to > committed)
    to = committed;
  if (from == 0)
    from = 1;
  if (from > to)
    return rep;
  Hash prev{};
  if (from > 1) {
    auto before = read_position(from - 1);
    if (!before) {
      rep.ok = false;
      rep.first_broken_position = from - 1;
      rep.problem = before.error().message;
      return rep;
    }
    prev = before->hash;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_cf_));
  std::uint64_t expect = from;
  auto broken = [&](std::uint64_t pos, std::string why) {
    rep.ok = false;
    rep.first_broken_position = pos;
    rep.problem = std::move(why);
    return rep;
  };
  RecordedEvent e;
  for (it->Seek(be64(from)); it->Valid() && expect <= to; it->Next()) {
    auto key = it->key().ToStringView();
    std::size_t canon = 0;
    if (key.size() != 8)
      return broken(expect, "malformed key in the event log");
    auto pos = get_be64(key);
    if (pos != expect)
      return broken(expect, "event missing from the log (gap)");
    if (!detail::decode_record(it->value().ToStringView(), e, &canon) || e.position != pos) {
      return broken(pos, "event record cannot be decoded");
    }
    auto h = detail::chain_hash(prev, it->value().ToStringView().substr(0, canon));
    if (h != e.hash)
      return broken(pos, "hash does not match the event's content and chain");
    prev = h;
    ++rep.checked;
    ++expect;
    if (progress && (rep.checked & 0xffff) == 0)
      progress(pos);
  }
  if (!it->status().ok())
    return broken(expect, "storage error: " + it->status().ToString());
  if (expect <= to)
    return broken(expect, "event missing from the log (truncated)");
  if (progress)
    progress(to);
  return rep;
}

Status<Error> RocksEventStore::save_snapshot(std::string_view stream, std::int64_t version,
                                             std::string_view bytes) {
  std::string v = be64(static_cast<std::uint64_t>(version));
  v.append(bytes);
  auto s = db_->Put(rocksdb::WriteOptions(), snapshots_cf_, stream, v);
  if (!s.ok())
    return unexpected(io_error(s));
  return Ok{};
}

Result<EventStore::Snapshot> RocksEventStore::load_snapshot(std::string_view stream) {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), snapshots_cf_, stream, &v);
  if (s.IsNotFound())
    return Snapshot{};
  if (!s.ok())
    return unexpected(io_error(s));
  if (v.size() < 8)
    return fail(errc::corrupted, "bad snapshot", std::string(stream));
  return Snapshot{static_cast<std::int64_t>(get_be64(v)), v.substr(8)};
}

Status<Error> RocksEventStore::forget_subject(std::string_view stream) {
  if (!keys_)
    return fail(errc::not_found, "this store seals no personal data");
  if (!valid_stream_name(stream))
    return fail(errc::invalid_stream_name, "invalid stream name", std::string(stream));
  // The snapshot holds the folded state in the clear: drop it, then flush every column family
  // (the WAL that held it is deleted once all are flushed) and compact its range.
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Slice key(stream.data(), stream.size());
  auto s = db_->Delete(wo, snapshots_cf_, key);
  if (s.ok()) {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    s = db_->Flush(fo, cfs_);
  }
  if (s.ok()) {
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    s = db_->CompactRange(co, snapshots_cf_, &key, &key);
  }
  if (!s.ok())
    return unexpected(io_error(s));
  return keys_->destroy(stream);
}

Result<std::size_t> RocksEventStore::unsealed_personal_values(std::string_view stream) {
  if (!sealer_)
    return fail(errc::not_found, "this store seals no personal data");
  if (!valid_stream_name(stream))
    return fail(errc::invalid_stream_name, "invalid stream name", std::string(stream));
  std::size_t n = 0;
  std::string prefix(stream);
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    auto k = it->key().ToStringView();
    if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix)
      break;
    auto pos = get_be64(it->value().ToStringView());
    if (pos > head())
      break;
    auto e = read_position(pos, false);
    if (!e)
      return unexpected(std::move(e).error());
    n += sealer_->plaintext_fields(*e);
  }
  if (!it->status().ok())
    return unexpected(io_error(it->status()));
  return n;
}

Result<std::string> RocksEventStore::keyed_digest(std::string_view name, std::string_view bytes) {
  if (!keys_)
    return fail(errc::not_found, "this store seals no personal data");
  auto secret = keys_->secret(name);
  if (!secret)
    return unexpected(std::move(secret).error());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), secret->data(), static_cast<int>(secret->size()),
           reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), mac,
           &len) == nullptr) {
    return fail(errc::io_error, "HMAC-SHA256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 15];
  }
  return hex;
}

void RocksEventStore::close() {
  std::lock_guard lk(close_mu_);
  if (closed_.load() && !db_)
    return;
  {
    std::lock_guard q(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable())
    writer_.join();
  if (syncer_.joinable())
    syncer_.join();
  {
    std::lock_guard h(head_mu_);
    closed_ = true;
    for (Waiter* waiter : waiters_)
      waiter->cv.notify_one();
  }
  head_cv_.notify_all();
  if (db_) {
    for (auto* cf : cfs_)
      db_->DestroyColumnFamilyHandle(cf);
    cfs_.clear();
    db_->Close();
    db_.reset();
  }
  if (wal_files_)
    wal_files_->stop();  // no spare written into a directory the store no longer owns
  if (keys_)
    keys_->close();
}

}  // namespace

Result<std::unique_ptr<EventStore>> EventStore::open(Options options) {
  auto store = std::make_unique<RocksEventStore>(std::move(options));
  auto s = store->open_db();
  if (!s)
    return unexpected(std::move(s).error());
  return std::unique_ptr<EventStore>(std::move(store));
}

}  // namespace eventcrm::store
