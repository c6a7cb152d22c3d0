// Validation of names and ids, and small helpers on events.
#include "eventstore/event.hpp"

#include <algorithm>

namespace eventcrm::store {
namespace {
bool lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool hex(char c) {
  return digit(c) || (c >= 'a' && c <= 'f');
}
}  // namespace

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::wrong_expected_version:
      return "wrong_expected_version";
    case errc::idempotency_conflict:
      return "idempotency_conflict";
    case errc::invalid_stream_name:
      return "invalid_stream_name";
    case errc::invalid_event_type:
      return "invalid_event_type";
    case errc::invalid_event_id:
      return "invalid_event_id";
    case errc::invalid_json:
      return "invalid_json";
    case errc::event_too_large:
      return "event_too_large";
    case errc::batch_too_large:
      return "batch_too_large";
    case errc::empty_batch:
      return "empty_batch";
    case errc::duplicate_stream_in_batch:
      return "duplicate_stream_in_batch";
    case errc::not_found:
      return "not_found";
    case errc::io_error:
      return "io_error";
    case errc::closed:
      return "closed";
    case errc::corrupted:
      return "corrupted";
  }
  return "unknown";
}

bool valid_stream_name(std::string_view s) noexcept {
  if (s.empty() || s.size() > 200)
    return false;
  auto dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size())
    return false;
  if (!lower(s[0]))
    return false;
  for (std::size_t i = 1; i < dash; ++i) {
    if (!lower(s[i]) && !digit(s[i]) && s[i] != '_')
      return false;
  }
  for (std::size_t i = dash + 1; i < s.size(); ++i) {
    char c = s[i];
    bool ok = lower(c) || digit(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == ':' ||
              c == '-';
    if (!ok)
      return false;
  }
  return true;
}

bool valid_event_type(std::string_view s) noexcept {
  // segment(.segment)+ .vN where a segment is [a-z][a-z0-9_]*
  if (s.empty() || s.size() > 128)
    return false;
  auto last_dot = s.rfind('.');
  if (last_dot == std::string_view::npos)
    return false;
  auto ver = s.substr(last_dot + 1);
  if (ver.size() < 2 || ver[0] != 'v' ||
      !std::all_of(ver.begin() + 1, ver.end(), [](char c) { return digit(c); })) {
    return false;
  }
  auto body = s.substr(0, last_dot);
  int segments = 0;
  std::size_t start = 0;
  while (start <= body.size()) {
    auto end = body.find('.', start);
    if (end == std::string_view::npos)
      end = body.size();
    auto seg = body.substr(start, end - start);
    if (seg.empty() || !lower(seg[0]))
      return false;
    for (char c : seg) {
      if (!lower(c) && !digit(c) && c != '_')
        return false;
    }
    ++segments;
    start = end + 1;
  }
  return segments >= 2;
}

bool valid_uuid(std::string_view s) noexcept {
  if (s.size() != 36)
    return false;
  for (std::size_t i = 0; i < 36; ++i) {
    bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_pos ? s[i] != '-' : !hex(s[i]))
      return false;
  }
  return true;
}

std::string RecordedEvent::category() const {
  return std::string(stream_category(stream));
}

bool Filter::matches(const RecordedEvent& e) const {
  return matches(e.stream, e.type);
}

bool Filter::matches(std::string_view stream, std::string_view type) const {
  if (!types.empty() && std::find(types.begin(), types.end(), type) == types.end()) {
    return false;
  }
  if (!categories.empty()) {
    if (std::find(categories.begin(), categories.end(), stream_category(stream)) ==
        categories.end())
      return false;
  }
  return true;
}

}  // namespace eventcrm::store
