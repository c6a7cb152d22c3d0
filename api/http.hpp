// Plain HTTP request/response values the router and handlers work with, so handlers are
// tested without sockets. No Beast here: the session converts to and from these.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventstore/event.hpp"

namespace eventcrm::api {

struct Principal;  // api/security.hpp

enum class Method : std::uint8_t { get, head, post, put, patch, delete_, options, other };

Method parse_method(std::string_view m) noexcept;
std::string_view to_string(Method m) noexcept;

using HeaderField = std::pair<std::string_view, std::string_view>;

// A request as handlers see it. Views point into the session's buffers and are valid only
// until the handler returns (async handlers copy what they keep).
struct Request {
  Method method = Method::get;
  std::string_view target;  // as received: path?query
  std::string_view path;
  std::string_view query;
  std::string_view body;
  std::span<const HeaderField> headers;
  std::string_view request_id;
  // Who is asking, once authenticated (the user id); empty: "anonymous" (a public route, or no
  // authentication configured). `auth` has their roles, grants and record reach.
  std::string_view principal;
  std::shared_ptr<const Principal> auth;
  // The client's IP address as the connection sees it (proxies: see X-Forwarded-For).
  std::string_view peer;
  // Path parameters ({stream}, {id}), percent-decoded, in pattern order.
  std::vector<std::string> params;
  int route = -1;  // index of the matched route (set by the router), -1 when none

  // Case-insensitive lookup; empty when absent.
  std::string_view header(std::string_view name) const noexcept;
  bool has_header(std::string_view name) const noexcept;
};

// Where a Server-Sent Events stream starts, when a handler turns the connection into one.
struct SseStart {
  std::uint64_t after = 0;
  store::Filter filter;
};

struct Response {
  int status = 200;
  std::string content_type;  // empty: no body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<SseStart> sse;  // set: the session switches to an SSE stream
  bool close = false;           // close the connection after this response

  void set_header(std::string name, std::string value);
  std::string_view header(std::string_view name) const noexcept;
};

Response json_response(int status, std::string body);

bool iequals(std::string_view a, std::string_view b) noexcept;

// Who is asking, for rate limits: the connection's peer address. Forwarding headers
// (X-Forwarded-For, then X-Real-IP) are believed only from a proxy on this host (a loopback peer),
// where they name the real client: anyone else could spoof them to dodge a limit.
std::string client_address(const Request& req);

// A strong entity tag for a body: a quoted 64-bit content hash.
std::string make_etag(std::string_view body);

// Query string helpers: `name=value&...`, percent-decoded ('+' is a space).
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space);
struct QueryParam {
  std::string name;
  std::string value;
};
// False when a parameter is not valid percent-encoding.
bool parse_query(std::string_view query, std::vector<QueryParam>& out);

}  // namespace eventcrm::api
