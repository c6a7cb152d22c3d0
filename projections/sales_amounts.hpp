// Exact sums of money amounts for the sales reports: 128-bit counts of 1/10,000 (Decimal's
// scale), so adding any number of Decimal amounts never overflows, stored as 16 big-endian bytes
// and shown as decimal text the way the API shows Decimal ("1250.00", up to 4 digits).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/money.hpp"
#include "projections/bytes.hpp"

namespace eventcrm::projections::amounts {

__extension__ using Units = __int128;
__extension__ using UnsignedUnits = unsigned __int128;

inline Units units(domain::Decimal d) {
  return static_cast<Units>(d.units());
}

inline void put(std::string& out, Units v) {
  auto u = static_cast<UnsignedUnits>(v);
  bytes::put_be64(out, static_cast<std::uint64_t>(u >> 64));
  bytes::put_be64(out, static_cast<std::uint64_t>(u));
}

// Reads 16 bytes from the front of `in`; false when there are fewer.
inline bool get(std::string_view& in, Units& v) {
  if (in.size() < 16)
    return false;
  UnsignedUnits u = (static_cast<UnsignedUnits>(bytes::get_be64(in)) << 64) |
                    static_cast<UnsignedUnits>(bytes::get_be64(in.substr(8)));
  v = static_cast<Units>(u);
  in.remove_prefix(16);
  return true;
}

// "1250.00": at least 2 fractional digits, up to 4 when they carry value.
inline std::string text(Units v) {
  const bool negative = v < 0;
  UnsignedUnits u =
      negative ? static_cast<UnsignedUnits>(-(v + 1)) + 1 : static_cast<UnsignedUnits>(v);
  const auto scale = static_cast<UnsignedUnits>(domain::Decimal::kUnit);
  UnsignedUnits whole = u / scale;
  auto frac = static_cast<unsigned>(u % scale);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(whole % 10)));
    whole /= 10;
  } while (whole != 0);
  std::reverse(digits.begin(), digits.end());
  std::string f = std::to_string(frac + 10'000).substr(1);  // 4 digits with leading zeros
  while (f.size() > 2 && f.back() == '0')
    f.pop_back();
  return (negative ? "-" : "") + digits + "." + f;
}

// `sum / count` rounded half away from zero to Decimal's scale, as text ("0.00" for no count).
inline std::string average(Units sum, std::uint64_t count) {
  if (count == 0)
    return "0.00";
  const auto n = static_cast<Units>(count);
  Units q = sum / n, r = sum % n;
  if (r < 0)
    r = -r;
  if (r * 2 >= n)
    q += sum < 0 ? -1 : 1;
  return text(q);
}

}  // namespace eventcrm::projections::amounts
