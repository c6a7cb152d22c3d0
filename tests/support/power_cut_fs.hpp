// A RocksDB file system that can "lose power" at any moment, dropping every byte not yet
// fsynced, for power-loss tests of the event store and the read models.
//
// What the power-cut file system models:
// - Per file written through it: the bytes appended and the size at the last successful
//   Sync/Fsync. At the cut, every file is truncated to its synced size. RangeSync
//   (sync_file_range) does not count as durable.
// - A file created during the session survives the cut only if it was synced itself (ext4's
//   fsync also commits the new directory entry) or its directory was fsynced after it was
//   created; otherwise it is deleted.
// - Files that existed before the session (earlier "boots") are durable as they are.
// - From the cut on, nothing more becomes durable: writes to open files still succeed but land
//   nowhere (as a write into a page cache that the cut wipes), every sync, create, rename and
//   delete fails with an IOError, so appends in flight fail; reads still work until close.
//   (RocksDB treats a failed sync as fatal for the database, as a real store must.)
// - A file reused for writing (ReuseWritableFile: the store's zero-filled WAL spares, see
//   eventstore/wal_files.hpp) is overwritten from its start; at the cut, the bytes written over
//   it since its last sync go back to what was there before, zeros (the only files reused).
// - Writeback out of order, for WAL files: at half the cuts, a WAL's unsynced bytes are not all
//   dropped; each 4 KB page of them reached the disk or not at random (the page cache writes
//   dirty pages back in no particular order, and a sync cut short wrote some of its pages), so
//   later records can survive an earlier one that was lost, and records can be torn. Pages
//   that did not reach the disk read as zeros (a hole, or the spare's zeros), and a WAL that
//   grew ends at its last page that did. Other files lose all their unsynced bytes.
// What it does not model: renames and deletes are durable at once (a real crash may undo an
// unsynced rename or resurrect a deleted file); torn or reordered writes within the synced
// range; data written through NewRandomRWFile or memory maps (the store does not use them);
// hard links. A crash while the store is being opened or created is not tried either.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <rocksdb/file_system.h>

