// The replica feed: Kafka → reorder by position → EventStore::replicate. See replica.hpp.
#include "consumers/replica.hpp"

#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "consumers/kafka_handle.hpp"
#include "eventstore/cloudevents.hpp"
#include "eventstore/store.hpp"

namespace eventcrm::consumers {
namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

bool parse_hash(std::string_view hex, store::Hash& out) {
  if (hex.size() != out.size() * 2)
    return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (ec != std::errc{} || p != hex.data() + 2 * i + 2)
      return false;
    out[i] = static_cast<std::uint8_t>(v);
  }
  return true;
}

// A relay message (binary content mode) back into the event it was made from.
bool to_event(const rd_kafka_message_t* m, store::RecordedEvent& e) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return false;
  bool have_id = false, have_hash = false, have_pos = false, have_ver = false, have_time = false;
  const char* name = nullptr;
  const void* v = nullptr;
  size_t n = 0;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    std::string_view key(name);
    std::string value = v ? std::string(static_cast<const char*>(v), n) : std::string();
    std::uint64_t u = 0;
    if (key == "ce_id") {
      e.id = value;
      have_id = true;
    } else if (key == "ce_type") {
      e.type = value;
    } else if (key == "ce_subject") {
      e.stream = value;
    } else if (key == "ce_time") {
      have_time = store::parse_rfc3339_ms(value, e.time_ms);
    } else if (key == "ce_position") {
      have_pos = parse_u64(value, e.position);
    } else if (key == "ce_streamversion") {
      have_ver = parse_u64(value, u);
      e.stream_version = static_cast<std::int64_t>(u);
    } else if (key == "ce_actor") {
      e.metadata.actor = value;
    } else if (key == "ce_reason") {
      e.metadata.reason = value;
    } else if (key == "ce_correlationid") {
      e.metadata.correlation_id = value;
    } else if (key == "ce_causationid") {
      e.metadata.causation_id = value;
    } else if (key == "ce_hash") {
      have_hash = parse_hash(value, e.hash);
    } else if (key.starts_with(kExtraHeaderPrefix)) {
      e.metadata.extra.emplace_back(std::string(key.substr(kExtraHeaderPrefix.size())), value);
    }
  }
  if (m->payload)
    e.data.assign(static_cast<const char*>(m->payload), m->len);
  return have_id && have_hash && have_pos && have_ver && have_time && !e.type.empty() &&
         !e.stream.empty();
}

class KafkaReplica final : public Replica {
 public:
  KafkaReplica(store::EventStore& store, ReplicaOptions o) : store_(store), opts_(std::move(o)) {}
  ~KafkaReplica() override { stop(); }

  Result<bool, std::string> init() {
    // A group of its own that never commits: every start reads the topic from the beginning
    // and skips what the local log already has.
    std::random_device rd;
    std::string group = "eventcrm-replica-" + std::to_string(rd()) + std::to_string(rd());
    std::string error;
    auto conf = detail::make_conf(opts_.kafka,
                                  {{"group.id", group.c_str()},
                                   {"enable.auto.commit", "false"},
                                   {"auto.offset.reset", "earliest"},
                                   {"log_level", "4"}},
                                  error);
    if (!conf)
      return unexpected(error);
    char err[512];
    consumer_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.release(), err, sizeof err));
    if (!consumer_)
      return unexpected(std::string("cannot create the Kafka consumer: ") + err);
    rd_kafka_poll_set_consumer(consumer_.get());
    std::string topic =
        opts_.topic_mode == TopicMode::single ? opts_.topic : "^" + opts_.topic + "\\..*";
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
    auto rc = rd_kafka_subscribe(consumer_.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR)
      return unexpected(std::string("cannot subscribe: ") + rd_kafka_err2str(rc));
    thread_ = std::thread([this] { run(); });
    return true;
  }

  ReplicaStatus status() const override {
    ReplicaStatus s;
    s.head = store_.head();
    s.received = received_.load();
    s.buffered = buffered_.load();
    s.invalid = invalid_.load();
    std::lock_guard lk(mu_);
    s.error = error_;
    return s;
  }

  void stop() override {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
    if (consumer_) {
      rd_kafka_consumer_close(consumer_.get());
      consumer_.reset();
    }
  }

 private:
  void run() {
    std::map<std::uint64_t, store::RecordedEvent> pending;
    while (!stop_) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 100);
      if (m != nullptr) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          ++received_;
          store::RecordedEvent e;
          if (!to_event(m, e)) {
            ++invalid_;
          } else if (e.position > store_.head() && pending.size() < opts_.max_buffered) {
            pending.emplace(e.position, std::move(e));
          }
        }
        rd_kafka_message_destroy(m);
      }
      flush(pending);
      buffered_ = pending.size();
    }
  }

  // Writes the run of events that continues the local log, if it has arrived.
  void flush(std::map<std::uint64_t, store::RecordedEvent>& pending) {
    while (!pending.empty()) {
      std::uint64_t next = store_.head() + 1;
      while (!pending.empty() && pending.begin()->first < next)
        pending.erase(pending.begin());
      if (pending.empty() || pending.begin()->first != next)
        return;
      std::vector<store::RecordedEvent> run;
      while (!pending.empty() && pending.begin()->first == next + run.size() && run.size() < 1000) {
        run.push_back(std::move(pending.begin()->second));
        pending.erase(pending.begin());
      }
      auto r = store_.replicate(std::move(run));
      std::lock_guard lk(mu_);
      if (!r) {
        // The same events will arrive again only on restart; stop here and say why.
        error_ =
            "replication stopped at position " + std::to_string(next) + ": " + r.error().message;
        stop_ = true;
        return;
      }
      error_.clear();
    }
  }

  store::EventStore& store_;
  ReplicaOptions opts_;
  detail::HandlePtr consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> received_{0}, buffered_{0}, invalid_{0};
  mutable std::mutex mu_;
  std::string error_;
};

}  // namespace

Result<std::unique_ptr<Replica>, std::string> Replica::start(store::EventStore& store,
                                                             ReplicaOptions options) {
  auto r = std::make_unique<KafkaReplica>(store, std::move(options));
  if (auto ok = r->init(); !ok)
    return unexpected(ok.error());
  return std::unique_ptr<Replica>(std::move(r));
}

}  // namespace eventcrm::consumers
