// Date and timestamp parsing and formatting on top of std::chrono's calendar.
#include "domain/time.hpp"

#include <chrono>
#include <string_view>

#include "common/rfc3339.hpp"

namespace eventcrm::domain {
namespace {
using namespace std::chrono;

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size())
    return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

std::optional<sys_days> parse_ymd(std::string_view s) {
  int y, m, d;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-')
    return std::nullopt;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, m) || !digits(s, 8, 2, d))
    return std::nullopt;
  if (y < 1)
    return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok())
    return std::nullopt;
  return sys_days{ymd};
}

}  // namespace

std::optional<Date> Date::parse(std::string_view text) {
  if (text.size() != 10)
    return std::nullopt;
  auto d = parse_ymd(text);
  if (!d)
    return std::nullopt;
  return Date{static_cast<std::int32_t>(d->time_since_epoch().count())};
}

Date Date::from_ymd(int y, unsigned m, unsigned d) {
  sys_days days{year_month_day{year{y}, month{m}, day{d}}};
  return Date{static_cast<std::int32_t>(days.time_since_epoch().count())};
}

std::string Date::to_string() const {
  char buf[kRfc3339MsMax];
  std::string_view t(buf, write_rfc3339_ms(std::int64_t{days} * 86'400'000, buf));
  return std::string(t.substr(0, t.find('T')));
}

std::optional<Timestamp> Timestamp::parse(std::string_view s) {
  auto day = parse_ymd(s);
  if (!day || s.size() < 20 || (s[10] != 'T' && s[10] != 't'))
    return std::nullopt;
  int hh, mm, ss;
  if (!digits(s, 11, 2, hh) || s[13] != ':' || !digits(s, 14, 2, mm) || s[16] != ':' ||
      !digits(s, 17, 2, ss)) {
    return std::nullopt;
  }
  if (hh > 23 || mm > 59 || ss > 59)
    return std::nullopt;
  std::size_t i = 19;
  std::int64_t millis = 0;
  if (s[i] == '.') {
    ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (i - start < 3)
        millis = millis * 10 + (s[i] - '0');
      ++i;
    }
    std::size_t n = i - start;
    if (n == 0 || n > 9)
      return std::nullopt;
    for (std::size_t k = n; k < 3; ++k)
      millis *= 10;
  }
  std::int64_t offset_min = 0;
  if (i >= s.size())
    return std::nullopt;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh, om;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size())
    return std::nullopt;
  std::int64_t secs =
      day->time_since_epoch().count() * 86'400LL + hh * 3600 + mm * 60 + ss - offset_min * 60;
  return Timestamp{secs * 1000 + millis};
}

std::string Timestamp::to_string() const {
  char buf[kRfc3339MsMax];
  return std::string(buf, write_rfc3339_ms(ms, buf));
}

Date Timestamp::date() const {
  sys_time<milliseconds> t{milliseconds{ms}};
  return Date{static_cast<std::int32_t>(floor<std::chrono::days>(t).time_since_epoch().count())};
}

}  // namespace eventcrm::domain