namespace eventcrm::testing {

namespace power_cut_detail {
namespace fs = std::filesystem;
inline std::string normal(const std::string& p) {
  auto s = fs::path(p).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/')
    s.pop_back();
  return s;
}

inline std::string parent_of(const std::string& p) {
  return normal(fs::path(normal(p)).parent_path());
}

}  // namespace power_cut_detail

class PowerCutFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit PowerCutFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base)
      : FileSystemWrapper(base) {}

  const char* Name() const override { return "PowerCutFileSystem"; }

  // The power fails: from now on nothing more becomes durable.
  void cut() {
    std::lock_guard lock(mutex_);
    cut_ = true;
  }

  // After the store is closed: the disk as it would be found after the reboot. With `rng`,
  // some WALs keep a random part of their unsynced pages (see the top of this file).
  void drop_unsynced(std::mt19937_64* rng = nullptr) {
    std::lock_guard lock(mutex_);
    for (const auto& [name, file] : files_) {
      std::error_code ec;
      const auto dir = dir_synced_.find(power_cut_detail::parent_of(name));
      const bool entry_durable =
          file->ever_synced || (dir != dir_synced_.end() && dir->second > file->created);
      if (!entry_durable) {
        std::filesystem::remove(name, ec);
        ++dropped_files_;
        continue;
      }
      const auto size = std::filesystem::file_size(name, ec);
      const bool wal = std::filesystem::path(name).extension() == ".log";
      if (!ec && wal && rng != nullptr && (*rng)() % 2 == 0) {
        const auto end = std::min<std::uint64_t>(file->written, size);
        if (end > file->synced)
          writeback_some(name, *file, end, size, *rng);
        continue;
      }
      if (!ec && file->reused) {
        // Overwritten in place: what was written since the last sync reverts to zeros.
        const auto end = std::min<std::uint64_t>(file->written, size);
        if (end > file->synced) {
          zero(name, file->synced, end - file->synced);
          dropped_bytes_ += end - file->synced;
          dropped_overwritten_ += end - file->synced;
        }
        continue;
      }
      if (!ec && size > file->synced) {
        std::filesystem::resize_file(name, file->synced, ec);
        dropped_bytes_ += size - file->synced;
      }
    }
    files_.clear();
  }

  std::uint64_t dropped_bytes() const { return dropped_bytes_; }
  // Unsynced WAL bytes that reached the disk out of order (kept although unsynced).
  std::uint64_t kept_unsynced() const { return kept_unsynced_; }
  std::uint64_t dropped_overwritten() const { return dropped_overwritten_; }
  std::uint64_t dropped_files() const { return dropped_files_; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    if (is_cut())
      return power_is_off();
    auto s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok())
      wrap(f, r, /*existing_size=*/std::nullopt);
    return s;
  }

  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    if (is_cut())
      return power_is_off();
    std::error_code ec;
    const auto size = std::filesystem::file_size(f, ec);
    auto s = target()->ReopenWritableFile(f, o, r, dbg);
    if (s.ok())
      wrap(f, r, ec ? 0 : size);
    return s;
  }

  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    if (is_cut())
      return power_is_off();
    auto s = target()->ReuseWritableFile(f, old, o, r, dbg);
    if (s.ok()) {
      move_tracking(old, f);
      auto state = std::make_shared<FileState>();
      state->reused = true;
      state->ever_synced = true;  // the old file's entry was durable, and renames are
      {
        std::lock_guard lock(mutex_);
        state->created = ++events_;
        files_[power_cut_detail::normal(f)] = state;
      }
      *r = std::make_unique<WritableFile>(std::move(*r), this, std::move(state));
    }
    return s;
  }

  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    if (is_cut())
      return power_is_off();
    return target()->NewRandomRWFile(f, o, r, dbg);
  }

  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewDirectory(name, o, r, dbg);
    if (s.ok())
      *r = std::make_unique<Directory>(std::move(*r), this, power_cut_detail::normal(name));
    return s;
  }

  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (is_cut())
      return power_is_off();
    auto s = target()->RenameFile(src, dst, o, dbg);
    if (s.ok())
      move_tracking(src, dst);
    return s;
  }

  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override {
    if (is_cut())
      return power_is_off();
    auto s = target()->DeleteFile(f, o, dbg);
    if (s.ok()) {
      std::lock_guard lock(mutex_);
      files_.erase(power_cut_detail::normal(f));
    }
    return s;
  }

  rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
    if (is_cut())
      return power_is_off();
    auto s = target()->Truncate(f, size, o, dbg);
    if (s.ok()) {
      std::lock_guard lock(mutex_);
      if (auto it = files_.find(power_cut_detail::normal(f)); it != files_.end()) {
        it->second->written = size;
        it->second->synced = std::min<std::uint64_t>(it->second->synced, size);
      }
    }
    return s;
  }

  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& dst,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (is_cut())
      return power_is_off();
    return target()->LinkFile(src, dst, o, dbg);
  }

  rocksdb::IOStatus CreateDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    if (is_cut())
      return power_is_off();
    return target()->CreateDir(d, o, dbg);
  }

  rocksdb::IOStatus CreateDirIfMissing(const std::string& d, const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
    if (is_cut())
      return power_is_off();
    return target()->CreateDirIfMissing(d, o, dbg);
  }

 private:
  struct FileState {
    std::uint64_t written = 0;
    std::uint64_t synced = 0;
    bool ever_synced = false;
    std::uint64_t created = 0;  // the event counter when created
    bool reused = false;        // overwritten from its start (ReuseWritableFile)
  };

  static void zero(const std::string& name, std::uint64_t offset, std::uint64_t n) {
    std::FILE* f = std::fopen(name.c_str(), "r+b");
    if (f == nullptr)
      throw std::runtime_error("cannot reopen " + name + " to drop its unsynced bytes");
    const std::string zeros(64 * 1024, '\0');
    bool ok = std::fseek(f, static_cast<long>(offset), SEEK_SET) == 0;
    while (ok && n > 0) {
      const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(n, zeros.size()));
      ok = std::fwrite(zeros.data(), 1, k, f) == k;
      n -= k;
    }
    if (std::fclose(f) != 0 || !ok)
      throw std::runtime_error("cannot drop the unsynced bytes of " + name);
  }

  // Each 4 KB page of the unsynced bytes [file.synced, end) reached the disk or not, at random.
  // Those that did not read as zeros; a file that grew ends with its last page that did.
  void writeback_some(const std::string& name, const FileState& file, std::uint64_t end,
                      std::uint64_t size, std::mt19937_64& rng) {
    constexpr std::uint64_t kPage = 4096;
    std::uint64_t durable_end = file.synced;  // of a file that grew
    for (std::uint64_t page = file.synced / kPage * kPage; page < end; page += kPage) {
      const auto from = std::max(page, file.synced), to = std::min(page + kPage, end);
      if (rng() % 2 == 0) {
        kept_unsynced_ += to - from;
        durable_end = to;
      } else {
        zero(name, from, to - from);
        dropped_bytes_ += to - from;
        if (file.reused)
          dropped_overwritten_ += to - from;
      }
    }
    if (!file.reused && size > durable_end) {
      std::error_code ec;
      std::filesystem::resize_file(name, durable_end, ec);
    }
  }

  static rocksdb::IOStatus power_is_off() { return rocksdb::IOStatus::IOError("power cut"); }

  bool is_cut() {
    std::lock_guard lock(mutex_);
    return cut_;
  }

  // Tracks a writable file; `existing_size` set: the file existed and its bytes are durable.
  void wrap(const std::string& name, std::unique_ptr<rocksdb::FSWritableFile>* r,
            std::optional<std::uint64_t> existing_size) {
    auto state = std::make_shared<FileState>();
    {
      std::lock_guard lock(mutex_);
      auto& slot = files_[power_cut_detail::normal(name)];
      if (existing_size && slot) {
        state = slot;  // reopened while tracked: keep what we know
      } else {
        state->created = ++events_;
        if (existing_size) {
          state->written = state->synced = *existing_size;
          state->ever_synced = true;
        }
        slot = state;
      }
    }
    *r = std::make_unique<WritableFile>(std::move(*r), this, std::move(state));
  }

  void move_tracking(const std::string& src, const std::string& dst) {
    std::lock_guard lock(mutex_);
    auto it = files_.find(power_cut_detail::normal(src));
    if (it == files_.end()) {
      files_.erase(power_cut_detail::normal(dst));  // an untracked (durable) file now has that name
      return;
    }
    auto state = it->second;
    files_.erase(it);
    files_[power_cut_detail::normal(dst)] = std::move(state);
  }

  class WritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    WritableFile(std::unique_ptr<rocksdb::FSWritableFile> t, PowerCutFileSystem* fs,
                 std::shared_ptr<FileState> state)
        : FSWritableFileOwnerWrapper(std::move(t)), fs_(fs), state_(std::move(state)) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->is_cut())
        return rocksdb::IOStatus::OK();  // into the wiped cache
      auto s = target()->Append(data, o, dbg);
      if (s.ok())
        grow_to(std::nullopt, data.size());
      return s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->is_cut())
        return rocksdb::IOStatus::OK();  // into the wiped cache
      auto s = target()->Append(data, o, v, dbg);
      if (s.ok())
        grow_to(std::nullopt, data.size());
      return s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
      if (fs_->is_cut())
        return rocksdb::IOStatus::OK();  // into the wiped cache
      auto s = target()->PositionedAppend(data, offset, o, dbg);
      if (s.ok())
        grow_to(offset, data.size());
      return s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& o,
                                       const rocksdb::DataVerificationInfo& v,
                                       rocksdb::IODebugContext* dbg) override {
      if (fs_->is_cut())
        return rocksdb::IOStatus::OK();  // into the wiped cache
      auto s = target()->PositionedAppend(data, offset, o, v, dbg);
      if (s.ok())
        grow_to(offset, data.size());
      return s;
    }
    rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override {
      if (fs_->is_cut())
        return power_is_off();
      auto s = target()->Truncate(size, o, dbg);
      if (s.ok()) {
        std::lock_guard lock(fs_->mutex_);
        state_->written = size;
        state_->synced = std::min(state_->synced, size);
      }
      return s;
    }
    rocksdb::IOStatus Flush(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (fs_->is_cut())
        return rocksdb::IOStatus::OK();  // into the wiped cache
      return target()->Flush(o, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      return sync([&] { return target()->Sync(o, dbg); });
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      return sync([&] { return target()->Fsync(o, dbg); });
    }
    rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t n, const rocksdb::IOOptions& o,
                                rocksdb::IODebugContext* dbg) override {
      if (fs_->is_cut())
        return power_is_off();
      return target()->RangeSync(offset, n, o, dbg);  // not a durability point
    }
    rocksdb::IOStatus Close(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      auto s = target()->Close(o, dbg);  // always release the descriptor
      if (fs_->is_cut())
        return power_is_off();
      return s;
    }

   private:
    void grow_to(std::optional<uint64_t> offset, std::size_t n) {
      std::lock_guard lock(fs_->mutex_);
      state_->written = offset ? std::max(state_->written, *offset + n) : state_->written + n;
    }

    template <class F>
    rocksdb::IOStatus sync(F&& do_sync) {
      std::uint64_t size = 0;
      {
        std::lock_guard lock(fs_->mutex_);
        if (fs_->cut_)
          return power_is_off();
        size = state_->written;  // what was handed over before this sync began
      }
      auto s = do_sync();
      if (!s.ok())
        return s;
      std::lock_guard lock(fs_->mutex_);
      if (fs_->cut_)
        return power_is_off();  // the power failed before the sync completed
      state_->synced = std::max(state_->synced, size);
      state_->ever_synced = true;
      return s;
    }

    PowerCutFileSystem* fs_;
    std::shared_ptr<FileState> state_;
  };

  class Directory final : public rocksdb::FSDirectoryWrapper {
   public:
    Directory(std::unique_ptr<rocksdb::FSDirectory> t, PowerCutFileSystem* fs, std::string name)
        : FSDirectoryWrapper(std::move(t)), fs_(fs), name_(std::move(name)) {}

    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      return sync([&] { return FSDirectoryWrapper::Fsync(o, dbg); });
    }
    rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg,
                                          const rocksdb::DirFsyncOptions& d) override {
      return sync([&] { return FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d); });
    }

   private:
    template <class F>
    rocksdb::IOStatus sync(F&& do_sync) {
      std::uint64_t at = 0;
      {
        std::lock_guard lock(fs_->mutex_);
        if (fs_->cut_)
          return power_is_off();
        at = ++fs_->events_;  // entries created before this point become durable
      }
      auto s = do_sync();
      if (!s.ok())
        return s;
      std::lock_guard lock(fs_->mutex_);
      if (fs_->cut_)
        return power_is_off();
      auto& last = fs_->dir_synced_[name_];
      last = std::max(last, at);
      return s;
    }

    PowerCutFileSystem* fs_;
    std::string name_;
  };

  std::mutex mutex_;
  bool cut_ = false;
  std::uint64_t events_ = 0;
  std::map<std::string, std::shared_ptr<FileState>> files_;
  std::map<std::string, std::uint64_t> dir_synced_;  // directory -> event counter at last fsync
  std::uint64_t dropped_bytes_ = 0;
  std::uint64_t dropped_overwritten_ = 0;  // of dropped_bytes_: in reused files
  std::uint64_t kept_unsynced_ = 0;
  std::uint64_t dropped_files_ = 0;
};

}  // namespace eventcrm::testing
