// The inbound consumer loop: poll, handle, dead-letter or retry, store the offset.
#include "consumers/inbound.hpp"

#include <chrono>
#include <thread>

#include "consumers/kafka_handle.hpp"

namespace eventcrm::consumers {
namespace {

class KafkaInbound final : public InboundConsumer {
 public:
  KafkaInbound(InboundOptions o, InboundHandler h) : opts_(std::move(o)), handler_(std::move(h)) {}
  ~KafkaInbound() override { stop(); }

  Result<bool, std::string> init() {
    if (opts_.topics.empty())
      return unexpected(std::string("no inbound topics configured"));
    std::string error;
    auto cconf = detail::make_conf(opts_.kafka,
                                   {{"group.id", opts_.group_id.c_str()},
                                    {"enable.auto.offset.store", "false"},
                                    {"enable.auto.commit", "true"},
                                    {"auto.commit.interval.ms", "500"},
                                    {"auto.offset.reset", "earliest"},
                                    {"log_level", "4"}},
                                   error);
    if (!cconf)
      return unexpected(error);
    char err[512];
    consumer_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, cconf.release(), err, sizeof err));
    if (!consumer_)
      return unexpected(std::string("cannot create the Kafka consumer: ") + err);
    rd_kafka_poll_set_consumer(consumer_.get());
    auto pconf = detail::make_conf(
        opts_.kafka, {{"enable.idempotence", "true"}, {"acks", "all"}, {"log_level", "4"}}, error);
    if (!pconf)
      return unexpected(error);
    dlq_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, pconf.release(), err, sizeof err));
    if (!dlq_)
      return unexpected(std::string("cannot create the dead-letter producer: ") + err);
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(opts_.topics.size()));
    for (const auto& t : opts_.topics) {
      rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    auto rc = rd_kafka_subscribe(consumer_.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return unexpected(std::string("cannot subscribe: ") + rd_kafka_err2str(rc));
    }
    running_ = true;
    thread_ = std::thread([this] { run(); });
    return true;
  }

  InboundStatus status() const override {
    return {processed_.load(), dead_lettered_.load(), retries_.load(), running_.load()};
  }

  void stop() override {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

 private:
  static InboundMessage to_message(const rd_kafka_message_t* m) {
    InboundMessage msg;
    msg.topic = rd_kafka_topic_name(m->rkt);
    msg.partition = m->partition;
    msg.offset = m->offset;
    if (m->key)
      msg.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload)
      msg.value.assign(static_cast<const char*>(m->payload), m->len);
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name = nullptr;
      const void* v = nullptr;
      size_t n = 0;
      for (size_t i = 0;
           rd_kafka_header_get_all(hdrs, i, &name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        msg.headers.emplace_back(name, v ? std::string(static_cast<const char*>(v), n) : "");
      }
    }
    for (const auto& [k, v] : msg.headers) {
      if ((k == "ce_id" || k == "message_id") && !v.empty())
        msg.id = v;
    }
    if (msg.id.empty()) {
      msg.id = msg.topic + "/" + std::to_string(msg.partition) + "/" + std::to_string(msg.offset);
    }
    return msg;
  }

  // Produces the message to the dead-letter topic and waits for the broker's acknowledgement;
  // false if it could not be delivered (the message will be retried, never dropped).
  bool dead_letter(const InboundMessage& msg, const std::string& error) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(msg.headers.size() + 5);
    for (const auto& [k, v] : msg.headers) {
      rd_kafka_header_add(hdrs, k.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
    }
    auto add = [&](const char* k, const std::string& v) {
      rd_kafka_header_add(hdrs, k, -1, v.data(), static_cast<ssize_t>(v.size()));
    };
    add("dlq_error", error);
    add("dlq_source_topic", msg.topic);
    add("dlq_source_partition", std::to_string(msg.partition));
    add("dlq_source_offset", std::to_string(msg.offset));
    add("dlq_message_id", msg.id);
    std::string topic = msg.topic + opts_.dlq_suffix;
    auto rc = rd_kafka_producev(
        dlq_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(const_cast<char*>(msg.key.data()), msg.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(msg.value.data()), msg.value.size()),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(hdrs);
      return false;
    }
    return rd_kafka_flush(dlq_.get(), 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  }

  void store_offset(const rd_kafka_message_t* m) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset + 1;
    rd_kafka_offsets_store(consumer_.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
  }

  void rewind(const rd_kafka_message_t* m) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset;
    if (rd_kafka_error_t* e = rd_kafka_seek_partitions(consumer_.get(), list, 5000)) {
      rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(list);
  }

  void run() {
    int backoff_ms = 100;
    while (!stop_) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 100);
      rd_kafka_poll(dlq_.get(), 0);
      if (m == nullptr)
        continue;
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_message_destroy(m);  // partition EOF or a transient client error
        continue;
      }
      InboundMessage msg = to_message(m);
      HandlerResult r;
      try {
        r = handler_(msg);
      } catch (const std::exception& e) {
        r = {Outcome::rejected, std::string("handler failed: ") + e.what()};
      }
      bool move_on = r.outcome == Outcome::done;
      if (r.outcome == Outcome::rejected) {
        move_on = dead_letter(msg, r.error);
        if (move_on)
          dead_lettered_.fetch_add(1, std::memory_order_relaxed);
      }
      if (move_on) {
        store_offset(m);
        processed_.fetch_add(1, std::memory_order_relaxed);
        backoff_ms = 100;
      } else {
        retries_.fetch_add(1, std::memory_order_relaxed);
        rewind(m);
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min(backoff_ms * 2, 5000);
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_commit(consumer_.get(), nullptr, 0);  // the stored offsets, synchronously
    rd_kafka_consumer_close(consumer_.get());
    rd_kafka_flush(dlq_.get(), 5000);
    running_ = false;
  }

  InboundOptions opts_;
  InboundHandler handler_;
  detail::HandlePtr consumer_;
  detail::HandlePtr dlq_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, running_{false};
  std::atomic<std::uint64_t> processed_{0}, dead_lettered_{0}, retries_{0};
};

}  // namespace

Result<std::unique_ptr<InboundConsumer>, std::string> InboundConsumer::start(
    InboundOptions options, InboundHandler handler) {
  auto c = std::make_unique<KafkaInbound>(std::move(options), std::move(handler));
  auto ok = c->init();
  if (!ok)
    return unexpected(ok.error());
  return std::unique_ptr<InboundConsumer>(std::move(c));
}

}  // namespace eventcrm::consumers
