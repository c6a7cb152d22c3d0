// A strict recursive-descent JSON parser and a compact writer (RFC 8259).
#include "domain/json.hpp"

#include <charconv>

namespace eventcrm::domain::json {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  eventcrm::Result<Value, std::string> document() {
    Value v;
    if (!value(v, 0))
      return unexpected(error_);
    ws();
    if (i_ != s_.size())
      return unexpected(fail("trailing content"));
    return v;
  }

 private:
  std::string fail(std::string what) {
    error_ = what + " at byte " + std::to_string(i_);
    return error_;
  }
  void ws() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word)
      return fail("invalid literal"), false;
    i_ += word.size();
    return true;
  }
  bool value(Value& v, std::size_t depth) {
    ws();
    if (i_ >= s_.size())
      return fail("unexpected end"), false;
    char c = s_[i_];
    switch (c) {
      case '{':
        return object(v, depth + 1);
      case '[':
        return array(v, depth + 1);
      case '"':
        v.kind = Value::Kind::string;
        return string(v.text);
      case 't':
        v.kind = Value::Kind::boolean;
        v.boolean = true;
        return literal("true");
      case 'f':
        v.kind = Value::Kind::boolean;
        return literal("false");
      case 'n':
        v.kind = Value::Kind::null;
        return literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9'))
          return number(v);
        return fail("unexpected character"), false;
    }
  }
  bool object(Value& v, std::size_t depth) {
    if (depth > kMaxDepth)
      return fail("too deep"), false;
    v.kind = Value::Kind::object;
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == '}')
      return ++i_, true;
    // A document's top object (an event's payload, a stored record) has a dozen members or so:
    // room for them at once rather than moving them at each doubling.
    if (depth == 1)
      v.members.reserve(16);
    for (;;) {
      ws();
      if (i_ >= s_.size() || s_[i_] != '"')
        return fail("expected a key"), false;
      std::string k;
      if (!string(k))
        return false;
      if (v.find(k) != nullptr)
        return fail("duplicate key \"" + k + "\""), false;
      ws();
      if (i_ >= s_.size() || s_[i_] != ':')
        return fail("expected ':'"), false;
      ++i_;
      Value member;
      if (!value(member, depth))
        return false;
      v.members.push_back(Member{std::move(k), std::move(member)});
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}')
        return ++i_, true;
      return fail("expected ',' or '}'"), false;
    }
  }
  bool array(Value& v, std::size_t depth) {
    if (depth > kMaxDepth)
      return fail("too deep"), false;
    v.kind = Value::Kind::array;
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == ']')
      return ++i_, true;
    for (;;) {
      Value item;
      if (!value(item, depth))
        return false;
      v.items.push_back(std::move(item));
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']')
        return ++i_, true;
      return fail("expected ',' or ']'"), false;
    }
  }
  bool number(Value& v) {
    std::size_t start = i_;
    auto is_digit = [&](std::size_t k) { return k < s_.size() && s_[k] >= '0' && s_[k] <= '9'; };
    if (s_[i_] == '-')
      ++i_;
    if (!is_digit(i_))
      return fail("invalid number"), false;
    if (s_[i_] == '0') {
      ++i_;
    } else {
      while (is_digit(i_))
        ++i_;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!is_digit(i_))
        return fail("invalid number"), false;
      while (is_digit(i_))
        ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-'))
        ++i_;
      if (!is_digit(i_))
        return fail("invalid number"), false;
      while (is_digit(i_))
        ++i_;
    }
    v.kind = Value::Kind::number;
    v.text = std::string(s_.substr(start, i_ - start));
    return true;
  }
  bool hex4(unsigned& out) {
    if (i_ + 4 > s_.size())
      return fail("bad \\u escape"), false;
    out = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        return fail("bad \\u escape"), false;
      }
    }
    return true;
  }
  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  // Copies one UTF-8 sequence starting at i_, checking it is well formed (no overlongs or
  // surrogates).
  bool utf8(std::string& out) {
    auto b = static_cast<unsigned char>(s_[i_]);
    std::size_t n;
    unsigned cp;
    if (b >= 0xC2 && b <= 0xDF) {
      n = 1, cp = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2, cp = b & 0x0Fu;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3, cp = b & 0x07u;
    } else {
      return fail("invalid UTF-8"), false;
    }
    if (i_ + n >= s_.size())
      return fail("invalid UTF-8"), false;
    for (std::size_t k = 1; k <= n; ++k) {
      auto c = static_cast<unsigned char>(s_[i_ + k]);
      if ((c & 0xC0) != 0x80)
        return fail("invalid UTF-8"), false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return fail("invalid UTF-8"), false;
    }
    out.append(s_.substr(i_, n + 1));
    i_ += n + 1;
    return true;
  }
  bool string(std::string& out) {
    ++i_;  // opening quote
    for (;;) {
      // A run of plain ASCII (most of any string) is copied at once.
      std::size_t run = i_;
      while (run < s_.size()) {
        const auto b = static_cast<unsigned char>(s_[run]);
        if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\')
          break;
        ++run;
      }
      out.append(s_.data() + i_, run - i_);
      i_ = run;
      if (i_ >= s_.size())
        return fail("unterminated string"), false;
      char c = s_[i_];
      if (c == '"')
        return ++i_, true;
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in string"), false;
      if (static_cast<unsigned char>(c) >= 0x80) {
        if (!utf8(out))
          return false;
        continue;
      }
      if (c != '\\') {
        out += c;
        ++i_;
        continue;
      }
      if (++i_ >= s_.size())
        return fail("unterminated string"), false;
      char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp;
          if (!hex4(cp))
            return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (s_.substr(i_, 2) != "\\u")
              return fail("unpaired surrogate"), false;
            i_ += 2;
            if (!hex4(lo))
              return false;
            if (lo < 0xDC00 || lo > 0xDFFF)
              return fail("unpaired surrogate"), false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("unpaired surrogate"), false;
          }
          put_utf8(out, cp);
          break;
        }
        default:
          return fail("invalid escape"), false;
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string error_;
};

}  // namespace

const Value* Value::find(std::string_view key) const noexcept {
  for (const auto& [k, v] : members) {
    if (k == key)
      return &v;
  }
  return nullptr;
}

bool Value::as_int64(std::int64_t& out) const noexcept {
  if (kind != Kind::number)
    return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

eventcrm::Result<Value, std::string> parse(std::string_view text) {
  return Parser(text).document();
}

void write_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t start = 0;  // runs of bytes that need no escaping are appended in one go
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && c != '"' && c != '\\')
      continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  out.append(s.data() + start, s.size() - start);
  out += '"';
}

void Writer::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back())
      out_ += ',';
    first_.back() = false;
  }
}
void Writer::open(char c) {
  separate();
  out_ += c;
  first_.push_back(true);
}
void Writer::close(char c) {
  out_ += c;
  first_.pop_back();
}
void Writer::key(std::string_view k) {
  separate();
  write_string(out_, k);
  out_ += ':';
  after_key_ = true;
}
void Writer::string(std::string_view s) {
  separate();
  write_string(out_, s);
}
void Writer::integer(std::int64_t v) {
  separate();
  out_ += std::to_string(v);
}
void Writer::boolean(bool b) {
  separate();
  out_ += b ? "true" : "false";
}
void Writer::null() {
  separate();
  out_ += "null";
}

}  // namespace eventcrm::domain::json
