// A blocking keep-alive HTTP/1.1 client to 127.0.0.1 for the HTTP benchmarks: one request in
// flight per connection, JSON bodies, an optional Authorization header. Loopback only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace eventcrm::tools {

// An HTTP/1.1 request to 127.0.0.1 as the benchmarks send it (keep-alive, JSON body).
inline std::string format_request(const char* method, const std::string& path,
                                  const std::string& authorization, const std::string& body) {
  std::string req = std::string(method) + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!authorization.empty())
    req += "Authorization: " + authorization + "\r\n";
  if (!body.empty())
    req += "Content-Type: application/json\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return req;
}

// Takes one whole answer off the front of `buf`: its status and body. False while `buf` does
// not hold a whole answer yet (head and Content-Length bytes of body).
inline bool take_response(std::string& buf, int& status, std::string& body) {
  const std::size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos)
    return false;
  std::string head = buf.substr(0, end);
  for (char& c : head)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::size_t length = 0;
  if (std::size_t cl = head.find("content-length:"); cl != std::string::npos)
    length = std::strtoull(head.c_str() + cl + 15, nullptr, 10);
  if (buf.size() < end + 4 + length)
    return false;
  status = buf.size() >= 12 ? std::atoi(buf.c_str() + 9) : 0;
  body = buf.substr(end + 4, length);
  buf.erase(0, end + 4 + length);
  return true;
}

class BenchConnection {
 public:
  BenchConnection(int port, std::string authorization = {})
      : authorization_(std::move(authorization)) {
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
  ~BenchConnection() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  BenchConnection(const BenchConnection&) = delete;
  BenchConnection& operator=(const BenchConnection&) = delete;
  bool ok() const { return fd_ >= 0; }

  // Sends a request and reads the answer; status 0 on a transport failure.
  int request(const char* method, const std::string& path, const std::string& body,
              std::string& response_body) {
    const std::string req = format_request(method, path, authorization_, body);
    std::size_t off = 0;
    while (off < req.size()) {
      ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0)
        return 0;
      off += static_cast<std::size_t>(n);
    }
    return read_response(response_body);
  }
  int post(const std::string& path, const std::string& body, std::string& response_body) {
    return request("POST", path, body, response_body);
  }

 private:
  int read_response(std::string& body) {
    int status = 0;
    while (!take_response(buf_, status, body)) {
      if (!fill())
        return 0;
    }
    return status;
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
  std::string authorization_;
  std::string buf_;
};

// The API key a benchmark sends when none is given: $EVENTCRM_API_KEY, else the server's
// first administrator key ($EVENTCRM_BOOTSTRAP_ADMIN_KEY); empty for a --no-auth server.
inline void default_api_key(std::string& key) {
  if (!key.empty())
    return;
  if (const char* k = std::getenv("EVENTCRM_API_KEY"))
    key = k;
  else if (const char* b = std::getenv("EVENTCRM_BOOTSTRAP_ADMIN_KEY"))
    key = b;
}

// A top-level string member of a JSON answer ("" when absent), e.g. the "id" of a command.
inline std::string json_member(const std::string& body, const std::string& key) {
  std::string needle = "\"" + key + "\":\"";
  std::size_t at = body.find(needle);
  if (at == std::string::npos)
    return {};
  at += needle.size();
  return body.substr(at, body.find('"', at) - at);
}

inline double percentile(std::vector<double>& v, double p) {
  if (v.empty())
    return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace eventcrm::tools
