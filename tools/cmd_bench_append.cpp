// `eventcrm bench ...`: benchmarks, one sibling subcommand per case. This file holds the
// `bench` parent and `bench append`: N writers appending to their own streams for S seconds,
// reporting throughput, append latency and the store's group-commit figures.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "domain/registry.hpp"
#include "eventstore/store.hpp"
#include "tools/commands.hpp"

namespace eventcrm::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct AppendBenchConfig {
  int writers = 64;
  int batch = 1;
  std::size_t event_size = 400;
  double seconds = 10.0;
  std::string durability = "sync";
  std::string data_dir;  // empty: a fresh temporary directory, removed afterwards
  int streams = 1;       // per writer
  std::string expected = "exact";
  bool json = false;
  // Erasure support: "on" opens the store with the domain's personal-data policy, as `serve`
  // does; with `personal` every event also carries a personal field, sealed on append.
  std::string sealing = "on";
  bool personal = false;
  // threads: one thread per writer, blocked in append(); async: writers are chains of
  // append_async calls completed by the store's own threads (how the HTTP server appends).
  std::string driver = "threads";
  std::uint64_t wal_spare_mb = 64;  // as `serve`
};

// A directory that is removed when the benchmark ends, if we created it.
class BenchDir {
 public:
  explicit BenchDir(const std::string& given) {
    if (!given.empty()) {
      path_ = given;
      return;
    }
    std::string templ = (std::filesystem::temp_directory_path() / "eventcrm-bench-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr)
      return;
    path_ = templ;
    owned_ = true;
  }
  ~BenchDir() {
    if (!owned_)
      return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool owned_ = false;
};

// A JSON object of exactly `size` bytes when size allows it (the fields come first).
constexpr std::string_view kPersonalType = "bench.personal.v1";

std::string event_data(int writer, std::uint64_t seq, std::size_t size, bool personal) {
  std::string data =
      "{\"writer\":" + std::to_string(writer) + ",\"seq\":" + std::to_string(seq) + ",";
  if (personal)
    data += "\"email\":\"writer" + std::to_string(writer) + "@bench.example\",";
  data += "\"pad\":\"";
  const std::size_t tail = 2;  // "}
  if (data.size() + tail < size)
    data.append(size - data.size() - tail, 'x');
  data += "\"}";
  return data;
}

struct WriterResult {
  std::vector<std::uint32_t> latencies_us;
  std::uint64_t events = 0;
  std::uint64_t failures = 0;
  std::string first_error;
};

// One writer: its own streams, one append in flight at a time. `next()` builds its next append,
// `done()` takes that append's result and says whether to go on.
class Writer {
 public:
  Writer(store::EventStore& s, const AppendBenchConfig& cfg, int index, WriterResult& out)
      : s_(s), cfg_(cfg), index_(index), out_(out) {
    for (int k = 0; k < cfg.streams; ++k) {
      streams_.push_back("bench-w" + std::to_string(index) + "s" + std::to_string(k));
      auto v = s.stream_version(streams_.back());
      versions_.push_back(v ? *v : -1);
    }
    out_.latencies_us.reserve(1 << 16);
  }

  std::vector<store::StreamAppend> next() {
    k_ = next_++ % streams_.size();
    std::vector<store::NewEvent> events(static_cast<std::size_t>(cfg_.batch));
    for (auto& e : events) {
      e.type = cfg_.personal ? kPersonalType : "bench.appended.v1";
      e.data = event_data(index_, seq_++, cfg_.event_size, cfg_.personal);
    }
    store::ExpectedVersion expected = store::ExpectedVersion::any();
    if (cfg_.expected == "exact") {
      expected = versions_[k_] < 0 ? store::ExpectedVersion::no_stream()
                                   : store::ExpectedVersion::exact(versions_[k_]);
    }
    std::vector<store::StreamAppend> parts;
    parts.push_back(store::StreamAppend{streams_[k_], expected, std::move(events)});
    started_ = Clock::now();
    return parts;
  }

  bool done(const store::Result<store::AppendResult>& r) {
    const auto took = Clock::now() - started_;
    if (!r) {
      ++out_.failures;
      if (out_.first_error.empty()) {
        out_.first_error = std::string(store::to_string(r.error().code)) + ": " + r.error().message;
      }
      if (r.error().code != store::errc::wrong_expected_version)
        return false;
      auto v = s_.stream_version(streams_[k_]);
      versions_[k_] = v ? *v : -1;
      return true;
    }
    versions_[k_] = r->streams.at(0).last_version;
    out_.events += r->event_ids.size();
    out_.latencies_us.push_back(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
    return true;
  }

 private:
  store::EventStore& s_;
  const AppendBenchConfig& cfg_;
  int index_;
  WriterResult& out_;
  std::vector<std::string> streams_;
  std::vector<std::int64_t> versions_;
  std::uint64_t seq_ = 0;
  std::size_t next_ = 0, k_ = 0;
  Clock::time_point started_;
};

// The "threads" driver: each writer is a thread blocked in append() (as db_bench's are).
void run_writer_thread(store::EventStore& s, const AppendBenchConfig& cfg, int index,
                       const std::atomic<bool>& stop, WriterResult& out) {
  Writer w(s, cfg, index, out);
  while (!stop.load(std::memory_order_relaxed)) {
    if (!w.done(s.append_multi(w.next())))
      return;
  }
}

// The "async" driver: each writer is a chain of append_async calls, the next issued from the
// previous one's completion, as the HTTP server drives the store (no thread per request).
class AsyncWriters {
 public:
  AsyncWriters(store::EventStore& s, const AppendBenchConfig& cfg,
               std::vector<WriterResult>& results, const std::atomic<bool>& stop)
      : s_(s), stop_(stop) {
    for (int w = 0; w < cfg.writers; ++w)
      writers_.push_back(std::make_unique<Writer>(s, cfg, w, results[static_cast<std::size_t>(w)]));
  }
  void start() {
    active_ = writers_.size();
    for (auto& w : writers_)
      issue(*w);
  }
  void wait() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return active_ == 0; });
  }

