// Inbound consumers: consumer-group workers that turn Kafka messages into commands. Each
// message is handed to a handler (which runs the same command the HTTP API would, with the
// message id as idempotency key); its offset is stored for commit only after the handler says
// the command is durable. A message the handler rejects goes to `<topic>.dlq` with headers
// giving the error, source topic, partition and offset; the consumer moves on.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "consumers/kafka_options.hpp"

namespace eventcrm::consumers {

struct InboundMessage {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  // A stable id for idempotency: the `ce_id` or `message_id` header when present, else
  // "<topic>/<partition>/<offset>".
  std::string id;
};

enum class Outcome : std::uint8_t {
  done,      // the command is durable (or was already applied): move on
  rejected,  // invalid message: send it to the dead-letter topic, move on
  retry,     // a transient failure: try the same message again after a backoff
};

struct HandlerResult {
  Outcome outcome = Outcome::done;
  std::string error;  // for rejected/retry: what was wrong
};

using InboundHandler = std::function<HandlerResult(const InboundMessage&)>;

struct InboundOptions {
  KafkaOptions kafka;
  std::string group_id = "eventcrm-inbound";
  std::vector<std::string> topics;
  std::string dlq_suffix = ".dlq";
};

struct InboundStatus {
  std::uint64_t processed = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t retries = 0;
  bool running = false;
};

class InboundConsumer {
 public:
  static Result<std::unique_ptr<InboundConsumer>, std::string> start(InboundOptions options,
                                                                     InboundHandler handler);
  virtual ~InboundConsumer() = default;
  virtual InboundStatus status() const = 0;
  virtual void stop() = 0;  // commits stored offsets and leaves the group
};

}  // namespace eventcrm::consumers
