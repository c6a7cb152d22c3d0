// Strict query-parameter parsing for handlers.
#include "api/handlers/params.hpp"

#include <charconv>

namespace eventcrm::api::params {

bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 20)
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

bool parse_i64(std::string_view s, std::int64_t& out) noexcept {
  if (s.empty() || s.size() > 20)
    return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

Query::Query(const Request& req, std::initializer_list<std::string_view> allowed)
    : Query(req, std::vector<std::string_view>(allowed)) {}

Query::Query(const Request& req, const std::vector<std::string_view>& allowed) {
  if (!parse_query(req.query, items_)) {
    fail("query", "malformed percent-encoding in the query string");
    items_.clear();
    return;
  }
  for (const QueryParam& p : items_) {
    bool known = false;
    for (std::string_view a : allowed)
      known = known || p.name == a;
    if (!known)
      fail(p.name, "unknown query parameter");
  }
}

std::optional<std::string_view> Query::get(std::string_view name) const {
  std::optional<std::string_view> found;
  for (const QueryParam& p : items_)
    if (p.name == name)
      found = p.value;
  return found;
}

std::vector<std::string> Query::list(std::string_view name) const {
  std::vector<std::string> out;
  for (const QueryParam& p : items_) {
    if (p.name != name)
      continue;
    std::string_view v = p.value;
    while (!v.empty()) {
      std::size_t comma = v.find(',');
      if (comma != 0)
        out.emplace_back(v.substr(0, comma));
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    }
  }
  return out;
}

std::optional<std::uint64_t> Query::u64(std::string_view name) {
  auto v = get(name);
  if (!v)
    return std::nullopt;
  std::uint64_t out = 0;
  if (!parse_u64(*v, out)) {
    fail(std::string(name), "must be a non-negative integer");
    return std::nullopt;
  }
  return out;
}

std::optional<std::int64_t> Query::i64(std::string_view name, std::int64_t min) {
  auto v = get(name);
  if (!v)
    return std::nullopt;
  std::int64_t out = 0;
  if (!parse_i64(*v, out) || out < min) {
    fail(std::string(name), "must be an integer >= " + std::to_string(min));
    return std::nullopt;
  }
  return out;
}

std::size_t Query::limit(std::size_t def, std::size_t max) {
  auto v = get("limit");
  if (!v)
    return def;
  std::uint64_t n = 0;
  if (!parse_u64(*v, n) || n < 1 || n > max) {
    fail("limit", "must be an integer from 1 to " + std::to_string(max));
    return def;
  }
  return static_cast<std::size_t>(n);
}

Response Query::problem() const {
  return api::problem(errc::bad_request, "invalid query parameters", errors_);
}

}  // namespace eventcrm::api::params
