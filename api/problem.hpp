// RFC 9457 problem details. Every failure the API answers goes through `problem()`, and the
// mapping from an error kind to status, type and title lives in one table in problem.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/http.hpp"
#include "eventstore/event.hpp"

namespace eventcrm::api {

// Every kind of failure the API can answer.
enum class errc : std::uint8_t {
  bad_request,        // malformed parameters or headers
  malformed_json,     // the body is not valid JSON (syntax, UTF-8, depth, duplicates)
  validation_failed,  // well-formed but invalid
  not_found,
  route_not_found,
  method_not_allowed,
  not_acceptable,
  unsupported_media_type,
  payload_too_large,
  headers_too_large,
  conflict,            // optimistic concurrency
  insufficient_stock,  // an issue, transfer or adjustment would drive stock negative (409)
  invalid_transition,  // the record's state does not allow the action (409, with `allowed`)
  already_exists,      // a record with the same identity exists (409, with `existing_id`)
  idempotency_conflict,
  idempotency_key_reused,  // the same Idempotency-Key with another request (422)
  rate_limited,
  unauthorized,  // no or bad credentials (401, with WWW-Authenticate)
  forbidden,     // authenticated, but the role lacks the permission (403)
  misdirected,   // a command sent to a read replica (421)
  not_ready,
  unavailable,
  request_timeout,
  internal,
};

struct FieldError {
  std::string field;
  std::string message;
};

struct Problem {
  errc code = errc::internal;
  std::string detail;
  std::vector<FieldError> errors;
  std::optional<std::int64_t> current_version;  // 409 on a stale expected version
  std::string stream;
  std::vector<std::string> allowed;  // invalid_transition: what the record allows now
  std::string existing_id;           // already_exists: the record that is already there
};

struct ProblemInfo {
  int status;
  const char* slug;  // type URI suffix
  const char* title;
};

// The one mapping: error kind → HTTP status, problem type and title.
ProblemInfo problem_info(errc code) noexcept;
// The one mapping from store errors to API errors.
Problem from_store_error(const store::Error& e);

// The problem+json response (with Allow / Retry-After where the kind needs them).
Response to_response(const Problem& p);
Response problem(errc code, std::string detail, std::vector<FieldError> errors = {});
// 503 not-ready with `Retry-After: 1`: a read model (or other state) is catching up.
Response not_ready(std::string detail);

// The problem type URI for a kind, e.g. "https://eventcrm.dev/problems/conflict".
std::string problem_type(errc code);

}  // namespace eventcrm::api
