// Query-parameter parsing shared by handlers: strict (unknown names and malformed values are
// reported as field errors, never ignored).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.hpp"
#include "api/problem.hpp"

namespace eventcrm::api::params {

class Query {
 public:
  // Parses `req.query`, allowing only `allowed` names.
  Query(const Request& req, std::initializer_list<std::string_view> allowed);
  Query(const Request& req, const std::vector<std::string_view>& allowed);

  std::optional<std::string_view> get(std::string_view name) const;
  std::vector<std::string> list(std::string_view name) const;  // repeated and comma-separated

  std::optional<std::uint64_t> u64(std::string_view name);
  std::optional<std::int64_t> i64(std::string_view name, std::int64_t min);
  std::size_t limit(std::size_t def, std::size_t max);

  void fail(std::string field, std::string message) {
    errors_.push_back({std::move(field), std::move(message)});
  }
  bool ok() const noexcept { return errors_.empty(); }
  Response problem() const;  // 400 with the collected errors

 private:
  std::vector<QueryParam> items_;
  std::vector<FieldError> errors_;
};

// Parses a decimal unsigned integer exactly (no sign, no spaces, in range).
bool parse_u64(std::string_view s, std::uint64_t& out) noexcept;
bool parse_i64(std::string_view s, std::int64_t& out) noexcept;

}  // namespace eventcrm::api::params
