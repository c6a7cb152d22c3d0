// Parsing of pass-through Kafka properties.
#include "consumers/kafka_options.hpp"

namespace eventcrm::consumers {

bool parse_property(const std::string& kv, std::pair<std::string, std::string>& out) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    return false;
  out = {kv.substr(0, eq), kv.substr(eq + 1)};
  return true;
}

}  // namespace eventcrm::consumers
