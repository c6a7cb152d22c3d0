// Raw producer loop and a timestamping consumer for the Kafka benchmarks.
#include "consumers/bench_clients.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "consumers/kafka_handle.hpp"

namespace eventcrm::consumers {
namespace {
using SteadyClock = std::chrono::steady_clock;

// Representative values of the relay's binary-mode headers.
constexpr std::pair<const char*, const char*> kHeaders[] = {
    {"ce_specversion", "1.0"},
    {"ce_id", "0193a0c4-5e1f-7a2b-8c3d-4e5f60718293"},
    {"ce_type", "bench.appended.v1"},
    {"ce_source", "/eventcrm/bench"},
    {"ce_subject", "bench-123"},
    {"ce_time", "2026-11-25T09:15:30.123Z"},
    {"ce_position", "1234567"},
    {"ce_streamversion", "1234"},
    {"ce_actor", "user-1"},
    {"ce_hash", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
    {"content-type", "application/json"},
};

void count_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    static_cast<std::atomic<std::size_t>*>(opaque)->fetch_add(1);
  }
}
}  // namespace

Result<double, std::string> raw_producer_rate(const std::string& bootstrap,
                                              const std::string& topic, std::size_t count,
                                              std::size_t size) {
  std::string error;
  KafkaOptions k;
  k.brokers = bootstrap;
  auto conf = detail::make_conf(k,
                                {{"enable.idempotence", "true"},
                                 {"acks", "all"},
                                 {"linger.ms", "5"},
                                 {"queue.buffering.max.messages", "200000"},
                                 {"log_level", "3"}},
                                error);
  if (!conf)
    return unexpected(error);
  std::atomic<std::size_t> delivered{0};
  rd_kafka_conf_set_opaque(conf.get(), &delivered);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &count_delivery);
  char err[512];
  detail::HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.release(), err, sizeof err));
  if (!rk)
    return unexpected(std::string(err));
  std::string value(size, 'x');
  // As the relay does before its first message (consumers/kafka_handle.hpp).
  detail::warm_topic_metadata(rk.get(), topic, 1000);
  auto t0 = SteadyClock::now();
  for (std::size_t i = 0; i < count;) {
    std::string key = "bench-" + std::to_string(i % 1000);
    // The same CloudEvents headers the relay sends, so both produce identical records.
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(14);
    for (const auto& [name, v] : kHeaders) {
      rd_kafka_header_add(hdrs, name, -1, v, -1);
    }
    if (rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                          RD_KAFKA_V_KEY(key.data(), key.size()),
                          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_HEADERS(hdrs),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++i;
      rd_kafka_poll(rk.get(), 0);
    } else {
      rd_kafka_headers_destroy(hdrs);
      rd_kafka_poll(rk.get(), 10);
    }
  }
  while (delivered.load() < count && SteadyClock::now() - t0 < std::chrono::seconds(300)) {
    rd_kafka_poll(rk.get(), 10);
  }
  double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  if (delivered.load() < count)
    return unexpected(std::string("raw producer timed out"));
  return static_cast<double>(count) / secs;
}

Result<LatencyRun, std::string> append_to_consume_latency(const LatencyOptions& o,
                                                          const LatencySend& send) {
  std::string error;
  KafkaOptions k;
  k.brokers = o.bootstrap;
  auto conf = detail::make_conf(k,
                                {{"group.id", "bench-latency"},
                                 {"enable.auto.commit", "false"},
                                 {"fetch.wait.max.ms", "5"},
                                 {"log_level", "3"}},
                                error);
  if (!conf)
    return unexpected(error);
  char err[512];
  detail::HandlePtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf.release(), err, sizeof err));
  if (!rk)
    return unexpected(std::string(err));
  rd_kafka_poll_set_consumer(rk.get());
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk.get(), o.topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk.get(), 0, t, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      md->topic_cnt != 1 || md->topics[0].partition_cnt == 0) {
    if (md != nullptr)
      rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return unexpected("cannot read metadata of " + o.topic);
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(16);
  for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
    rd_kafka_topic_partition_list_add(parts, o.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  rd_kafka_assign(rk.get(), parts);
  rd_kafka_topic_partition_list_destroy(parts);

  // Keyed by the header value. A record can arrive before its sender has stamped the
  // acknowledgment (the relay hears of a commit before the appender is answered), so both
  // sides are kept and matched whichever comes second.
  std::mutex mu;
  std::unordered_map<std::string, SteadyClock::time_point> acked_at, received_at;
  LatencyRun run;
  auto record = [&run](SteadyClock::time_point acked, SteadyClock::time_point received) {
    run.latencies_ms.push_back(
        std::max(0.0, std::chrono::duration<double, std::milli>(received - acked).count()));
  };
  std::atomic<bool> done{false};
  std::thread consumer([&] {
    auto stop_at = SteadyClock::time_point::max();
    while (SteadyClock::now() < stop_at) {
      if (done && stop_at == SteadyClock::time_point::max()) {
        stop_at = SteadyClock::now() + std::chrono::seconds(5);
      }
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 5);
      if (m == nullptr)
        continue;
      auto now = SteadyClock::now();
      rd_kafka_headers_t* hdrs = nullptr;
      const void* v = nullptr;
      size_t n = 0;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_header_get_last(hdrs, o.key_header.c_str(), &v, &n) ==
              RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::string key(static_cast<const char*>(v), n);
        std::lock_guard lk(mu);
        if (auto it = acked_at.find(key); it != acked_at.end()) {
          record(it->second, now);
          acked_at.erase(it);
        } else {
          received_at.emplace(std::move(key), now);
        }
      }
      rd_kafka_message_destroy(m);
      std::lock_guard lk(mu);
      if (done && acked_at.empty())
        break;
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let the assignment settle
  auto start = SteadyClock::now();
  auto total = static_cast<std::size_t>(o.rate * o.seconds);
  std::atomic<std::size_t> failures{0};
  std::vector<std::thread> senders;
  for (int s = 0; s < std::max(1, o.senders); ++s) {
    senders.emplace_back([&, s] {
      for (auto i = static_cast<std::size_t>(s); i < total;
           i += static_cast<std::size_t>(std::max(1, o.senders))) {
        auto due = start + std::chrono::microseconds(
                               static_cast<long>(1e6 * static_cast<double>(i) / o.rate));
        std::this_thread::sleep_until(due);
        auto key = send(i, static_cast<std::size_t>(s));
        auto acked = SteadyClock::now();
        if (key.empty()) {
          failures.fetch_add(1);
          continue;
        }
        std::lock_guard lk(mu);
        ++run.sent;
        if (auto it = received_at.find(key); it != received_at.end()) {
          record(acked, it->second);
          received_at.erase(it);
        } else {
          acked_at.emplace(std::move(key), acked);
        }
      }
    });
  }
  for (auto& th : senders)
    th.join();
  run.send_seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  run.failures = failures.load();
  done = true;
  consumer.join();
  rd_kafka_consumer_close(rk.get());
  return run;
}

}  // namespace eventcrm::consumers
