// The log of record: an append-only, hash-chained event log on RocksDB with group commit,
// optimistic concurrency, idempotent appends and live subscriptions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/personal_data.hpp"
#include "eventstore/event.hpp"
#include "eventstore/stats.hpp"

namespace rocksdb {
class FileSystem;
}

namespace eventcrm::store {

enum class Durability : std::uint8_t {
  sync,     // default: an append is acknowledged only after the WAL is fsynced
  relaxed,  // WAL written but not fsynced: survives a process crash, not a power loss
};

struct Options {
  std::string path;  // the data directory (created if missing)
  Durability durability = Durability::sync;
  std::size_t max_event_bytes = 1 << 20;  // data + metadata of one event
  std::size_t max_events_per_append = 10'000;
  std::size_t max_group_commit_events = 8'192;  // events coalesced into one WriteBatch at most
  std::size_t block_cache_bytes = 256u << 20;
  // The most recently committed records kept in memory for live readers (see tail.hpp); 0: none.
  // 16 MB is seconds of a busy log; 64 MB cost batched appends ~4% (cold memory).
  std::size_t tail_bytes = 16u << 20;
  // Bytes of zeros each WAL file is written with ahead of time (see wal_files.hpp): a WAL sync
  // then writes data blocks only, about twice as fast here. 0: WALs grow as they are written.
  // Durability::sync only (relaxed never syncs). The server uses 64 MB; a store opened with it
  // writes one spare before it opens, unless one is there.
  std::uint64_t wal_spare_bytes = 0;
  std::shared_ptr<Clock> clock;  // defaults to the system clock
  // Personal fields sealed with their subject's key (see sealing.hpp); empty: none, and no key
  // store is opened. Reads open them again unless a Filter asks for the stored form.
  PersonalDataPolicy personal_data;
  std::string keys_path;  // the key store's directory; default <path>/keys
  // For fault-injection tests only: the file system RocksDB writes through.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

class Subscription;

class EventStore {
 public:
  using AppendCallback = std::function<void(Result<AppendResult>)>;

  static Result<std::unique_ptr<EventStore>> open(Options options);
  virtual ~EventStore() = default;

  // Appends events to one stream, atomically; returns once durable (per Options::durability).
  virtual Result<AppendResult> append(std::string_view stream, ExpectedVersion expected,
                                      std::vector<NewEvent> events) = 0;
  // Appends to several streams, each with its own expectation: all or nothing.
  virtual Result<AppendResult> append_multi(std::vector<StreamAppend> parts) = 0;
  // As append_multi, but returns at once; `done` runs on the store's writer thread once the
  // append is durable (or failed). It must not block.
  virtual void append_async(std::vector<StreamAppend> parts, AppendCallback done) = 0;

  // Read replicas: appends events recorded by another store, verbatim — their ids, positions,
  // stream versions, times and hashes. They must continue this log exactly (the first at
  // head() + 1, gap-free, each at its stream's next version) and their hashes must continue
  // this log's chain; else nothing is written (wrong_expected_version / corrupted). Events at
  // or below head() are skipped when they are the ones already stored (a redelivery).
  virtual Result<AppendResult> replicate(std::vector<RecordedEvent> events) = 0;

