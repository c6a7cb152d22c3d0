// Problem details (RFC 9457) and the single error → status mapping.
#include "api/problem.hpp"

#include "api/json.hpp"

namespace eventcrm::api {

ProblemInfo problem_info(errc code) noexcept {
  switch (code) {
    case errc::bad_request:
      return {400, "bad-request", "Bad request"};
    case errc::malformed_json:
      return {400, "malformed-json", "Malformed JSON body"};
    case errc::validation_failed:
      return {422, "validation-failed", "Validation failed"};
    case errc::not_found:
      return {404, "not-found", "Not found"};
    case errc::route_not_found:
      return {404, "route-not-found", "No such resource"};
    case errc::method_not_allowed:
      return {405, "method-not-allowed", "Method not allowed"};
    case errc::not_acceptable:
      return {406, "not-acceptable", "Not acceptable"};
    case errc::unsupported_media_type:
      return {415, "unsupported-media-type", "Unsupported media type"};
    case errc::payload_too_large:
      return {413, "payload-too-large", "Request body too large"};
    case errc::headers_too_large:
      return {431, "headers-too-large", "Request header fields too large"};
    case errc::conflict:
      return {409, "conflict", "Concurrency conflict"};
    case errc::insufficient_stock:
      return {409, "insufficient-stock", "Insufficient stock"};
    case errc::invalid_transition:
      return {409, "invalid-transition", "Not allowed in the record's current state"};
    case errc::already_exists:
      return {409, "already-exists", "The record already exists"};
    case errc::idempotency_conflict:
      return {409, "idempotency-conflict", "Event id already used differently"};
    case errc::idempotency_key_reused:
      return {422, "idempotency-key-reused", "Idempotency key reused for another request"};
    case errc::misdirected:
      return {421, "misdirected", "Send commands to the writer"};
    case errc::rate_limited:
      return {429, "rate-limited", "Too many requests"};
    case errc::unauthorized:
      return {401, "unauthorized", "Authentication required"};
    case errc::forbidden:
      return {403, "forbidden", "Permission denied"};
    case errc::not_ready:
      return {503, "not-ready", "Service not ready"};
    case errc::unavailable:
      return {503, "unavailable", "Service unavailable"};
    case errc::request_timeout:
      return {408, "request-timeout", "Request timeout"};
    case errc::internal:
      return {500, "internal", "Internal server error"};
  }
  return {500, "internal", "Internal server error"};
}

Problem from_store_error(const store::Error& e) {
  Problem p;
  p.detail = e.message.empty() ? store::to_string(e.code) : e.message;
  p.stream = e.stream;
  switch (e.code) {
    case store::errc::wrong_expected_version:
      p.code = errc::conflict;
      p.current_version = e.current_version;
      break;
    case store::errc::idempotency_conflict:
      p.code = errc::idempotency_conflict;
      break;
    case store::errc::invalid_stream_name:
      p.code = errc::validation_failed;
      p.errors.push_back({"stream", p.detail});
      break;
    case store::errc::invalid_event_type:
      p.code = errc::validation_failed;
      p.errors.push_back({"events[].type", p.detail});
      break;
    case store::errc::invalid_event_id:
      p.code = errc::validation_failed;
      p.errors.push_back({"events[].id", p.detail});
      break;
    case store::errc::invalid_json:
      p.code = errc::validation_failed;
      p.errors.push_back({"events[].data", p.detail});
      break;
    case store::errc::event_too_large:
      p.code = errc::payload_too_large;
      break;
    case store::errc::batch_too_large:
    case store::errc::empty_batch:
    case store::errc::duplicate_stream_in_batch:
      p.code = errc::validation_failed;
      p.errors.push_back({"events", p.detail});
      break;
    case store::errc::not_found:
      p.code = errc::not_found;
      break;
    case store::errc::closed:
      p.code = errc::unavailable;
      break;
    case store::errc::io_error:
    case store::errc::corrupted:
      p.code = errc::internal;
      break;
  }
  return p;
}

std::string problem_type(errc code) {
  return std::string("https://eventcrm.dev/problems/") + problem_info(code).slug;
}

Response to_response(const Problem& p) {
  ProblemInfo info = problem_info(p.code);
  Response r;
  r.status = info.status;
  r.content_type = "application/problem+json";
  std::string& b = r.body;
  b.reserve(160 + p.detail.size());
  b += "{\"type\":";
  json::write_string(b, problem_type(p.code));
  b += ",\"title\":";
  json::write_string(b, info.title);
  b += ",\"status\":";
  b += std::to_string(info.status);
  b += ",\"detail\":";
  json::write_string(b, p.detail.empty() ? std::string_view(info.title) : p.detail);
  if (!p.stream.empty()) {
    b += ",\"stream\":";
    json::write_string(b, p.stream);
  }
  if (p.code == errc::conflict && p.current_version) {
    b += ",\"current_version\":";
    if (*p.current_version < 0)
      b += "\"no_stream\"";
    else
      b += std::to_string(*p.current_version);
  }
  // An invalid transition always says what is allowed, even when nothing is (a final state).
  if (!p.allowed.empty() || p.code == errc::invalid_transition) {
    b += ",\"allowed\":[";
    for (std::size_t i = 0; i < p.allowed.size(); ++i) {
      if (i)
        b.push_back(',');
      json::write_string(b, p.allowed[i]);
    }
    b.push_back(']');
  }
  if (!p.existing_id.empty()) {
    b += ",\"existing_id\":";
    json::write_string(b, p.existing_id);
  }
  if (!p.errors.empty()) {
    b += ",\"errors\":[";
    for (std::size_t i = 0; i < p.errors.size(); ++i) {
      if (i)
        b.push_back(',');
      b += "{\"field\":";
      json::write_string(b, p.errors[i].field);
      b += ",\"message\":";
      json::write_string(b, p.errors[i].message);
      b.push_back('}');
    }
    b.push_back(']');
  }
  b.push_back('}');
  if (p.code == errc::rate_limited || p.code == errc::not_ready || p.code == errc::unavailable)
    r.set_header("Retry-After", "1");
  if (p.code == errc::payload_too_large || p.code == errc::headers_too_large ||
      p.code == errc::request_timeout)
    r.close = true;
  return r;
}

Response problem(errc code, std::string detail, std::vector<FieldError> errors) {
  Problem p;
  p.code = code;
  p.detail = std::move(detail);
  p.errors = std::move(errors);
  return to_response(p);
}

Response not_ready(std::string detail) {
  Response res = problem(errc::not_ready, std::move(detail));
  res.set_header("Retry-After", "1");
  return res;
}

}  // namespace eventcrm::api
