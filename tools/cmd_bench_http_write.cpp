// `eventcrm bench http-write`: the care-log write path through the real HTTP API. N keep-alive
// connections (one request in flight each) log activities against existing accounts on a
// running `eventcrm serve` for S seconds; prints throughput and latency. The accounts are
// created first through the API (or read back from --ids-file, so rounds can share them).
// Loopback only: the benchmark refuses any other address.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

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

// One keep-alive HTTP/1.1 connection to 127.0.0.1 with blocking I/O.
class Connection {
 public:
  explicit Connection(int port, const std::string& api_key = {})
      : auth_(api_key.empty() ? std::string() : "Authorization: Bearer " + api_key + "\r\n") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0)
      return;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Connection() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  bool ok() const { return fd_ >= 0; }

  // Sends a POST with a JSON body and reads the answer; status 0 on a transport failure.
  int post(const std::string& path, const std::string& body, std::string& response_body) {
    std::string req = "POST " + path +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + auth_ +
                      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    std::size_t off = 0;
    while (off < req.size()) {
      ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0)
        return 0;
      off += static_cast<std::size_t>(n);
    }
    return read_response(response_body);
  }

 private:
  int read_response(std::string& body) {
    for (;;) {
      std::size_t end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        int status = 0;
        if (buf_.size() >= 12)
          status = std::atoi(buf_.c_str() + 9);
        std::size_t length = 0;
        std::size_t cl = find_header(buf_.substr(0, end), "content-length:");
        if (cl != std::string::npos)
          length = std::strtoull(buf_.c_str() + cl, nullptr, 10);
        while (buf_.size() < end + 4 + length) {
          if (!fill())
            return 0;
        }
        body = buf_.substr(end + 4, length);
        buf_.erase(0, end + 4 + length);
        return status;
      }
      if (!fill())
        return 0;
    }
  }
  static std::size_t find_header(std::string head, const char* name) {
    for (char& c : head)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t at = head.find(name);
    return at == std::string::npos ? at : at + std::strlen(name);
  }
  bool fill() {
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0)
      return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string auth_;  // the Authorization header line, or empty
  std::string buf_;
};

std::string id_of(const std::string& body) {
  std::size_t at = body.find("\"id\":\"");
  if (at == std::string::npos)
    return {};
  at += 6;
  return body.substr(at, body.find('"', at) - at);
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty())
    return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
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
      Connection conn(cfg.port, cfg.api_key);
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
        ids[static_cast<std::size_t>(i)] = id_of(body);
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
      Connection conn(cfg.port, cfg.api_key);
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
    if (cfg->api_key.empty()) {
      if (const char* k = std::getenv("EVENTCRM_API_KEY"))
        cfg->api_key = k;
      else if (const char* b = std::getenv("EVENTCRM_BOOTSTRAP_ADMIN_KEY"))
        cfg->api_key = b;
    }
    exit_code() = run(*cfg);
  });
}

}  // namespace eventcrm::tools
