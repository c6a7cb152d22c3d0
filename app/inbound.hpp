// Commands that arrive as messages (the Kafka inbound topics) instead of HTTP requests: the
// message's JSON is decoded into the same domain command the API would run, and run with the
// message id as its idempotency key, so a redelivered message writes nothing twice.
#pragma once

#include <string>
#include <string_view>

#include "app/command_runner.hpp"

namespace eventcrm::app {

enum class InboundKind : std::uint8_t {
  lead,         // crm.inbound.leads: web forms and partners → lead created
  interaction,  // crm.inbound.interactions: call center, email gateway → activity logged
  // crm.inbound.campaign-responses: email/SMS platforms → a campaign response recorded, once
  // per response id (the message id when the message has none)
  campaign_response,
};

struct InboundOutcome {
  enum class Kind : std::uint8_t {
    done,      // durable (or already applied by an earlier delivery)
    rejected,  // the message is invalid: dead-letter it
    retry,     // a transient failure (the store): try again later
  };
  Kind kind = Kind::done;
  std::string error;     // rejected/retry: what is wrong
  CommandResult result;  // done: the record, its version and the log position
};

// `message_id` must be stable across redeliveries (the producer's id, or topic/partition/
// offset); `source` names where it came from (recorded as the event's actor, e.g.
// "kafka:crm.inbound.leads").
InboundOutcome run_inbound(CommandRunner& runner, InboundKind kind, std::string_view json,
                           std::string_view message_id, std::string_view source);

}  // namespace eventcrm::app