  // Reads a stream from `from_version` (inclusive) in `direction`; from_version < 0 with
  // backward reads from the end.
  virtual Result<std::vector<RecordedEvent>> read_stream(std::string_view stream,
                                                         std::int64_t from_version,
                                                         Direction direction,
                                                         std::size_t limit) = 0;
  // Reads the global log after `after_position` (exclusive), up to `limit` matching events,
  // scanning at most `scan_limit` events.
  virtual Result<LogPage> read_all(std::uint64_t after_position, std::size_t limit,
                                   const Filter& filter = {}, std::size_t scan_limit = 100'000) = 0;
  // Reads the log backwards from `before_position` (exclusive; 0 = from the head).
  virtual Result<LogPage> read_all_backward(std::uint64_t before_position, std::size_t limit,
                                            const Filter& filter = {},
                                            std::size_t scan_limit = 100'000) = 0;
  virtual Result<RecordedEvent> get_event(std::string_view id) = 0;
  virtual Result<RecordedEvent> get_at(std::uint64_t position) = 0;
  // The stream's current version, -1 if it does not exist.
  virtual Result<std::int64_t> stream_version(std::string_view stream) = 0;
  // Whether the stream has a committed event: one point lookup (cheaper than stream_version,
  // which finds the stream's last entry).
  virtual Result<bool> stream_exists(std::string_view stream) = 0;

  // The position of the last committed event (0 for an empty log).
  virtual std::uint64_t head() const = 0;
  // Blocks until head() > position, the timeout passes or the store closes; returns head().
  virtual std::uint64_t wait_for(std::uint64_t position, std::chrono::milliseconds timeout) = 0;
  // Makes every live subscription waiting in next() return (empty, with its position moved to
  // the head when nothing it reads came since). A subscription sleeps through commits of
  // events it does not read, so its position lags until then: a reader waiting for it to pass
  // a position (read-your-writes) calls this.
  virtual void wake_subscriptions() = 0;
  // False when no event `filter` reads can lie in positions (after, upto], as far as the
  // in-memory tail tells (true when it cannot tell): a reader stopped at `after` is then as good
  // as at `upto` (a read model's lag).
  virtual bool may_have_events(const Filter& filter, std::uint64_t after, std::uint64_t upto) = 0;
  // Runs `fn(head)` on the writer thread after every commit. It must not block.
  virtual std::uint64_t add_commit_listener(std::function<void(std::uint64_t)> fn) = 0;
  virtual void remove_commit_listener(std::uint64_t id) = 0;

  // A pull subscription to the global log from `after_position`: catches up from disk, then
  // follows live with no gap and no duplicate. Never blocks writers.
  virtual std::unique_ptr<Subscription> subscribe(std::uint64_t after_position,
                                                  Filter filter = {}) = 0;

  // Recomputes the hash chain over [from, to] (to = 0: the head).
  virtual VerifyReport verify(std::uint64_t from = 1, std::uint64_t to = 0,
                              const std::function<void(std::uint64_t)>& progress = {}) = 0;

  // Snapshots of folded stream state, keyed by stream (see fold.hpp).
  virtual Status<Error> save_snapshot(std::string_view stream, std::int64_t version,
                                      std::string_view bytes) = 0;
  struct Snapshot {
    std::int64_t version = -1;
    std::string bytes;
  };
  virtual Result<Snapshot> load_snapshot(std::string_view stream) = 0;

  // Erasure of one data subject (a stream): destroys its data key, so its sealed personal
  // fields read as kErasedMarker everywhere from now on, and drops the stream's snapshot; both
  // are flushed and compacted out of the files. The log's bytes and chain are untouched.
  // Idempotent. errc::not_found when the store seals nothing.
  virtual Status<Error> forget_subject(std::string_view stream) = 0;
  // How many personal values of the stream are stored unsealed (appended before sealing was on,
  // or by a store without a policy): forgetting cannot erase those.
  virtual Result<std::size_t> unsealed_personal_values(std::string_view stream) = 0;
  // HMAC-SHA256 (hex) of `bytes` under the server-wide secret `name` kept in the key store:
  // names derived from personal values that must not be guessable from the log alone.
  // errc::not_found when the store seals nothing.
  virtual Result<std::string> keyed_digest(std::string_view name, std::string_view bytes) = 0;

  virtual const StoreStats& stats() const = 0;
  virtual const Options& options() const = 0;

  // Stops the writer after draining queued appends, and closes the database. Idempotent.
  virtual void close() = 0;
};

class Subscription {
 public:
  virtual ~Subscription() = default;
  // Up to `max` next events; waits up to `wait` when caught up. Empty on timeout, close or
  // EventStore::wake_subscriptions().
  virtual Result<std::vector<RecordedEvent>> next(std::size_t max,
                                                  std::chrono::milliseconds wait) = 0;
  // The position the subscription has read up to (scanned, including filtered-out events).
  virtual std::uint64_t position() const = 0;
};

}  // namespace eventcrm::store
