// The relay: publishes every committed event, in log order, to Kafka. Key = the stream (so one
// record's events keep their order within a partition); CloudEvents binary-mode headers (or
// structured mode). Its checkpoint advances only on delivery reports and is stored durably, so
// a restart resumes without loss; duplicates after a crash repeat the same ce_id.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "consumers/kafka_options.hpp"

namespace eventcrm::store {
class EventStore;
}

namespace eventcrm::consumers {

// Binary content mode: each free metadata key travels as a header with this prefix.
inline constexpr std::string_view kExtraHeaderPrefix = "ce_x_";

enum class TopicMode : std::uint8_t {
  single,        // every event to one topic (default "crm.events")
  per_category,  // "<prefix><category>", e.g. crm.events.opportunity
};

enum class ContentMode : std::uint8_t {
  binary,      // value = event data; CloudEvents attributes as ce_* headers
  structured,  // value = the whole CloudEvents JSON envelope
};

struct RelayOptions {
  KafkaOptions kafka;
  TopicMode topic_mode = TopicMode::single;
  std::string topic = "crm.events";  // the topic (single) or the prefix (per_category: + ".")
  ContentMode content = ContentMode::binary;
  std::string checkpoint_path;  // file holding the last acknowledged position
  std::size_t batch = 1000;     // events read from the log per step
};

struct RelayStatus {
  std::uint64_t checkpoint = 0;  // every position <= this is acknowledged by Kafka
  std::uint64_t head = 0;        // the log's head when sampled
  std::uint64_t produced = 0;    // messages handed to the producer
  std::uint64_t delivered = 0;   // delivery reports received OK
  std::uint64_t delivery_errors = 0;
  std::uint64_t rewinds = 0;  // times the relay went back to its checkpoint after an error
  double lag_seconds = 0;     // age of the oldest unacknowledged event
  bool running = false;
};

class Relay {
 public:
  static Result<std::unique_ptr<Relay>, std::string> start(store::EventStore& store,
                                                           RelayOptions options);
  virtual ~Relay() = default;
  virtual RelayStatus status() const = 0;
  // Flushes what is in flight (bounded wait), saves the checkpoint and stops. Idempotent.
  virtual void stop() = 0;
};

// Reads a checkpoint file; 0 when it does not exist.
Result<std::uint64_t, std::string> read_checkpoint(const std::string& path);

}  // namespace eventcrm::consumers
