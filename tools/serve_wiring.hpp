// The composition root of `eventcrm serve`: what runs beside the HTTP server once the store is
// open (projection workers, the Kafka relay), handed to the server as its extensions.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/server.hpp"
#include "consumers/inbound.hpp"
#include "consumers/relay.hpp"
#include "consumers/replica.hpp"

namespace eventcrm::tools {

struct Wiring {
  std::string data_dir;
  bool projections = true;
  bool relay = false;  // on when Kafka brokers are configured
  consumers::RelayOptions relay_options;
  // Inbound topics → commands (app::run_inbound); on with --kafka-inbound and brokers set.
  bool inbound = false;
  std::string inbound_leads_topic = "crm.inbound.leads";
  std::string inbound_interactions_topic = "crm.inbound.interactions";
  std::string inbound_responses_topic = "crm.inbound.campaign-responses";
  std::string inbound_group = "eventcrm-inbound";
  // A read replica: the local log is fed from the relay's topic (consumers::Replica), nothing
  // else writes to it (no relay, inbound consumers or reminders here), commands answer 421.
  bool replica = false;
  std::uint64_t ready_max_lag = 100'000;  // /readyz: projections at most this far behind
};

std::function<std::unique_ptr<api::Extensions>(store::EventStore&, std::string&)> make_extensions(
    Wiring wiring);

}  // namespace eventcrm::tools
