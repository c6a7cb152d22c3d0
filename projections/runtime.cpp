// The projection runtime on its own RocksDB database. Key layout (one keyspace, by prefix):
//   'N'                       -> be64 next storage slot id
//   'M' name                  -> served slot + version, slot + version being built
//   'C' be64(slot)            -> be64 checkpoint: the log position the slot's rows reflect
//   'D' be64(slot) key        -> a projection's row
// A slot is one copy of one projection at one version; rebuilding writes a fresh slot, so the
// served copy is never half-built, and dropping the old one is one DeleteRange.
#include "projections/runtime.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "projections/bytes.hpp"

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

std::string meta_key(std::string_view name) {
  return "M" + std::string(name);
}
std::string checkpoint_key(std::uint64_t slot) {
  return "C" + be64(slot);
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

// The database, shared with views so a view outliving the runtime stays valid.
struct Db {
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

// One commit's writes: a plain WriteBatch plus an overlay of this batch's rows (so an event reads
// what earlier events of the batch wrote), with per-event save points.
class BatchImpl final : public Batch {
 public:
  BatchImpl(rocksdb::DB& db, const std::string& prefix, RowCache& cache)
      : db_(db), prefix_(prefix), cache_(cache) {}
  void put(std::string_view key, std::string_view value) override {
    const std::string& k = full(key);
    auto s = wb_.Put(k, rocksdb::Slice(value.data(), value.size()));
    if (!s.ok())
      throw std::runtime_error("read-model batch put: " + s.ToString());
    overlay(k, std::string(value));
  }
  void del(std::string_view key) override {
    const std::string& k = full(key);
    auto s = wb_.Delete(k);
    if (!s.ok())
      throw std::runtime_error("read-model batch delete: " + s.ToString());
    overlay(k, std::nullopt);
  }
  std::optional<std::string> get(std::string_view key) override {
    const std::string& k = full(key);
    if (auto it = pending_.find(k); it != pending_.end())
      return it->second;
    if (auto it = cache_.rows.find(k); it != cache_.rows.end())
      return it->second;
    std::string value;
    auto s = db_.Get(rocksdb::ReadOptions(), k, &value);
    std::optional<std::string> out;
    if (s.ok()) {
      out = std::move(value);
    } else if (!s.IsNotFound()) {
      throw std::runtime_error("read-model read: " + s.ToString());
    }
    cache_.remember(k, out);
    return out;
  }

  void save_point() {
    wb_.SetSavePoint();
    undo_.clear();
  }
  // Undoes the writes since the last save point.
  void rollback() {
    (void)wb_.RollbackToSavePoint();
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      if (it->second)
        pending_[it->first] = std::move(*it->second);
      else
        pending_.erase(it->first);
    }
    undo_.clear();
  }
  rocksdb::WriteBatch& write_batch() { return wb_; }
  // After the batch is durable: its rows are the committed state.
  void committed() {
    for (auto& [k, v] : pending_)
      cache_.remember(k, std::move(v));
    pending_.clear();
  }

 private:
  const std::string& full(std::string_view key) {
    key_.assign(prefix_);
    key_.append(key);
    return key_;
  }
  void overlay(const std::string& k, std::optional<std::string> value) {
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
  rocksdb::WriteBatch wb_;
  std::unordered_map<std::string, std::optional<std::string>> pending_;
  // (key, its overlay entry before the current event: nullopt = absent)
  std::vector<std::pair<std::string, std::optional<std::optional<std::string>>>> undo_;
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
    std::string value;
    auto s = db_->db->Get(ro, prefix_ + std::string(key), &value);
    if (s.IsNotFound())
      return std::nullopt;
    if (!s.ok())
      throw std::runtime_error("read-model read: " + s.ToString());
    return value;
  }
  void scan(std::string_view from, std::string_view to,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    const std::string lower = prefix_ + std::string(from);
    const std::string upper = to.empty() ? end_ : prefix_ + std::string(to);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(ro));
    for (it->Seek(lower); it->Valid(); it->Next()) {
      auto k = it->key().ToStringView();
      if (!fn(k.substr(prefix_.size()), it->value().ToStringView()))
        return;
    }
    if (!it->status().ok())
      throw std::runtime_error("read-model scan: " + it->status().ToString());
  }

 private:
  std::shared_ptr<Db> db_;
  const rocksdb::Snapshot* snapshot_;
  std::string prefix_, end_;
  std::uint64_t position_;
  std::uint32_t version_;
};

struct Worker {
  std::unique_ptr<Projection> projection;
  std::string name;
  std::uint32_t version = 0;
  store::Filter filter;
  std::thread thread;

  mutable std::mutex mu;  // guards everything below
  mutable std::condition_variable cv;
  Meta meta;
  std::uint64_t served_position = 0;  // rows of meta.active_slot reflect the log up to here
  std::uint64_t build_position = 0;   // rows of meta.build_slot reflect the log up to here
  State state = State::starting;
  std::optional<std::uint64_t> failed_position;
  std::string error;
  bool rebuild_requested = false;
  bool running = false;  // the thread is in its loop
  std::uint64_t events_applied = 0;
};

