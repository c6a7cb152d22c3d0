// What a read model is to the runtime: a named, versioned fold of the log into key/value rows,
// written through a batch (so its rows and its checkpoint commit together) and read through a
// consistent view. No RocksDB types here: the storage stays inside projections/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "eventstore/event.hpp"

namespace eventcrm::projections {

// The writes of one commit. Reads see the batch's own earlier writes (an event may read what the
// previous event of the same batch wrote). Keys are the projection's own: the runtime prefixes
// them with the storage slot, so a projection never sees another's rows or an old version's.
class Batch {
 public:
  virtual ~Batch() = default;
  virtual void put(std::string_view key, std::string_view value) = 0;
  virtual void del(std::string_view key) = 0;
  virtual std::optional<std::string> get(std::string_view key) = 0;
  // put() of a row written once: its key is neither stored nor written before in the batch, and
  // it is not read or written again through the batch before the projection's next flush()
  // (e.g. a history row keyed by log position, or a new record's rows written by flush()). An
  // offline build appends such rows without indexing them; elsewhere this is put().
  virtual void put_new(std::string_view key, std::string_view value) { put(key, value); }
};

// A consistent, read-only view of one projection's served rows (a storage snapshot taken when the
// view was made). Cheap to make; hold it for one query.
class View {
 public:
  virtual ~View() = default;
  // The log position the rows reflect: every event up to it has been applied.
  virtual std::uint64_t position() const = 0;
  virtual std::uint32_t version() const = 0;
  virtual std::optional<std::string> get(std::string_view key) const = 0;
  // Visits rows with keys in [from, to) in key order (empty `to`: to the end of the projection's
  // rows) until `fn` returns false.
  virtual void scan(
      std::string_view from, std::string_view to,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) const = 0;
  // The same rows in descending key order: from the last key below `to` (empty: the end of the
  // projection's rows) down to `from`.
  virtual void scan_back(
      std::string_view from, std::string_view to,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) const = 0;
};

// A read model. `apply` is the only place its rows change; it must be deterministic (the same
// events give the same rows, live or rebuilt) and must not block. An exception from `apply`
// marks the projection failed at that event; the others keep running.
class Projection {
 public:
  virtual ~Projection() = default;
  // [a-z][a-z0-9_]*: stable; used in storage keys, status and the HTTP API.
  virtual std::string name() const = 0;
  // Bump when `apply` changes what it writes: the runtime builds the new version beside the old
  // one and switches queries over once it has caught up.
  virtual std::uint32_t version() const = 0;
  // Which events `apply` is given (empty: all).
  virtual store::Filter filter() const { return {}; }
  virtual void apply(const store::RecordedEvent& event, Batch& batch) = 0;

  // Offline builds (RuntimeOptions::bulk_load) only. While holding, `apply` may keep the latest
  // state of what it touches in memory instead of encoding and writing it at every event.
  // flush(batch, bytes) writes held state through the batch and forgets it, the least recently
  // touched first, until at least `bytes` of held_bytes() are released (all of it when `bytes`
  // is at least held_bytes()); the runtime flushes before it writes a build's rows out: all at
  // the end, part of it when the builds pass their memory budget. hold(true) and hold(false)
  // forget without writing. held_bytes(): roughly the memory held, counted against the budget.
  virtual void hold(bool on) { (void)on; }
  virtual void flush(Batch& batch, std::int64_t bytes) {
    (void)batch;
    (void)bytes;
  }
  virtual std::int64_t held_bytes() const { return 0; }
};

}  // namespace eventcrm::projections
