// `eventcrm bench table-write`: how fast RocksDB's table-file writer (SstFileWriter, the path
// offline rebuilds store their rows through) writes rows that arrive already sorted, with
// nothing else to do: no log to read, no event to decode, no sort. An upper bound for any
// rebuild that must store that many rows (tools/bench/rebuild_floor.sh).
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "tools/commands.hpp"

namespace eventcrm::tools {

namespace {

struct TableWriteConfig {
  std::uint64_t rows = 1'000'000;
  std::size_t key_size = 28;
  std::size_t value_size = 112;
  std::string dir;  // empty: the system's temporary directory
  bool json = false;
};

int run_bench_table_write(const TableWriteConfig& cfg) {
  const auto dir =
      cfg.dir.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(cfg.dir);
  const auto file = dir / ("eventcrm-bench-table-" + std::to_string(::getpid()) + ".sst");
  rocksdb::Options options;
  options.compression = rocksdb::kLZ4Compression;  // as the read models
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
  if (auto s = writer.Open(file.string()); !s.ok()) {
    std::fprintf(stderr, "bench table-write: cannot create %s: %s\n", file.c_str(),
                 s.ToString().c_str());
    return 1;
  }
  // Keys: a constant prefix then a big-endian counter (in order, as a sorted spill's). Values:
  // varied letters, so compression has work to do.
  std::string key(cfg.key_size, 'k'), value(cfg.value_size, ' ');
  for (std::size_t i = 0; i < value.size(); ++i)
    value[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
  const auto started = std::chrono::steady_clock::now();
  rocksdb::Status s;
  for (std::uint64_t row = 0; row < cfg.rows && s.ok(); ++row) {
    for (std::size_t b = 0; b < 8 && b < key.size(); ++b)
      key[key.size() - 1 - b] = static_cast<char>((row >> (8 * b)) & 0xff);
    s = writer.Put(key, value);
  }
  if (s.ok())
    s = writer.Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::error_code ec;
  std::filesystem::remove(file, ec);
  if (!s.ok()) {
    std::fprintf(stderr, "bench table-write: %s\n", s.ToString().c_str());
    return 1;
  }
  const double rate = static_cast<double>(cfg.rows) / seconds;
  if (cfg.json) {
    std::printf(
        "{\"rows\":%llu,\"key_size\":%zu,\"value_size\":%zu,\"seconds\":%.3f,"
        "\"rows_per_sec\":%.0f}\n",
        static_cast<unsigned long long>(cfg.rows), cfg.key_size, cfg.value_size, seconds, rate);
  } else {
    std::printf("bench table-write: %llu rows of %zu + %zu bytes in %.2f s: %.0f rows/s\n",
                static_cast<unsigned long long>(cfg.rows), cfg.key_size, cfg.value_size, seconds,
                rate);
  }
  return 0;
}

}  // namespace

void register_bench_table_write(CLI::App& bench) {
  auto cfg = std::make_shared<TableWriteConfig>();
  auto* cmd = bench.add_subcommand(
      "table-write", "Rows/s of RocksDB's table-file writer alone, rows given sorted (one thread)");
  cmd->add_option("--rows", cfg->rows, "Rows to write")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 34));
  cmd->add_option("--key-size", cfg->key_size, "Bytes per key")
      ->check(CLI::Range(std::size_t{8}, std::size_t{4096}));
  cmd->add_option("--value-size", cfg->value_size, "Bytes per value")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20));
  cmd->add_option("--dir", cfg->dir, "Where the table file is written (and removed)");
  cmd->add_flag("--json", cfg->json, "Print one JSON line");
  cmd->callback([cfg] { exit_code() = run_bench_table_write(*cfg); });
}

}  // namespace eventcrm::tools
