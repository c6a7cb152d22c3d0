// Plain request/response helpers shared by the router, handlers and session.
#include "api/http.hpp"

#include <cstring>

namespace eventcrm::api {

Method parse_method(std::string_view m) noexcept {
  if (m == "GET")
    return Method::get;
  if (m == "HEAD")
    return Method::head;
  if (m == "POST")
    return Method::post;
  if (m == "PUT")
    return Method::put;
  if (m == "PATCH")
    return Method::patch;
  if (m == "DELETE")
    return Method::delete_;
  if (m == "OPTIONS")
    return Method::options;
  return Method::other;
}

std::string_view to_string(Method m) noexcept {
  switch (m) {
    case Method::get:
      return "GET";
    case Method::head:
      return "HEAD";
    case Method::post:
      return "POST";
    case Method::put:
      return "PUT";
    case Method::patch:
      return "PATCH";
    case Method::delete_:
      return "DELETE";
    case Method::options:
      return "OPTIONS";
    case Method::other:
      return "OTHER";
  }
  return "OTHER";
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

std::string_view Request::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (iequals(k, name))
      return v;
  return {};
}

bool Request::has_header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (iequals(k, name))
      return true;
  return false;
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::string_view Response::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (iequals(k, name))
      return v;
  return {};
}

std::string make_etag(std::string_view body) {
  // Word-at-a-time multiplicative hash: cheap on multi-kilobyte pages, stable across runs.
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ body.size();
  std::size_t i = 0;
  for (; i + 8 <= body.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, body.data() + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  for (; i < body.size(); ++i)
    h = (h ^ static_cast<unsigned char>(body[i])) * 0x100000001b3ull;
  h ^= h >> 29;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(18, '"');
  for (int k = 0; k < 16; ++k)
    out[static_cast<std::size_t>(16 - k)] = hex[(h >> (4 * k)) & 0xF];
  return out;
}

Response json_response(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

namespace {
int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}
}  // namespace

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size())
        return false;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

bool parse_query(std::string_view query, std::vector<QueryParam>& out) {
  out.clear();
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty())
      continue;
    std::size_t eq = part.find('=');
    QueryParam p;
    if (!percent_decode(part.substr(0, eq), p.name, true))
      return false;
    if (eq != std::string_view::npos && !percent_decode(part.substr(eq + 1), p.value, true))
      return false;
    out.push_back(std::move(p));
  }
  return true;
}

std::string client_address(const Request& req) {
  bool via_local_proxy = req.peer == "127.0.0.1" || req.peer == "::1" || req.peer.empty();
  if (!via_local_proxy)
    return std::string(req.peer);
  std::string_view xff = req.header("X-Forwarded-For");
  std::string_view client = xff.substr(0, xff.find(','));
  while (!client.empty() && client.front() == ' ')
    client.remove_prefix(1);
  while (!client.empty() && client.back() == ' ')
    client.remove_suffix(1);
  if (client.empty())
    client = req.header("X-Real-IP");
  if (client.empty())
    client = req.peer;
  return std::string(client.substr(0, 100));
}

}  // namespace eventcrm::api
