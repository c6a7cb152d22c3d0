// Accepting a sent quote: the quote's acceptance and the order it becomes, appended to both
// streams in one atomic write.
#pragma once

#include <string>
#include <string_view>

#include "app/command_runner.hpp"

namespace eventcrm::app {

struct AcceptanceResult {
  CommandResult quote;  // the quote's id and version after acceptance, position of the write
  std::string order_id;
};

// `options.expected_version` pins the quote's version (If-Match); without it a concurrent change
// to the quote is resolved by deciding again (bounded). With an idempotency key the same key
// answers the first acceptance again, naming the same order.
Result<AcceptanceResult> accept_quote(CommandRunner& runner, std::string_view quote_id,
                                      const CommandOptions& options);

}  // namespace eventcrm::app
