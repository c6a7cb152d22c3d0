// Shared pieces of the event codecs.
#include "domain/codec.hpp"

namespace eventcrm::domain::codec {

std::string decimal_text(Decimal d) {
  std::string s = d.to_string(Decimal::kScale);
  // Trim to 2 fractional digits unless the 3rd/4th carry value: exact round trips.
  while (s.size() >= 3 && s.back() == '0' && s[s.size() - 3] != '.')
    s.pop_back();
  return s;
}

}  // namespace eventcrm::domain::codec
