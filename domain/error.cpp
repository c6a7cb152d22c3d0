// Names of domain error codes, for messages and logs.
#include "domain/error.hpp"

namespace eventcrm::domain {

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::not_found:
      return "not_found";
    case errc::already_exists:
      return "already_exists";
    case errc::invalid_transition:
      return "invalid_transition";
    case errc::validation:
      return "validation";
    case errc::conflict:
      return "conflict";
  }
  return "unknown";
}

}  // namespace eventcrm::domain
