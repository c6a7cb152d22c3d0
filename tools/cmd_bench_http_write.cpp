// `eventcrm bench http-write`: the care-log write path through the real HTTP API. N keep-alive
// connections (one request in flight each) log activities against existing accounts on a
// running `eventcrm serve` for S seconds; prints throughput and latency. The accounts are
// created first through the API (or read back from --ids-file, so rounds can share them).
// Loopback only: the benchmark refuses any other address.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/bench_client.hpp"
#include "tools/commands.hpp"
#include "tools/progress.hpp"

namespace eventcrm::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct HttpWriteConfig {
  int port = 0;
  int connections = 64;
  int accounts = 10'000;
  double seconds = 10.0;
  std::string ids_file;
  bool json = false;
  // Sent as `Authorization: Bearer <key>` (--api-key, else EVENTCRM_API_KEY, else
  // EVENTCRM_BOOTSTRAP_ADMIN_KEY); empty: no credentials (a server run with --no-auth).
  std::string api_key;
};

// `Authorization` for the benchmark's requests (empty: none, for a server run with --no-auth).
std::string authorization(const HttpWriteConfig& cfg) {
  return cfg.api_key.empty() ? std::string() : "Bearer " + cfg.api_key;
}

// Creates the accounts through the API, all connections at once.
bool create_accounts(const HttpWriteConfig& cfg, std::vector<std::string>& ids) {
  ids.assign(static_cast<std::size_t>(cfg.accounts), {});
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  Progress progress("creating accounts", cfg.json);
  std::atomic<std::uint64_t> done{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < cfg.connections; ++c) {
    threads.emplace_back([&] {
      BenchConnection conn(cfg.port, authorization(cfg));
      if (!conn.ok()) {
        failed = true;
        return;
      }
      std::string body;
      for (int i = next++; i < cfg.accounts && !failed; i = next++) {
        int status = conn.post(
            "/v1/accounts",
            "{\"name\":\"Bench account " + std::to_string(i) + "\",\"industry\":\"retail\"}", body);
        if (status != 201) {
          std::fprintf(stderr, "creating account %d: HTTP %d %s\n", i, status, body.c_str());
          failed = true;
          return;
        }
        ids[static_cast<std::size_t>(i)] = json_member(body, "id");
        ++done;
      }
    });
  }
  while (done.load() < static_cast<std::uint64_t>(cfg.accounts) && !failed) {
    progress.update(done.load(), static_cast<std::uint64_t>(cfg.accounts));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& t : threads)
    t.join();
  progress.update(done.load(), static_cast<std::uint64_t>(cfg.accounts));
  progress.finish();
  return !failed;
}

int run(const HttpWriteConfig& cfg) {
  std::vector<std::string> ids;
  if (!cfg.ids_file.empty()) {
    std::ifstream in(cfg.ids_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty())
        ids.push_back(line);
    }
  }
  if (ids.empty()) {
    auto t0 = Clock::now();
    if (!create_accounts(cfg, ids)) {
      std::fprintf(stderr,
                   "http-write: could not create the accounts; is `eventcrm serve` listening on "
                   "127.0.0.1:%d?\n",
                   cfg.port);
      return 1;
    }
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::fprintf(stderr, "created %zu accounts in %.1f s\n", ids.size(), s);
    if (!cfg.ids_file.empty()) {
      std::ofstream out(cfg.ids_file);
      for (const auto& id : ids)
        out << id << "\n";
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> ok{0}, errors{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(cfg.connections));
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int c = 0; c < cfg.connections; ++c) {
    threads.emplace_back([&, c] {
      BenchConnection conn(cfg.port, authorization(cfg));
      if (!conn.ok()) {
        ++errors;
        return;
      }
      std::mt19937 rng(static_cast<unsigned>(c) * 7919u + 1);
      std::uniform_int_distribution<std::size_t> pick(0, ids.size() - 1);
      static constexpr const char* kKinds[] = {"call", "meeting", "email", "sms", "visit", "note"};
      std::string body, answer;
      auto& lat = latencies[static_cast<std::size_t>(c)];
      for (std::uint64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        body = "{\"kind\":\"";
        body += kKinds[n % 6];
        body += "\",\"account_id\":\"" + ids[pick(rng)] +
                "\",\"subject\":\"Follow-up on the renewal\",\"notes\":\"Customer asked for a "
                "revised quote with the volume discount.\",\"outcome\":\"positive\","
                "\"duration_minutes\":12}";
        auto t0 = Clock::now();
        int status = conn.post("/v1/activities", body, answer);
        if (status == 0) {
          ++errors;
          return;
        }
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (status == 201) {
          ++ok;
        } else if (errors++ == 0) {
          std::fprintf(stderr, "first failure: HTTP %d %s\n", status, answer.c_str());
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies)
    all.insert(all.end(), l.begin(), l.end());
  double rps = static_cast<double>(ok.load()) / elapsed;
  double p50 = percentile(all, 0.50), p99 = percentile(all, 0.99);
  if (cfg.json) {
    std::printf(
        "{\"requests_per_sec\":%.0f,\"ok\":%llu,\"errors\":%llu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
        "\"connections\":%d,\"accounts\":%zu,\"seconds\":%.2f}\n",
        rps, static_cast<unsigned long long>(ok.load()),
        static_cast<unsigned long long>(errors.load()), p50, p99, cfg.connections, ids.size(),
        elapsed);
  } else {
    std::printf(
        "%.0f activities/s logged (%llu ok, %llu errors), p50 %.2f ms, p99 %.2f ms, "
        "%d connections, %zu accounts, %.1f s\n",
        rps, static_cast<unsigned long long>(ok.load()),
        static_cast<unsigned long long>(errors.load()), p50, p99, cfg.connections, ids.size(),
        elapsed);
  }
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace

void register_bench_http_write(CLI::App& bench) {
  auto cfg = std::make_shared<HttpWriteConfig>();
  CLI::App* cmd = bench.add_subcommand(
      "http-write",
      "Log activities through the HTTP API of a running `eventcrm serve` on 127.0.0.1");
  cmd->add_option("--port", cfg->port, "The server's port on 127.0.0.1")->required();
  cmd->add_option("--connections", cfg->connections, "Keep-alive connections")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--accounts", cfg->accounts, "Accounts to create and log against")
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--seconds", cfg->seconds, "How long to log activities")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--ids-file", cfg->ids_file,
                  "Read the account ids from this file; when empty or missing, create the "
                  "accounts and write their ids here");
  cmd->add_flag("--json", cfg->json, "One JSON line on stdout");
  cmd->add_option("--api-key", cfg->api_key,
                  "API key to send (default: $EVENTCRM_API_KEY, else "
                  "$EVENTCRM_BOOTSTRAP_ADMIN_KEY; none: --no-auth server)");
  cmd->callback([cfg] {
    default_api_key(cfg->api_key);
    exit_code() = run(*cfg);
  });
}

}  // namespace eventcrm::tools
