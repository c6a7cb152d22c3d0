// The projection runtime: runs each read model as a worker that catches up from its checkpoint
// and then follows the log live, commits rows and checkpoint together (exactly-once effect),
// isolates failures, rebuilds into fresh storage and switches versions without serving a
// half-built model. Read models live in their own RocksDB database, apart from the log.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "eventstore/store.hpp"
#include "projections/projection.hpp"

namespace eventcrm::projections {

struct RuntimeOptions {
  std::string path;                   // the read-model database directory (see readmodels_path)
  std::size_t catch_up_batch = 1000;  // events per commit at most
  // While catching up: log chunks (1024 positions, decoded once for all workers) per commit at
  // most, so a projection that takes few of the events still commits in large steps.
  std::size_t catch_up_chunks = 8;
  std::chrono::milliseconds poll{100};  // how long a live worker waits for new events per poll
  std::size_t block_cache_bytes = 64u << 20;
  // Persist the checkpoint of a worker that only sees filtered-out events after this many
  // positions, so a restart does not rescan them.
  std::uint64_t idle_checkpoint_every = 50'000;
  // Offline rebuilds (`eventcrm rebuild`): a copy being built keeps its rows in memory and
  // writes them as sorted table files ingested into the database (at the end, or whenever the
  // builds together hold more than bulk_memory_bytes); copies dropped are deleted file by file;
  // no compaction runs. Not for a serving runtime: a build's rows reach the database only when
  // it is spilled or done, so its progress is not persisted before then.
  bool bulk_load = false;
  std::size_t bulk_memory_bytes = std::size_t{2} << 30;
  // For fault-injection tests only: the file system RocksDB writes through, and the size of a
  // memtable (0: RocksDB's default), small to make its WAL switch files often.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  std::size_t memtable_bytes = 0;
};

// `<data_dir>/readmodels`: the default place of the read models beside the log.
std::string readmodels_path(std::string_view data_dir);

enum class State : std::uint8_t {
  starting,    // not yet running
  running,     // catching up
  caught_up,   // following the log live
  rebuilding,  // building a new version (or a fresh copy) beside the served one
  failed,      // stopped at an event `apply` threw on
  stopped,
};
const char* to_string(State s) noexcept;

struct ProjectionStatus {
  std::string name;
  std::uint32_t version = 0;          // the version of the code
  std::uint32_t serving_version = 0;  // the version queries read (0: none yet)
  std::uint64_t checkpoint = 0;       // log position the served rows reflect
  std::uint64_t build_position = 0;   // while rebuilding: how far the new copy is
  std::uint64_t head = 0;             // log head when the status was taken
  std::uint64_t lag_events = 0;       // head - position of the copy being written
  double lag_seconds = 0;             // age of the oldest event not yet applied
  State state = State::starting;
  std::optional<std::uint64_t> failed_position;
  std::string error;
  std::uint64_t events_applied = 0;  // since the runtime started
  bool writing_out = false;          // an offline build past the last event, writing its rows out
};

enum class errc { unknown_projection = 1, not_ready, io_error, invalid_name, failed };
struct Error {
  errc code{};
  std::string message;
};
template <class T>
using Result = eventcrm::Result<T, Error>;

class Runtime {
 public:
  // Opens (creating if needed) the read-model database. Workers start with start().
  static Result<std::unique_ptr<Runtime>> open(store::EventStore& store, RuntimeOptions options);
  virtual ~Runtime() = default;

  // Before start(): names must be unique.
  virtual Status<Error> add(std::unique_ptr<Projection> projection) = 0;
  // Starts one worker thread per projection.
  virtual void start() = 0;
  // Stops the workers (committing their checkpoints); idempotent. The destructor calls it.
  virtual void stop() = 0;

  virtual std::vector<ProjectionStatus> status() const = 0;
  virtual Result<ProjectionStatus> status(std::string_view name) const = 0;

  // Read-your-writes: true once every named projection (empty: all) serves rows reflecting
  // `position`; false on timeout, or at once for a failed projection.
  virtual bool wait_until_applied(const std::vector<std::string>& names, std::uint64_t position,
                                  std::chrono::milliseconds timeout) const = 0;

  // A consistent view of the rows queries should read (never a half-built version).
  virtual Result<std::unique_ptr<View>> view(std::string_view name) const = 0;

  // Rebuilds a projection from position 0 into fresh storage beside the served copy; queries
  // switch over when it has caught up, and the old copy is dropped. Works while running, and
  // before start() (then start() or run_until_caught_up() performs it).
  virtual Status<Error> rebuild(std::string_view name) = 0;

  // Offline use (`eventcrm rebuild`): runs every worker until it has caught up with the head
  // as it was at the call (finishing pending rebuilds and switches), then stops them.
  // `progress` is called now and then from the calling thread.
  virtual Status<Error> run_until_caught_up(
      const std::function<void(const std::vector<ProjectionStatus>&)>& progress = {}) = 0;

  // Erasure: rewrites the read-model database's files so that rows replaced or deleted before the
  // call (a forgotten subject's) leave no old bytes behind: the memtables are flushed (the WAL
  // files that held them are deleted) and every table file is compacted to the last level.
  // Costs a full compaction of the read models.
  virtual Status<Error> compact() = 0;
  // Every served row of a projection, in key order (for tests and determinism checks).
  virtual Result<std::vector<std::pair<std::string, std::string>>> dump(
      std::string_view name) const = 0;
  // Read-model commits not replayed at open because a commit before them was lost from the WAL
  // (a power cut; see checkpoint_replay.hpp): their projections applied those events again.
  // 0 normally.
  virtual std::uint64_t recovery_dropped_commits() const = 0;
};

}  // namespace eventcrm::projections
