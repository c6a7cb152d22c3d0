// A read replica's feed: consumes the relay's topic(s) and stores every event verbatim into a
// local event store (EventStore::replicate), in log order. Kafka orders events per stream
// (partition key) only; the global positions are gap-free, so events are held until the next
// position arrives and then written in runs. Each event's hash is checked against the chain,
// so a replica holds the same tamper-evident log as its writer. The local projection workers
// then build the read models from that log exactly as on the writer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "consumers/kafka_options.hpp"
#include "consumers/relay.hpp"

namespace eventcrm::store {
class EventStore;
}

namespace eventcrm::consumers {

struct ReplicaOptions {
  KafkaOptions kafka;
  std::string topic = "crm.events";  // the relay's topic (single) or topic prefix (per-category)
  TopicMode topic_mode = TopicMode::single;
  std::size_t max_buffered = 1'000'000;  // events held waiting for an earlier position
};

struct ReplicaStatus {
  std::uint64_t head = 0;      // the local log's last position
  std::uint64_t received = 0;  // messages consumed
  std::uint64_t buffered = 0;  // waiting for an earlier position
  std::uint64_t invalid = 0;   // messages that are not relay events (skipped)
  std::string error;           // the last replication failure, empty when healthy
};

class Replica {
 public:
  // Starts consuming from the beginning of the topic(s) (events the local log has are
  // skipped). Binary content mode only (the relay's default).
  static Result<std::unique_ptr<Replica>, std::string> start(store::EventStore& store,
                                                             ReplicaOptions options);
  virtual ~Replica() = default;
  virtual ReplicaStatus status() const = 0;
  virtual void stop() = 0;
};

}  // namespace eventcrm::consumers
