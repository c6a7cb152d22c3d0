// CloudEvents 1.0 JSON envelopes and RFC 3339 times for recorded events.
#include "eventstore/cloudevents.hpp"

#include <charconv>
#include <ctime>

namespace eventcrm::store {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t start = 0;  // the run of bytes that need no escaping is appended in one go
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + start, s.size() - start);
  out.push_back('"');
}

void write_hex(const Hash& h, char (&out)[64]) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t i = 0;
  for (auto b : h) {
    out[i++] = kHex[b >> 4];
    out[i++] = kHex[b & 0xf];
  }
}

std::string to_hex(const Hash& h) {
  char buf[64];
  write_hex(h, buf);
  return std::string(buf, sizeof buf);
}

std::string format_rfc3339_ms(std::int64_t unix_ms) {
  char buf[kRfc3339MsMax];
  std::size_t n = write_rfc3339_ms(unix_ms, buf);
  return std::string(buf, n);
}

namespace {
bool num(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size())
    return false;
  auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return r.ec == std::errc{} && r.ptr == s.data() + pos + len;
}
// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}
bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
}  // namespace

bool parse_rfc3339_ms(std::string_view s, std::int64_t& unix_ms) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return false;
  }
  if (!num(s, 0, 4, y) || !num(s, 5, 2, mo) || !num(s, 8, 2, d) || !num(s, 11, 2, h) ||
      !num(s, 14, 2, mi) || !num(s, 17, 2, sec)) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
    return false;
  if (d > kDays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0))
    return false;
  std::size_t i = 19;
  int ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 3)
        ms = ms * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0)
      return false;
    for (int k = digits; k < 3; ++k)
      ms *= 10;
  }
  int offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (i + 6 != s.size() || s[i + 3] != ':' || !num(s, i + 1, 2, oh) || !num(s, i + 4, 2, om) ||
        oh > 23 || om > 59) {
      return false;
    }
    offset_min = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return false;
  }
  if (i != s.size())
    return false;
  std::int64_t days = days_from_civil(y, mo, d);
  std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + (sec == 60 ? 59 : sec) -
                      static_cast<std::int64_t>(offset_min) * 60;
  unix_ms = secs * 1000 + ms;
  return true;
}

void append_cloudevent_json(std::string& out, const RecordedEvent& e) {
  out += R"({"specversion":"1.0","id":)";
  append_json_string(out, e.id);
  out += R"(,"source":)";
  auto dash = e.stream.find('-');
  append_json_string(out, "/eventcrm/" + e.stream.substr(0, dash));
  out += R"(,"type":)";
  append_json_string(out, e.type);
  out += R"(,"subject":)";
  append_json_string(out, e.stream);
  out += R"(,"time":")";
  out += format_rfc3339_ms(e.time_ms);
  out += R"(","datacontenttype":"application/json","data":)";
  out += e.data.empty() ? std::string_view("null") : std::string_view(e.data);
  out += R"(,"position":)";
  out += std::to_string(e.position);
  out += R"(,"streamversion":)";
  out += std::to_string(e.stream_version);
  auto opt = [&out](std::string_view key, const std::string& v) {
    if (v.empty())
      return;
    out += ",\"";
    out += key;
    out += "\":";
    append_json_string(out, v);
  };
  opt("actor", e.metadata.actor);
  opt("reason", e.metadata.reason);
  opt("correlationid", e.metadata.correlation_id);
  opt("causationid", e.metadata.causation_id);
  out += R"(,"hash":")";
  out += to_hex(e.hash);
  out += '"';
  if (!e.metadata.extra.empty()) {
    out += R"(,"metadata":{)";
    bool first = true;
    for (const auto& [k, v] : e.metadata.extra) {
      if (!first)
        out += ',';
      first = false;
      append_json_string(out, k);
      out += ':';
      append_json_string(out, v);
    }
    out += '}';
  }
  out += '}';
}

}  // namespace eventcrm::store