 private:
  void issue(Writer& w) {
    s_.append_async(w.next(), [this, &w](store::Result<store::AppendResult> r) {
      if (w.done(r) && !stop_.load(std::memory_order_relaxed))
        return issue(w);
      std::lock_guard lk(mu_);
      if (--active_ == 0)
        cv_.notify_all();
    });
  }

  store::EventStore& s_;
  const std::atomic<bool>& stop_;
  std::vector<std::unique_ptr<Writer>> writers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t active_ = 0;
};

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

int run_bench_append(const AppendBenchConfig& cfg) {
  BenchDir dir(cfg.data_dir);
  if (dir.path().empty()) {
    std::fprintf(stderr, "bench append: cannot create a temporary directory\n");
    return 1;
  }
  store::Options options;
  options.path = dir.path();
  options.durability =
      cfg.durability == "relaxed" ? store::Durability::relaxed : store::Durability::sync;
  options.wal_spare_bytes = cfg.wal_spare_mb << 20;
  if (cfg.sealing == "on") {
    options.personal_data = domain::personal_data();
    options.personal_data.push_back({std::string(kPersonalType), {"email"}});
  }
  auto opened = store::EventStore::open(options);
  if (!opened) {
    std::fprintf(stderr, "bench append: cannot open the store in %s: %s\n", dir.path().c_str(),
                 opened.error().message.c_str());
    return 1;
  }
  auto& s = **opened;
  const auto& st = s.stats();
  const auto commits_before = st.commits.load();
  const auto syncs_before = st.syncs.load();
  const auto written_before = st.events_written.load();
  const auto write_count_before = st.write_seconds.count.load();
  const auto write_sum_before = st.write_seconds.sum.load();
  const double sync_sum_before = st.sync_seconds.sum.load();

  std::atomic<bool> stop{false};
  std::vector<WriterResult> results(static_cast<std::size_t>(cfg.writers));
  std::vector<std::thread> threads;
  std::optional<AsyncWriters> async;
  if (cfg.driver == "async")
    async.emplace(s, cfg, results, stop);
  const auto started = Clock::now();
  if (async) {
    async->start();
  } else {
    for (int w = 0; w < cfg.writers; ++w) {
      threads.emplace_back(run_writer_thread, std::ref(s), std::cref(cfg), w, std::cref(stop),
                           std::ref(results[static_cast<std::size_t>(w)]));
    }
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  if (async)
    async->wait();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();

  const auto commits = st.commits.load() - commits_before;
  const auto syncs = st.syncs.load() - syncs_before;
  const auto written = st.events_written.load() - written_before;
  const auto writes = st.write_seconds.count.load() - write_count_before;
  const double write_seconds = st.write_seconds.sum.load() - write_sum_before;
  const double sync_seconds = st.sync_seconds.sum.load() - sync_sum_before;
  s.close();

  std::vector<std::uint32_t> latencies;
  std::uint64_t events = 0, failures = 0;
  std::string first_error;
  for (auto& r : results) {
    latencies.insert(latencies.end(), r.latencies_us.begin(), r.latencies_us.end());
    events += r.events;
    failures += r.failures;
    if (first_error.empty())
      first_error = r.first_error;
  }
  std::sort(latencies.begin(), latencies.end());
  const double events_per_sec = static_cast<double>(events) / elapsed;
  const double appends_per_sec = static_cast<double>(latencies.size()) / elapsed;
  const double p50 = percentile(latencies, 0.50);
  const double p99 = percentile(latencies, 0.99);
  const double per_commit =
      commits ? static_cast<double>(written) / static_cast<double>(commits) : 0;
  const double per_sync = syncs ? static_cast<double>(written) / static_cast<double>(syncs) : 0;
  const double write_ms = writes ? 1000.0 * write_seconds / static_cast<double>(writes) : 0;
  const double sync_us = syncs ? 1e6 * sync_seconds / static_cast<double>(syncs) : 0;

  if (cfg.json) {
    std::printf(
        "{\"events_per_sec\":%.1f,\"appends_per_sec\":%.1f,\"p50_us\":%.0f,\"p99_us\":%.0f,"
        "\"commits\":%llu,\"events_per_commit\":%.2f,\"syncs\":%llu,\"events_per_sync\":%.2f,"
        "\"mean_sync_us\":%.0f,\"mean_write_ms\":%.3f,\"writers\":%d,"
        "\"batch\":%d,\"event_size\":%zu,\"seconds\":%.3f,\"durability\":\"%s\","
        "\"driver\":\"%s\",\"failures\":%llu}\n",
        events_per_sec, appends_per_sec, p50, p99, static_cast<unsigned long long>(commits),
        per_commit, static_cast<unsigned long long>(syncs), per_sync, sync_us, write_ms,
        cfg.writers, cfg.batch, cfg.event_size, elapsed, cfg.durability.c_str(), cfg.driver.c_str(),
        static_cast<unsigned long long>(failures));
  } else {
    std::printf("bench append: %d writers (%s), batch %d, %zu-byte events, %s, %.1f s\n",
                cfg.writers, cfg.driver.c_str(), cfg.batch, cfg.event_size, cfg.durability.c_str(),
                elapsed);
    std::printf("  events/s       %12.0f\n", events_per_sec);
    std::printf("  appends/s      %12.0f\n", appends_per_sec);
    std::printf("  latency p50    %12.0f us\n", p50);
    std::printf("  latency p99    %12.0f us\n", p99);
    std::printf("  group commits  %12llu  (%.2f events per commit, %.3f ms write to durable)\n",
                static_cast<unsigned long long>(commits), per_commit, write_ms);
    std::printf("  WAL syncs      %12llu  (%.2f events per sync, %.0f us each)\n",
                static_cast<unsigned long long>(syncs), per_sync, sync_us);
    if (failures) {
      std::printf("  failed appends %12llu  (first: %s)\n",
                  static_cast<unsigned long long>(failures), first_error.c_str());
    }
  }
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}

void register_bench_append(CLI::App& bench) {
  auto cfg = std::make_shared<AppendBenchConfig>();
  auto* cmd = bench.add_subcommand("append", "Append throughput and latency of the event store");
  cmd->add_option("--writers", cfg->writers, "Concurrent writers, one append in flight each")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--batch", cfg->batch, "Events per append")->check(CLI::Range(1, 10'000));
  cmd->add_option("--event-size", cfg->event_size, "Bytes of each event's JSON data")
      ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 20));
  cmd->add_option("--seconds", cfg->seconds, "How long to append")->check(CLI::Range(0.01, 3600.0));
  cmd->add_option("--durability", cfg->durability, "sync (fsync per commit) or relaxed")
      ->check(CLI::IsMember({"sync", "relaxed"}));
  cmd->add_option("--data-dir", cfg->data_dir,
                  "Store directory (default: a fresh temporary directory, removed afterwards)");
  cmd->add_option("--streams", cfg->streams, "Streams per writer")->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--expected", cfg->expected, "Expected version of each append: exact or any")
      ->check(CLI::IsMember({"exact", "any"}));
  cmd->add_flag("--json", cfg->json, "Print one JSON line");
  cmd->add_option("--driver", cfg->driver,
                  "threads: a thread per writer blocked in append() (default); async: each "
                  "writer a chain of append_async calls, as the HTTP server appends")
      ->check(CLI::IsMember({"threads", "async"}));
  cmd->add_option("--sealing", cfg->sealing,
                  "on: the store seals personal fields as `serve` does (default); off: no policy")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_flag("--personal", cfg->personal,
                "Every event carries a personal field (sealed per stream when --sealing on)");
  cmd->add_option("--wal-spare-mb", cfg->wal_spare_mb,
                  "MB of zeros each WAL file is written with ahead of time, as serve "
                  "--wal-spare-mb (0: none)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{4096}));
  cmd->callback([cfg] { exit_code() = run_bench_append(*cfg); });
}

}  // namespace

// Creates `bench` with its `append` case; the other cases (`bench relay`, `bench http`, ...)
// register themselves on it as siblings, from their own files (see main.cpp).
void register_bench(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  register_bench_append(*bench);
}

}  // namespace eventcrm::tools
