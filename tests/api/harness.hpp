// Test harness: starts the real `eventcrm serve` on an ephemeral loopback port with a temp
// data dir, and a small blocking HTTP/1.1 client. Every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace eventcrm::test {

// The executable under test and the merged OpenAPI document (tests/api/paths.cpp). Their build
// paths are compiled into that one file, so no other test object depends on where the build
// directory is (a second clone's build reuses the compiler cache).
const char* eventcrm_bin();
const char* openapi_document();

using namespace std::chrono_literals;

// The administrator key every test server starts with (EVENTCRM_BOOTSTRAP_ADMIN_KEY), and the
// one requests carry unless they name their own Authorization ("" sends none).
inline constexpr const char* kAdminKey = "eck_testadm1_tests-only-admin-key-0123456789";
// What the server appends on its first start (the administrator and their key, README "Quick
// start"): tests that count log positions start after these.
inline constexpr int kBootstrapEvents = 2;
inline std::string admin_auth() {
  return std::string("Bearer ") + kAdminKey;
}

inline std::filesystem::path temp_dir(const std::string& tag) {
  std::random_device rd;
  auto p =
      std::filesystem::temp_directory_path() / ("eventcrm-api-" + tag + "-" + std::to_string(rd()));
  std::filesystem::create_directories(p);
  return p;
}

class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { kill_now(); }

  // Starts the server; returns false when it did not print its port within 15 s.
  bool start(const std::filesystem::path& data_dir, std::vector<std::string> extra = {}) {
    int out[2];
    if (pipe(out) != 0)
      return false;
    std::vector<std::string> args = {eventcrm_bin(), "serve",           "--port",      "0",
                                     "--data-dir",   data_dir.string(), "--log-level", "warn"};
    bool durability = false, spare = false;
    for (auto& e : extra) {
      durability = durability || e == "--durability";
      spare = spare || e == "--wal-spare-mb";
      args.push_back(e);
    }
    if (!durability) {
      args.push_back("--durability");
      args.push_back("relaxed");
    }
    if (!spare) {  // 1 MB, not the 64 MB of a server: many servers start in the tests
      args.push_back("--wal-spare-mb");
      args.push_back("1");
    }
    pid_ = fork();
    if (pid_ == 0) {
      if (bootstrap_key.empty())
        unsetenv("EVENTCRM_BOOTSTRAP_ADMIN_KEY");
      else
        setenv("EVENTCRM_BOOTSTRAP_ADMIN_KEY", bootstrap_key.c_str(), 1);
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    out_fd_ = out[0];
    std::string buf;
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0)
        continue;
      char c[256];
      ssize_t n = read(out_fd_, c, sizeof c);
      if (n <= 0)
        return false;
      buf.append(c, static_cast<std::size_t>(n));
      auto pos = buf.find("listening on ");
      auto nl = buf.find('\n', pos);
      if (pos != std::string::npos && nl != std::string::npos) {
        output_ = buf;
        std::string addr = buf.substr(pos + 13, nl - pos - 13);
        port_ = std::stoi(addr.substr(addr.rfind(':') + 1));
        return true;
      }
    }
    return false;
  }

  int port() const { return port_; }
  // What the server printed up to its "listening on" line.
  const std::string& output() const { return output_; }
  // EVENTCRM_BOOTSTRAP_ADMIN_KEY for the next start; empty: unset (the server makes one).
  std::string bootstrap_key = kAdminKey;
  pid_t pid() const { return pid_; }

  void signal(int sig) {
    if (pid_ > 0)
      ::kill(pid_, sig);
  }

  // Waits for exit (bounded); returns the exit status or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        if (out_fd_ >= 0)
          close(out_fd_);
        out_fd_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

  int stop() {
    signal(SIGTERM);
    int rc = wait_exit();
    kill_now();
    return rc;
  }

  void kill_now() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (out_fd_ >= 0)
      close(out_fd_);
    out_fd_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  std::string output_;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

inline int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

inline bool send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// A keep-alive connection that reads responses one by one (Content-Length framing).
class Connection {
 public:
  explicit Connection(int port) : fd_(connect_to(port)) {}
  ~Connection() {
    if (fd_ >= 0)
      close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  bool send(const std::string& raw) { return send_all(fd_, raw); }

  // Reads until `pred(buffer)` or timeout/EOF; returns false on timeout.
  bool fill(std::chrono::milliseconds timeout, bool& eof) {
    eof = false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
      return false;
    char c[16384];
    ssize_t n = recv(fd_, c, sizeof c, 0);
    if (n <= 0) {
      eof = true;
      return true;
    }
    buf_.append(c, static_cast<std::size_t>(n));
    return true;
  }

  std::optional<HttpResponse> read_response(std::chrono::milliseconds timeout = 10s,
                                            bool head = false) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        HttpResponse r;
        std::string head_text = buf_.substr(0, end);
        std::size_t line_end = head_text.find("\r\n");
        std::string status_line = head_text.substr(0, line_end);
        r.status = std::atoi(status_line.substr(9, 3).c_str());
        std::size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
        while (pos < head_text.size()) {
          std::size_t e = head_text.find("\r\n", pos);
          if (e == std::string::npos)
            e = head_text.size();
          std::string line = head_text.substr(pos, e - pos);
          auto colon = line.find(':');
          std::string name = line.substr(0, colon);
          for (auto& ch : name)
            ch = static_cast<char>(std::tolower(ch));
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ')
            value.erase(0, 1);
          r.headers[name] = value;
          pos = e + 2;
        }
        std::size_t len =
            head || r.status == 304 || r.status == 204
                ? 0
                : static_cast<std::size_t>(std::atoll(r.header("content-length").c_str()));
        if (r.status == 100) {
          buf_.erase(0, end + 4);
          continue;
        }
        if (buf_.size() >= end + 4 + len) {
          r.body = buf_.substr(end + 4, len);
          buf_.erase(0, end + 4 + len);
          return r;
        }
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline)
        return std::nullopt;
      bool eof = false;
      if (!fill(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now), eof) || eof)
        return std::nullopt;
    }
  }

  // True when the server closes the connection within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      bool eof = false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (!fill(std::max(left, 1ms), eof))
        continue;
      if (eof)
        return true;
    }
    return false;
  }

  std::string& buffer() { return buf_; }

 private:
  int fd_;
  std::string buf_;
};

inline std::string make_request(const std::string& method, const std::string& target,
                                const std::string& body = {},
                                std::vector<std::pair<std::string, std::string>> headers = {}) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_ct = false;
  bool has_auth = false;
  for (auto& [k, v] : headers) {
    bool auth = k.size() == 13 && strncasecmp(k.c_str(), "Authorization", 13) == 0;
    has_auth = has_auth || auth;
    if (auth && v.empty())
      continue;  // the caller asked for no credentials
    r += k + ": " + v + "\r\n";
    if (k == "Content-Type")
      has_ct = true;
  }
  if (!has_auth)
    r += "Authorization: " + admin_auth() + "\r\n";
  if (!body.empty() || method == "POST") {
    if (!has_ct)
      r += "Content-Type: application/json\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += "\r\n" + body;
  return r;
}

inline std::optional<HttpResponse> http(
    int port, const std::string& method, const std::string& target, const std::string& body = {},
    std::vector<std::pair<std::string, std::string>> headers = {}) {
  Connection c(port);
  if (!c.ok() || !c.send(make_request(method, target, body, std::move(headers))))
    return std::nullopt;
  return c.read_response(10s, method == "HEAD");
}

}  // namespace eventcrm::test