class RuntimeImpl final : public Runtime {
 public:
  RuntimeImpl(store::EventStore& store, RuntimeOptions options, std::shared_ptr<Db> db,
              std::uint64_t next_slot)
      : store_(store), opts_(std::move(options)), db_(std::move(db)), next_slot_(next_slot) {}
  ~RuntimeImpl() override { stop(); }

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
        return (w->meta.active_slot != 0 && w->served_position >= position) ||
               w->state == State::failed || w->state == State::stopped;
      });
      if (!ok || w->meta.active_slot == 0 || w->served_position < position)
        return false;
    }
    return true;
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
    if (value.size() != 8)
      return unexpected(Error{errc::io_error, "malformed checkpoint"});
    return get_be64(value);
  }

  std::uint64_t allocate_slot(rocksdb::WriteBatch& wb) {
    std::lock_guard lk(slot_mu_);
    const std::uint64_t slot = next_slot_++;
    wb.Put(kNextSlotKey, be64(next_slot_));
    return slot;
  }

  static void drop_slot(rocksdb::WriteBatch& wb, std::uint64_t slot) {
    if (slot == 0)
      return;
    wb.DeleteRange(data_prefix(slot), data_prefix(slot + 1));
    wb.Delete(checkpoint_key(slot));
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
    rocksdb::WriteBatch wb;
    drop_slot(wb, m.build_slot);
    m.build_slot = allocate_slot(wb);
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
    w.rebuild_requested = false;
    w.state = State::rebuilding;
    return true;
  }

  // The copy being written has caught up: a build becomes the served copy (and the old one is
  // dropped); a served copy is now live.
  bool caught_up(Worker& w) {
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
    auto s = db_->db->Write(rocksdb::WriteOptions(), &wb);
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
    return true;
  }

  void run(Worker& w, std::uint64_t stop_at) {
    for (;;) {
      if (stopping_)
        return;
      if (!prepare(w))
        return;
      std::uint64_t slot = 0, pos = 0;
      bool building = false;
      {
        std::lock_guard wl(w.mu);
        building = w.meta.build_slot != 0;
        slot = building ? w.meta.build_slot : w.meta.active_slot;
        pos = building ? w.build_position : w.served_position;
      }
      const Outcome o = follow(w, slot, building, pos, stop_at);
      if (o != Outcome::restart)
        return;
    }
  }

  enum class Outcome { done, restart };

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
    rocksdb::WriteOptions wo;  // WAL without fsync: survives a process crash; rows are rebuildable
    auto persist = [&](std::uint64_t p) {
      if (p == persisted)
        return true;
      auto s = db_->db->Put(wo, ckey, be64(p));
      if (!s.ok()) {
        fail(w, p, "cannot save the checkpoint: " + s.ToString());
        return false;
      }
      persisted = p;
      return true;
    };
    bool live = false;
    RowCache cache;
    auto sub = store_.subscribe(pos, w.filter);
    for (;;) {
      if (stopping_) {
        persist(pos);
        return Outcome::done;
      }
      if (rebuild_pending(w)) {
        persist(pos);
        return Outcome::restart;
      }
      const std::uint64_t target = stop_at ? stop_at : store_.head();
      if (pos >= target && (stop_at || !live)) {
        if (!persist(pos))
          return Outcome::done;
        if (!caught_up(w))
          return Outcome::done;
        if (building)
          return Outcome::restart;  // now writing the served slot
        live = true;
        if (stop_at)
          return Outcome::done;
      }
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
      BatchImpl batch(*db_->db, prefix, cache);
      std::size_t applied = 0;
      std::optional<std::uint64_t> poison;
      std::string error;
      for (const auto& e : *events) {
        batch.save_point();
        try {
          w.projection->apply(e, batch);
          ++applied;
          continue;
        } catch (const std::exception& ex) {
          error = ex.what();
        } catch (...) {
          error = "unknown exception";
        }
        // The poison event's partial writes are undone; those before it commit.
        batch.rollback();
        poison = e.position;
        break;
      }
      const std::uint64_t next_pos = poison ? *poison - 1 : sub->position();
      auto s = batch.write_batch().Put(ckey, be64(next_pos));
      if (s.ok())
        s = db_->db->Write(wo, &batch.write_batch());
      if (!s.ok()) {
        fail(w, pos, "cannot commit the read model: " + s.ToString());
        return Outcome::done;
      }
      batch.committed();
      pos = persisted = next_pos;
      set_position(w, building, pos, applied);
      if (poison) {
        fail(w, *poison, std::move(error));
        return Outcome::done;
      }
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
      writing = w.meta.build_slot ? w.build_position : w.served_position;
    }
    st.head = store_.head();
    st.lag_events = st.head > writing ? st.head - writing : 0;
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
  std::mutex slot_mu_;
  std::uint64_t next_slot_;
  mutable std::mutex workers_mu_;
  std::map<std::string, std::unique_ptr<Worker>, std::less<>> workers_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
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
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(o, options.path, &raw);
  if (!s.ok()) {
    return unexpected(Error{errc::io_error, "cannot open the read models: " + s.ToString()});
  }
  auto db = std::make_shared<Db>();
  db->db.reset(raw);
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
