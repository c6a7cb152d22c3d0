// Fixed-point decimal arithmetic for money and quantities.
#include "domain/money.hpp"

#include <cstdlib>
#include <limits>

namespace eventcrm::domain {
namespace {
// 128-bit intermediates for exact products (a GCC/clang extension).
__extension__ using i128 = __int128;
__extension__ using u128 = unsigned __int128;

std::optional<std::int64_t> mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    return std::nullopt;
  return r;
}
// Rounds n / d half away from zero (d > 0).
std::int64_t div_round(i128 n, i128 d) {
  i128 q = n / d, rem = n % d;
  if (rem < 0)
    rem = -rem;
  if (rem * 2 >= d)
    q += n < 0 ? -1 : 1;
  return static_cast<std::int64_t>(q);
}
bool fits(i128 v) {
  return v >= std::numeric_limits<std::int64_t>::min() &&
         v <= std::numeric_limits<std::int64_t>::max();
}
}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view s) {
  if (s.empty() || s.size() > 40)
    return std::nullopt;
  bool neg = false;
  std::size_t i = 0;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  std::int64_t whole = 0;
  std::size_t digits = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
    auto w = mul(whole, 10);
    if (!w || __builtin_add_overflow(*w, s[i] - '0', &whole))
      return std::nullopt;
  }
  if (digits == 0)
    return std::nullopt;
  std::int64_t frac = 0;
  int fdigits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (++fdigits > kScale)
        return std::nullopt;
      frac = frac * 10 + (s[i] - '0');
    }
    if (fdigits == 0)
      return std::nullopt;
  }
  if (i != s.size())
    return std::nullopt;
  for (int k = fdigits; k < kScale; ++k)
    frac *= 10;
  auto w = mul(whole, kUnit);
  std::int64_t units;
  if (!w || __builtin_add_overflow(*w, frac, &units))
    return std::nullopt;
  return from_units(neg ? -units : units);
}

std::string Decimal::to_string(int decimals) const {
  if (decimals < 0)
    decimals = 0;
  if (decimals > kScale)
    decimals = kScale;
  std::int64_t div = 1;
  for (int k = decimals; k < kScale; ++k)
    div *= 10;
  std::int64_t scaled = div_round(units_, div);
  bool neg = scaled < 0;
  u128 mag = neg ? -static_cast<i128>(scaled) : scaled;
  std::int64_t pow = 1;
  for (int k = 0; k < decimals; ++k)
    pow *= 10;
  auto whole = static_cast<std::uint64_t>(mag / pow);
  auto frac = static_cast<std::uint64_t>(mag % pow);
  std::string out = neg ? "-" : "";
  out += std::to_string(whole);
  if (decimals > 0) {
    std::string f = std::to_string(frac);
    out += '.';
    out.append(static_cast<std::size_t>(decimals) - f.size(), '0');
    out += f;
  }
  return out;
}

std::optional<Decimal> Decimal::plus(Decimal o) const {
  std::int64_t r;
  if (__builtin_add_overflow(units_, o.units_, &r))
    return std::nullopt;
  return from_units(r);
}

std::optional<Decimal> Decimal::minus(Decimal o) const {
  std::int64_t r;
  if (__builtin_sub_overflow(units_, o.units_, &r))
    return std::nullopt;
  return from_units(r);
}

std::optional<Decimal> Decimal::percent(std::int64_t pct) const {
  i128 n = static_cast<i128>(units_) * pct;
  auto r = static_cast<i128>(div_round(n, 100));
  if (!fits(n / 100))
    return std::nullopt;
  return from_units(static_cast<std::int64_t>(r));
}

std::optional<Decimal> Decimal::percent(Decimal pct) const {
  i128 n = static_cast<i128>(units_) * pct.units_;
  if (!fits(n / (kUnit * 100)))
    return std::nullopt;
  return from_units(div_round(n, static_cast<i128>(kUnit) * 100));
}

std::optional<Decimal> Decimal::times(Decimal o) const {
  i128 n = static_cast<i128>(units_) * o.units_;
  if (!fits(n / kUnit))
    return std::nullopt;
  return from_units(div_round(n, kUnit));
}

bool valid_currency(std::string_view code) {
  if (code.size() != 3)
    return false;
  for (char c : code) {
    if (c < 'A' || c > 'Z')
      return false;
  }
  return true;
}

}  // namespace eventcrm::domain
