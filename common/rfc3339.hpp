// RFC 3339 UTC times with milliseconds (2026-11-25T09:15:30.123Z), written without allocating
// or printf: the event store, the Kafka relay and the domain's timestamps all format them on
// hot paths, and all the same way.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace eventcrm {

inline constexpr std::size_t kRfc3339MsMax = 40;

// Writes `unix_ms` into `out`; returns the length (24 for years 0000-9999; other years take
// printf's path and more characters).
inline std::size_t write_rfc3339_ms(std::int64_t unix_ms, char (&out)[kRfc3339MsMax]) {
  std::int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  int ms = static_cast<int>(unix_ms - secs * 1000);
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  std::int64_t sod = secs - days * 86400;
  // Civil date from days since 1970-01-01 (proleptic Gregorian, 400-year eras).
  std::int64_t z = days + 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) {
    int n = std::snprintf(out, sizeof out, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                          static_cast<long long>(year), static_cast<int>(month),
                          static_cast<int>(day), static_cast<int>(sod / 3600),
                          static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60), ms);
    return n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof out - 1);
  }
  auto put = [&out](std::size_t at, std::int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, year, 4);
  out[4] = '-';
  put(5, month, 2);
  out[7] = '-';
  put(8, day, 2);
  out[10] = 'T';
  put(11, sod / 3600, 2);
  out[13] = ':';
  put(14, sod / 60 % 60, 2);
  out[16] = ':';
  put(17, sod % 60, 2);
  out[19] = '.';
  put(20, ms, 3);
  out[23] = 'Z';
  out[24] = '\0';
  return 24;
}

}  // namespace eventcrm
