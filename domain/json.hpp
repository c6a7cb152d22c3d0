// The domain's own small JSON layer for event payloads: a strict parser into an owned tree and
// a writer. Kept dependency-free so domain/ needs no third-party library; the HTTP layer parses
// request bodies with its own (simdjson) decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace eventcrm::domain::json {

inline constexpr std::size_t kMaxDepth = 64;

struct Member;

struct Value {
  enum class Kind : std::uint8_t { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  std::string text;  // string: decoded value; number: its JSON text
  std::vector<Value> items;
  // Document order, unique keys. (A named struct rather than std::pair: pair needs Value
  // complete, which clang's libstdc++ checks here.)
  std::vector<Member> members;

  const Value* find(std::string_view key) const noexcept;
  bool as_int64(std::int64_t& out) const noexcept;
};

struct Member {
  std::string first;  // the key
  Value second;       // the value
};

// Parses one complete JSON document: rejects bad syntax, invalid UTF-8, control characters in
// strings, depth beyond kMaxDepth, duplicate keys and trailing content.
eventcrm::Result<Value, std::string> parse(std::string_view text);

// Builds compact JSON text; commas are placed automatically.
class Writer {
 public:
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(std::string_view k);
  void string(std::string_view s);
  void integer(std::int64_t v);
  void boolean(bool b);
  void null();
  std::string take() { return std::move(out_); }
  const std::string& str() const { return out_; }

 private:
  void open(char c);
  void close(char c);
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

void write_string(std::string& out, std::string_view s);

}  // namespace eventcrm::domain::json
