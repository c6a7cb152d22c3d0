// `eventcrm bench stock`: goods issues through the HTTP API of a running `eventcrm serve`, beside
// the activity-logging command in the same run. Each round runs three timed phases with N
// keep-alive connections (one request in flight each):
//   activities — POST /v1/activities against existing accounts (the sales benchmark's command);
//   spread     — POST /v1/stock/issues of one unit of a random product out of many (little
//                contention: mostly one writer per stock stream at a time);
//   hot        — the same on a few products (every connection contends for the same streams).
// It reports accepted movements/s, the conflict-retry rate (decide+append rounds beyond the
// first, per accepted document, from the answers' "attempts") and the medians over the rounds,
// with the ratio spread / activities. The products, warehouse, stock and accounts are created
// first through the API. Loopback only.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/bench_client.hpp"
#include "tools/commands.hpp"

namespace eventcrm::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct StockBenchConfig {
  int port = 0;
  int connections = 64;
  int hot_products = 4;
  int spread_products = 2'000;
  int accounts = 1'000;
  double seconds = 8.0;
  int rounds = 3;
  std::string api_key;
  bool json = false;
};

struct PhaseResult {
  double per_sec = 0;
  std::uint64_t ok = 0;
  std::uint64_t refused = 0;  // 409 insufficient stock (should stay 0: stock is ample)
  std::uint64_t errors = 0;
  double retry_rate = 0;  // extra decide+append rounds per accepted request
  double p50 = 0, p99 = 0;
};

std::string authorization(const StockBenchConfig& cfg) {
  return cfg.api_key.empty() ? std::string() : "Bearer " + cfg.api_key;
}

// Runs `make(rng, i)` → {path, body} on every connection for `seconds`.
PhaseResult run_phase(
    const StockBenchConfig& cfg, double seconds,
    const std::function<std::pair<std::string, std::string>(std::mt19937&, std::uint64_t)>& make) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> ok{0}, refused{0}, errors{0}, extra_attempts{0};
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
      std::mt19937 rng(static_cast<unsigned>(c) * 7919u + 1u);
      std::string answer;
      auto& lat = latencies[static_cast<std::size_t>(c)];
      for (std::uint64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        auto [path, body] = make(rng, n);
        auto t0 = Clock::now();
        int status = conn.post(path, body, answer);
        if (status == 0) {
          ++errors;
          return;
        }
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (status == 201) {
          ++ok;
          if (auto at = answer.find("\"attempts\":"); at != std::string::npos)
            extra_attempts +=
                static_cast<std::uint64_t>(std::max(0, std::atoi(answer.c_str() + at + 11) - 1));
        } else if (status == 409 && answer.find("\"available\"") != std::string::npos) {
          ++refused;
        } else if (errors++ == 0) {
          std::fprintf(stderr, "first failure: HTTP %d %s\n", status, answer.c_str());
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies)
    all.insert(all.end(), l.begin(), l.end());
  PhaseResult r;
  r.ok = ok.load();
  r.refused = refused.load();
  r.errors = errors.load();
  r.per_sec = static_cast<double>(r.ok) / elapsed;
  r.retry_rate =
      r.ok == 0 ? 0.0 : static_cast<double>(extra_attempts.load()) / static_cast<double>(r.ok);
  r.p50 = percentile(all, 0.50);
  r.p99 = percentile(all, 0.99);
  return r;
}

