// Campaign activity at volume (R-MKT 3–4): responses and impressions appended to the campaign's
// activity stream (`campaign_activity-<id>`) without folding it and without an expected
// version — they are independent facts. A response with an `id` gets an event id derived from
// the campaign and that id, so the log itself remembers it: sent again (HTTP retry, Kafka
// redelivery) it is counted as a duplicate and written nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "app/command_runner.hpp"
#include "domain/campaign.hpp"

namespace eventcrm::app {

struct ActivityResult {
  std::size_t recorded = 0;    // events written by this call
  std::size_t duplicates = 0;  // responses whose id was already recorded (or repeated)
  std::uint64_t position = 0;  // of the last event written (0: none)
};

// The campaign must exist; every contact_id / lead_id must name an existing record (422 with
// `responses[i].contact_id` otherwise, nothing written).
Result<ActivityResult> record_activity(CommandRunner& runner, std::string_view campaign_id,
                                       const domain::campaign::ActivityCommand& command,
                                       const CommandOptions& options);

// The event id of a response with a sender's id.
std::string response_event_id(std::string_view campaign_id, std::string_view response_id);

}  // namespace eventcrm::app
