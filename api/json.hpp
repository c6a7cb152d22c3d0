// The one decoding layer for request bodies: strict JSON (simdjson DOM underneath) into a
// small owned tree. Rejects syntax errors, invalid UTF-8, depth beyond the cap, duplicate
// keys, trailing content and numbers out of range; handlers then check shapes and types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace eventcrm::api::json {

inline constexpr std::size_t max_depth = 32;

struct Member;

struct Value {
  enum class Kind : std::uint8_t { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  std::string text;  // string: the decoded value; number: its JSON text
  std::vector<Value> items;
  std::vector<Member> members;  // in document order, unique keys

  bool is_object() const noexcept { return kind == Kind::object; }
  bool is_string() const noexcept { return kind == Kind::string; }
  bool is_number() const noexcept { return kind == Kind::number; }
  bool is_array() const noexcept { return kind == Kind::array; }
  const Value* find(std::string_view key) const noexcept;
  // Integer value of a number, false when not an integer or out of int64 range.
  bool as_int64(std::int64_t& out) const noexcept;
};

// An object member; `first`/`second` like a map entry.
struct Member {
  std::string first;
  Value second;
};

const char* kind_name(Value::Kind k) noexcept;

struct DecodeError {
  std::string message;  // says what is wrong, for the problem's detail
};

// Parses and validates a whole body.
Result<Value, DecodeError> decode(std::string_view body);

// Compact JSON text of a value (numbers as received, strings escaped).
void write(std::string& out, const Value& v);
std::string to_string(const Value& v);
// Appends `s` as a quoted, escaped JSON string.
void write_string(std::string& out, std::string_view s);

}  // namespace eventcrm::api::json
