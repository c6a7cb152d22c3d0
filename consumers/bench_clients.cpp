// Raw producer loop and a timestamping consumer for the Kafka benchmarks.
#include "consumers/bench_clients.hpp"

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

Result<LatencyRun, std::string> append_to_consume_latency(
    const std::string& bootstrap, const std::string& topic, int rate, double seconds,
    const std::function<std::string(std::size_t)>& send) {
  std::string error;
  KafkaOptions k;
  k.brokers = bootstrap;
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
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk.get(), 0, t, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      md->topic_cnt != 1) {
    rd_kafka_topic_destroy(t);
    return unexpected("cannot read metadata of " + topic);
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(16);
  for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  rd_kafka_assign(rk.get(), parts);
  rd_kafka_topic_partition_list_destroy(parts);

  std::mutex mu;
  std::unordered_map<std::string, SteadyClock::time_point> sent_at;
  LatencyRun run;
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
          rd_kafka_header_get_last(hdrs, "ce_id", &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::string id(static_cast<const char*>(v), n);
        std::lock_guard lk(mu);
        if (auto it = sent_at.find(id); it != sent_at.end()) {
          run.latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(now - it->second).count());
          sent_at.erase(it);
        }
      }
      rd_kafka_message_destroy(m);
      std::lock_guard lk(mu);
      if (done && sent_at.empty())
        break;
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let the assignment settle
  auto start = SteadyClock::now();
  auto total = static_cast<std::size_t>(rate * seconds);
  for (std::size_t i = 0; i < total; ++i) {
    auto due =
        start + std::chrono::microseconds(static_cast<long>(1e6 * static_cast<double>(i) / rate));
    std::this_thread::sleep_until(due);
    auto before = SteadyClock::now();
    auto id = send(i);
    if (id.empty())
      continue;
    std::lock_guard lk(mu);
    sent_at.emplace(std::move(id), before);
    ++run.sent;
  }
  done = true;
  consumer.join();
  rd_kafka_consumer_close(rk.get());
  return run;
}

}  // namespace eventcrm::consumers
