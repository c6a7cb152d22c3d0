// Counters and histograms the store keeps for /metrics; lock-free to update and read.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace eventcrm::store {

// A fixed-bucket histogram (Prometheus style: cumulative on export).
template <std::size_t N>
struct Histogram {
  std::array<double, N> bounds{};
  std::array<std::atomic<std::uint64_t>, N + 1> counts{};  // last: +Inf
  std::atomic<std::uint64_t> count{0};
  std::atomic<double> sum{0.0};

  void observe(double v) noexcept {
    std::size_t i = 0;
    while (i < N && v > bounds[i])
      ++i;
    counts[i].fetch_add(1, std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
    double s = sum.load(std::memory_order_relaxed);
    while (!sum.compare_exchange_weak(s, s + v, std::memory_order_relaxed)) {
    }
  }
};

struct StoreStats {
  std::atomic<std::uint64_t> appends{0};          // successful append calls (incl. replays)
  std::atomic<std::uint64_t> append_failures{0};  // rejected appends (conflicts, bad input)
  std::atomic<std::uint64_t> events_written{0};
  std::atomic<std::uint64_t> commits{0};  // group commits: one WriteBatch each
  std::atomic<std::uint64_t> syncs{0};    // WAL syncs: each makes one or more commits durable
  // Pages of the global log (read_all) served from the in-memory tail, and from RocksDB.
  std::atomic<std::uint64_t> log_reads_tail{0};
  std::atomic<std::uint64_t> log_reads_disk{0};
  std::atomic<std::uint64_t> tail_bytes{0};  // bytes of committed batches the tail holds
  // WAL files made from a zero-filled spare (Options::wal_spare_bytes; see wal_files.hpp).
  std::atomic<std::uint64_t> wal_spares_used{0};
  // WALs made from a spare but never written to (the process was killed first), emptied at
  // open so that they keep no disk (ZeroFilledWals::trim_unwritten).
  std::atomic<std::uint64_t> wal_spares_reclaimed{0};
  // Unacknowledged events found in the WAL after a hole at the last open, and not replayed
  // (a power cut wrote back a later record and lost an earlier one; see wal_recovery.hpp).
  std::atomic<std::uint64_t> recovery_dropped_events{0};
  // Set when a WAL write or sync failed: the store takes no appends until it is reopened.
  std::atomic<bool> writes_stopped{false};
  // events per group commit
  Histogram<12> batch_events{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}};
  // seconds from a group's RocksDB write to its durability (incl. WAL fsync in sync mode)
  Histogram<14> write_seconds{{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                               0.05, 0.1, 0.25, 0.5, 1.0}};
  // seconds of each WAL sync (sync durability only)
  Histogram<12> sync_seconds{
      {0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.1, 1.0}};
};

}  // namespace eventcrm::store