// Creates `count` records by POSTing `body(i)` to `path` on all connections; their ids.
bool create_all(const StockBenchConfig& cfg, const std::string& path, int count,
                const std::function<std::string(int)>& body, std::vector<std::string>& ids) {
  ids.assign(static_cast<std::size_t>(count), {});
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < std::min(cfg.connections, count); ++c) {
    threads.emplace_back([&] {
      BenchConnection conn(cfg.port, authorization(cfg));
      std::string answer;
      for (int i = next++; i < count && !failed; i = next++) {
        int status = conn.ok() ? conn.post(path, body(i), answer) : 0;
        if (status != 201) {
          std::fprintf(stderr, "POST %s: HTTP %d %s\n", path.c_str(), status, answer.c_str());
          failed = true;
          return;
        }
        ids[static_cast<std::size_t>(i)] = json_member(answer, "id");
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return !failed;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

int run(const StockBenchConfig& cfg) {
  // A run tag keeps SKUs and codes unique when the same server is benchmarked twice.
  const std::string tag = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  std::vector<std::string> warehouse, hot, spread, accounts;
  auto t0 = Clock::now();
  if (!create_all(
          cfg, "/v1/warehouses", 1,
          [&](int) { return R"({"code":"B)" + tag + R"(","name":"Bench warehouse"})"; },
          warehouse) ||
      !create_all(
          cfg, "/v1/products", cfg.hot_products,
          [&](int i) {
            return R"({"sku":"H)" + tag + "-" + std::to_string(i) +
                   R"(","name":"Hot product","unit":"pcs","decimals":0})";
          },
          hot) ||
      !create_all(
          cfg, "/v1/products", cfg.spread_products,
          [&](int i) {
            return R"({"sku":"S)" + tag + "-" + std::to_string(i) +
                   R"(","name":"Spread product","unit":"pcs","decimals":0})";
          },
          spread) ||
      !create_all(
          cfg, "/v1/accounts", cfg.accounts,
          [](int i) {
            return R"({"name":"Bench account )" + std::to_string(i) + R"(","industry":"retail"})";
          },
          accounts)) {
    std::fprintf(stderr,
                 "bench stock: setup failed; is `eventcrm serve` listening on 127.0.0.1:%d (and "
                 "is --api-key an administrator's)?\n",
                 cfg.port);
    return 1;
  }
  // Plenty of stock everywhere: the phases measure issuing, not running out.
  std::vector<std::string> all = hot;
  all.insert(all.end(), spread.begin(), spread.end());
  std::vector<std::string> receipts;
  const int documents = static_cast<int>((all.size() + 199) / 200);
  if (!create_all(
          cfg, "/v1/stock/receipts", documents,
          [&](int d) {
            std::string body = R"({"warehouse_id":")" + warehouse[0] + R"(","lines":[)";
            for (std::size_t i = static_cast<std::size_t>(d) * 200;
                 i < all.size() && i < static_cast<std::size_t>(d + 1) * 200; ++i) {
              body += i % 200 == 0 ? "" : ",";
              body += R"({"product_id":")" + all[i] +
                      R"(","quantity":"100000000","unit_cost":"12.50"})";
            }
            return body + "]}";
          },
          receipts)) {
    std::fprintf(stderr, "bench stock: receiving the stock failed\n");
    return 1;
  }
  std::fprintf(stderr, "set up %zu products, %zu accounts in %.1f s\n", all.size(), accounts.size(),
               std::chrono::duration<double>(Clock::now() - t0).count());

  static constexpr const char* kKinds[] = {"call", "meeting", "email", "sms", "visit", "note"};
  auto activity = [&](std::mt19937& rng, std::uint64_t n) {
    std::uniform_int_distribution<std::size_t> pick(0, accounts.size() - 1);
    std::string body = "{\"kind\":\"";
    body += kKinds[n % 6];
    body += "\",\"account_id\":\"" + accounts[pick(rng)] +
            "\",\"subject\":\"Follow-up on the renewal\",\"notes\":\"Customer asked for a revised "
            "quote with the volume discount.\",\"outcome\":\"positive\",\"duration_minutes\":12}";
    return std::make_pair(std::string("/v1/activities"), body);
  };
  auto issue_from = [&](const std::vector<std::string>& products) {
    return [&products, &warehouse](std::mt19937& rng, std::uint64_t) {
      std::uniform_int_distribution<std::size_t> pick(0, products.size() - 1);
      return std::make_pair(std::string("/v1/stock/issues"), R"({"warehouse_id":")" + warehouse[0] +
                                                                 R"(","lines":[{"product_id":")" +
                                                                 products[pick(rng)] +
                                                                 R"(","quantity":"1"}]})");
    };
  };

  std::vector<double> act, spr, hotr, spr_retry, hot_retry;
  std::uint64_t errors = 0;
  for (int round = 1; round <= cfg.rounds; ++round) {
    PhaseResult a = run_phase(cfg, cfg.seconds, activity);
    PhaseResult s = run_phase(cfg, cfg.seconds, issue_from(spread));
    PhaseResult h = run_phase(cfg, cfg.seconds, issue_from(hot));
    errors += a.errors + s.errors + h.errors + s.refused + h.refused;
    act.push_back(a.per_sec);
    spr.push_back(s.per_sec);
    hotr.push_back(h.per_sec);
    spr_retry.push_back(s.retry_rate);
    hot_retry.push_back(h.retry_rate);
    std::fprintf(stderr,
                 "round %d: activities %.0f/s (p50 %.1f ms, p99 %.1f ms); spread issues %.0f/s "
                 "(retries %.3f/doc, p50 %.1f ms, p99 %.1f ms); hot issues %.0f/s (retries "
                 "%.3f/doc, p50 %.1f ms, p99 %.1f ms)\n",
                 round, a.per_sec, a.p50, a.p99, s.per_sec, s.retry_rate, s.p50, s.p99, h.per_sec,
                 h.retry_rate, h.p50, h.p99);
  }
  const double a = median(act), s = median(spr), h = median(hotr);
  if (cfg.json) {
    std::printf(
        "{\"activities_per_sec\":%.0f,\"spread_movements_per_sec\":%.0f,\"hot_movements_per_sec\":"
        "%.0f,\"spread_retry_rate\":%.4f,\"hot_retry_rate\":%.4f,\"spread_ratio\":%.3f,"
        "\"hot_ratio\":%.3f,\"rounds\":%d,\"connections\":%d,\"hot_products\":%d,"
        "\"spread_products\":%d,\"errors\":%llu}\n",
        a, s, h, median(spr_retry), median(hot_retry), a > 0 ? s / a : 0.0, a > 0 ? h / a : 0.0,
        cfg.rounds, cfg.connections, cfg.hot_products, cfg.spread_products,
        static_cast<unsigned long long>(errors));
  } else {
    std::printf(
        "medians of %d rounds, %d connections:\n"
        "  activities logged          %8.0f /s\n"
        "  issues, %5d spread products %7.0f movements/s  retries %.3f/doc  ratio %.2f (target "
        ">= 0.8)\n"
        "  issues, %5d hot products    %7.0f movements/s  retries %.3f/doc  ratio %.2f\n",
        cfg.rounds, cfg.connections, a, cfg.spread_products, s, median(spr_retry),
        a > 0 ? s / a : 0.0, cfg.hot_products, h, median(hot_retry), a > 0 ? h / a : 0.0);
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace

void register_bench_stock(CLI::App& bench) {
  auto cfg = std::make_shared<StockBenchConfig>();
  CLI::App* cmd = bench.add_subcommand(
      "stock",
      "Stock issues on hot and on spread products, beside activity logging, through the HTTP "
      "API of a running `eventcrm serve` on 127.0.0.1");
  cmd->add_option("--port", cfg->port, "The server's port on 127.0.0.1")->required();
  cmd->add_option("--connections", cfg->connections, "Keep-alive connections")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--hot-products", cfg->hot_products, "Products every connection contends for")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--spread-products", cfg->spread_products, "Products issues spread over")
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--accounts", cfg->accounts, "Accounts the activities are logged against")
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--seconds", cfg->seconds, "Length of each phase")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--rounds", cfg->rounds, "Rounds (medians are reported)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--api-key", cfg->api_key,
                  "An administrator's API key (Bearer; default $EVENTCRM_API_KEY, else "
                  "$EVENTCRM_BOOTSTRAP_ADMIN_KEY; none: a --no-auth server)")
      ->envname("EVENTCRM_API_KEY");
  cmd->add_flag("--json", cfg->json, "One JSON line on stdout");
  cmd->callback([cfg] {
    default_api_key(cfg->api_key);
    exit_code() = run(*cfg);
  });
}

}  // namespace eventcrm::tools
