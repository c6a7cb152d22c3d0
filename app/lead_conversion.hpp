// Converting a qualified lead: the lead's conversion event, a new account (or a link to an
// existing one), a contact and an opportunity, appended to 3 or 4 streams in one atomic write.
#pragma once

#include <string>
#include <string_view>

#include "app/command_runner.hpp"
#include "domain/lead.hpp"

namespace eventcrm::app {

struct ConversionResult {
  CommandResult lead;  // the lead's id and version after conversion, position of the write
  std::string account_id;
  bool account_created = false;
  std::string contact_id;
  std::string opportunity_id;
};

// `options.expected_version` pins the lead's version (If-Match); without it a concurrent change
// to the lead or the linked account is resolved by deciding again (bounded).
Result<ConversionResult> convert_lead(CommandRunner& runner, std::string_view lead_id,
                                      const domain::lead::Convert& command,
                                      const CommandOptions& options);

}  // namespace eventcrm::app
