// Strict request-body decoding on simdjson's DOM parser (never On-Demand for untrusted input).
#include "api/json.hpp"

#include "eventstore/cloudevents.hpp"

#include <simdjson.h>
#include <algorithm>
#include <charconv>

namespace eventcrm::api::json {

namespace {

const char* describe(simdjson::error_code e) {
  switch (e) {
    case simdjson::UTF8_ERROR:
      return "the body is not valid UTF-8";
    case simdjson::DEPTH_ERROR:
      return "the document nests deeper than 32 levels";
    case simdjson::NUMBER_ERROR:
      return "a number is malformed or out of range";
    case simdjson::STRING_ERROR:
    case simdjson::UNCLOSED_STRING:
    case simdjson::UNESCAPED_CHARS:
      return "a string is malformed (bad escape, unescaped control character or unterminated)";
    case simdjson::EMPTY:
      return "the body is empty";
    case simdjson::CAPACITY:
      return "the document is too large";
    case simdjson::MEMALLOC:
      return "the document is too large";
    default:
      return "the body is not well-formed JSON";
  }
}

struct Converter {
  std::string error;

  bool convert(simdjson::dom::element el, Value& out) {
    using simdjson::dom::element_type;
    switch (el.type()) {
      case element_type::NULL_VALUE:
        out.kind = Value::Kind::null;
        return true;
      case element_type::BOOL:
        out.kind = Value::Kind::boolean;
        out.boolean = el.get_bool().value_unsafe();
        return true;
      case element_type::INT64:
        out.kind = Value::Kind::number;
        out.text = std::to_string(el.get_int64().value_unsafe());
        return true;
      case element_type::UINT64:
        out.kind = Value::Kind::number;
        out.text = std::to_string(el.get_uint64().value_unsafe());
        return true;
      case element_type::DOUBLE:
        out.kind = Value::Kind::number;
        out.text = simdjson::minify(el);
        return true;
      case element_type::STRING: {
        out.kind = Value::Kind::string;
        std::string_view s = el.get_string().value_unsafe();
        out.text.assign(s.data(), s.size());
        return true;
      }
      case element_type::ARRAY: {
        out.kind = Value::Kind::array;
        simdjson::dom::array arr = el.get_array().value_unsafe();
        out.items.reserve(arr.size());
        for (simdjson::dom::element item : arr) {
          out.items.emplace_back();
          if (!convert(item, out.items.back()))
            return false;
        }
        return true;
      }
      case element_type::OBJECT: {
        out.kind = Value::Kind::object;
        simdjson::dom::object obj = el.get_object().value_unsafe();
        out.members.reserve(obj.size());
        for (simdjson::dom::key_value_pair kv : obj) {
          out.members.push_back(Member{std::string(kv.key), Value{}});
          if (!convert(kv.value, out.members.back().second))
            return false;
        }
        // Duplicate keys are ambiguous (which one wins differs between parsers): reject.
        std::vector<std::string_view> keys;
        keys.reserve(out.members.size());
        for (const auto& m : out.members)
          keys.emplace_back(m.first);
        std::sort(keys.begin(), keys.end());
        auto dup = std::adjacent_find(keys.begin(), keys.end());
        if (dup != keys.end()) {
          error = "duplicate key \"" + std::string(*dup) + "\"";
          return false;
        }
        return true;
      }
    }
    error = "unsupported JSON value";
    return false;
  }
};

}  // namespace

const Value* Value::find(std::string_view key) const noexcept {
  for (const auto& m : members)
    if (m.first == key)
      return &m.second;
  return nullptr;
}

bool Value::as_int64(std::int64_t& out) const noexcept {
  if (kind != Kind::number)
    return false;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [p, ec] = std::from_chars(first, last, out);
  return ec == std::errc{} && p == last;
}

const char* kind_name(Value::Kind k) noexcept {
  switch (k) {
    case Value::Kind::null:
      return "null";
    case Value::Kind::boolean:
      return "boolean";
    case Value::Kind::number:
      return "number";
    case Value::Kind::string:
      return "string";
    case Value::Kind::array:
      return "array";
    case Value::Kind::object:
      return "object";
  }
  return "unknown";
}

Result<Value, DecodeError> decode(std::string_view body) {
  if (body.empty())
    return unexpected(DecodeError{"the body is empty"});
  // One parser per thread: its buffers are reused between requests.
  thread_local simdjson::dom::parser parser;
  thread_local bool allocated = false;
  if (!allocated || parser.capacity() < body.size()) {
    if (parser.allocate(std::max<std::size_t>(body.size(), 64u << 10), max_depth) !=
        simdjson::SUCCESS)
      return unexpected(DecodeError{"the document is too large"});
    allocated = true;
  }
  // The body is not padded: it is copied into a padded buffer the thread keeps (parse() would
  // allocate one for every body).
  thread_local std::string padded;
  padded.assign(body);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element root;
  auto err = parser.parse(padded.data(), body.size(), false).get(root);
  if (err != simdjson::SUCCESS)
    return unexpected(DecodeError{describe(err)});
  Converter c;
  Value v;
  if (!c.convert(root, v))
    return unexpected(DecodeError{std::move(c.error)});
  return v;
}

void write_string(std::string& out, std::string_view s) {
  store::append_json_string(out, s);  // one escaper for every JSON we write
}

void write(std::string& out, const Value& v) {
  switch (v.kind) {
    case Value::Kind::null:
      out += "null";
      return;
    case Value::Kind::boolean:
      out += v.boolean ? "true" : "false";
      return;
    case Value::Kind::number:
      out += v.text;
      return;
    case Value::Kind::string:
      write_string(out, v.text);
      return;
    case Value::Kind::array: {
      out.push_back('[');
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        if (i)
          out.push_back(',');
        write(out, v.items[i]);
      }
      out.push_back(']');
      return;
    }
    case Value::Kind::object: {
      out.push_back('{');
      for (std::size_t i = 0; i < v.members.size(); ++i) {
        if (i)
          out.push_back(',');
        write_string(out, v.members[i].first);
        out.push_back(':');
        write(out, v.members[i].second);
      }
      out.push_back('}');
      return;
    }
  }
}

std::string to_string(const Value& v) {
  std::string out;
  write(out, v);
  return out;
}

}  // namespace eventcrm::api::json
