// `eventcrm bench http-write`: the care-log write path through the real HTTP API. N keep-alive
// connections (one request in flight each) log activities against existing accounts on a
// running `eventcrm serve` for S seconds; prints throughput and latency. The accounts are
// created first through the API (or read back from --ids-file, so rounds can share them).
// The connections are driven by a few threads with epoll (--threads, default 2), as wrk drives
// the nginx anchor's and pgbench -j 2 the PostgreSQL anchor's: the client's own CPU stays small
// beside the server's on the same cores. Loopback only: it connects to 127.0.0.1 alone.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
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
  int threads = 2;
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

struct Totals {
  std::atomic<std::uint64_t> ok{0}, errors{0};
};

// One keep-alive connection with one request in flight.
struct Conn {
  int fd = -1;
  std::string out;  // the request being sent
  std::size_t sent = 0;
  std::string in;  // bytes of the answer received so far
  Clock::time_point t0;
  std::uint64_t n = 0;  // requests sent on it
  std::mt19937 rng;
};

// Drives `count` connections from one thread until `stop`: each sends its next activity as soon
// as its answer is in.
void drive(const HttpWriteConfig& cfg, const std::vector<std::string>& ids, int thread, int count,
           const std::atomic<bool>& stop, Totals& totals, std::vector<double>& lat) {
  static constexpr const char* kKinds[] = {"call", "meeting", "email", "sms", "visit", "note"};
  const std::string auth = authorization(cfg);
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    totals.errors += static_cast<std::uint64_t>(count);
    return;
  }
  std::vector<Conn> conns(static_cast<std::size_t>(count));
  std::uniform_int_distribution<std::size_t> pick(0, ids.size() - 1);
  std::string body, answer;
  auto next_request = [&](Conn& c) {
    body = "{\"kind\":\"";
    body += kKinds[c.n++ % 6];
    body += "\",\"account_id\":\"" + ids[pick(c.rng)] +
            "\",\"subject\":\"Follow-up on the renewal\",\"notes\":\"Customer asked for a "
            "revised quote with the volume discount.\",\"outcome\":\"positive\","
            "\"duration_minutes\":12}";
    c.out = format_request("POST", "/v1/activities", auth, body);
    c.sent = 0;
    c.t0 = Clock::now();
  };
  auto fail = [&](Conn& c) {
    ++totals.errors;
    ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
  };
  // Sends what is left of the request; false on a transport failure.
  auto send_some = [&](Conn& c) {
    while (c.sent < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n <= 0)
        return false;
      c.sent += static_cast<std::size_t>(n);
    }
    epoll_event ev{};
    ev.events = EPOLLIN | (c.sent < c.out.size() ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    return ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev) == 0;
  };
  for (int i = 0; i < count; ++i) {
    Conn& c = conns[static_cast<std::size_t>(i)];
    c.rng.seed(static_cast<unsigned>(thread + i * cfg.threads) * 7919u + 1);
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(cfg.port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    if (c.fd < 0 || ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        ::connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK) != 0) {
      ++totals.errors;
      if (c.fd >= 0)
        ::close(c.fd);
      c.fd = -1;
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    next_request(c);
    if (!send_some(c))
      fail(c);
  }
  std::vector<epoll_event> events(static_cast<std::size_t>(std::max(count, 1)));
  char chunk[16384];
  while (!stop.load(std::memory_order_relaxed)) {
    int ready = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    for (int e = 0; e < ready; ++e) {
      Conn& c = *static_cast<Conn*>(events[static_cast<std::size_t>(e)].data.ptr);
      if (c.fd < 0)
        continue;
      if ((events[static_cast<std::size_t>(e)].events & EPOLLOUT) && !send_some(c)) {
        fail(c);
        continue;
      }
      if (!(events[static_cast<std::size_t>(e)].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        continue;
      bool closed = false;
      for (;;) {
        ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
        if (n > 0) {
          c.in.append(chunk, static_cast<std::size_t>(n));
          continue;
        }
        closed = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        break;
      }
      int status = 0;
      if (take_response(c.in, status, answer)) {
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - c.t0).count());
        if (status == 201) {
          ++totals.ok;
        } else if (totals.errors++ == 0) {
          std::fprintf(stderr, "first failure: HTTP %d %s\n", status, answer.c_str());
        }
        next_request(c);
        if (!send_some(c))
          fail(c);
        continue;
      }
      if (closed)
        fail(c);
    }
  }
  for (Conn& c : conns) {
    if (c.fd >= 0)
      ::close(c.fd);
  }
  ::close(ep);
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
  Totals totals;
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(cfg.threads));
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int t = 0; t < cfg.threads; ++t) {
    // Connections t, t + threads, t + 2 * threads, ...
    const int count = cfg.connections / cfg.threads + (t < cfg.connections % cfg.threads ? 1 : 0);
    threads.emplace_back([&, t, count] {
      drive(cfg, ids, t, count, stop, totals, latencies[static_cast<std::size_t>(t)]);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  std::atomic<std::uint64_t>& ok = totals.ok;
  std::atomic<std::uint64_t>& errors = totals.errors;
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
  cmd->add_option("--threads", cfg->threads,
                  "Client threads driving the connections with epoll (as wrk -t, pgbench -j)")
      ->check(CLI::Range(1, 64));
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
