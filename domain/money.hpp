// Decimal amounts and money: fixed-point, never binary floating point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eventcrm::domain {

// A signed decimal with 4 fractional digits, stored as an integer count of 1/10,000.
// Range: about ±922 trillion, enough for VND amounts and quantities.
class Decimal {
 public:
  static constexpr int kScale = 4;
  static constexpr std::int64_t kUnit = 10'000;

  constexpr Decimal() = default;
  static constexpr Decimal from_units(std::int64_t units) {
    Decimal d;
    d.units_ = units;
    return d;
  }
  static constexpr Decimal from_int(std::int64_t v) { return from_units(v * kUnit); }
  // Parses "-12", "1250.00", "0.5"; at most 4 fractional digits; no exponent, no spaces.
  static std::optional<Decimal> parse(std::string_view text);

  constexpr std::int64_t units() const { return units_; }
  // Formats with exactly `decimals` fractional digits (0..4), rounding half away from zero.
  std::string to_string(int decimals = 2) const;

  // Checked arithmetic: nullopt on overflow.
  std::optional<Decimal> plus(Decimal o) const;
  std::optional<Decimal> minus(Decimal o) const;
  // this × percent / 100, rounded half away from zero (e.g. weighted pipeline amounts).
  std::optional<Decimal> percent(std::int64_t pct) const;
  // this × pct / 100 for a fractional percentage (e.g. a 7.5 % discount), rounded once.
  std::optional<Decimal> percent(Decimal pct) const;
  // this × other, rounded half away from zero to 4 digits.
  std::optional<Decimal> times(Decimal o) const;

  constexpr auto operator<=>(const Decimal&) const = default;

 private:
  std::int64_t units_ = 0;
};

struct Money {
  Decimal amount;
  std::string currency;  // ISO 4217 code, e.g. "VND"

  bool operator==(const Money&) const = default;
};

// ISO 4217 shape: three uppercase letters.
bool valid_currency(std::string_view code);

}  // namespace eventcrm::domain
