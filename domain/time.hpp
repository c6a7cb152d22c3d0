// Calendar dates (YYYY-MM-DD) and instants (RFC 3339 UTC, milliseconds) as plain values.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eventcrm::domain {

// A calendar date without time zone, stored as days since 1970-01-01.
struct Date {
  std::int32_t days = 0;

  // Strict "YYYY-MM-DD" with a real calendar day (years 0001-9999).
  static std::optional<Date> parse(std::string_view text);
  static Date from_ymd(int year, unsigned month, unsigned day);
  std::string to_string() const;
  auto operator<=>(const Date&) const = default;
};

// An instant: milliseconds since the Unix epoch, UTC.
struct Timestamp {
  std::int64_t ms = 0;

  // RFC 3339: "2026-03-01T09:30:00Z", fractional seconds (up to 9 digits, kept to ms) and a
  // numeric offset ("+07:00") are accepted.
  static std::optional<Timestamp> parse(std::string_view text);
  // "2026-03-01T09:30:00.000Z"
  std::string to_string() const;
  Date date() const;  // the UTC calendar date
  Timestamp plus_minutes(std::int64_t minutes) const { return {ms + minutes * 60'000}; }
  auto operator<=>(const Timestamp&) const = default;
};

}  // namespace eventcrm::domain
