// `eventcrm bench relay`: relay throughput (log → acknowledged in Kafka) beside a raw
// librdkafka producer loop with the same settings and message size, both against the mock
// cluster in this process; plus append-to-consumer latency at a paced command rate.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>

#include "consumers/bench_clients.hpp"
#include "consumers/dev_broker.hpp"
#include "consumers/relay.hpp"
#include "eventstore/store.hpp"
#include "tools/bench_client.hpp"
#include "tools/commands.hpp"

namespace eventcrm::tools {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Args {
  std::size_t events = 200'000;
  std::size_t event_size = 400;
  int brokers = 3;
  int rate = 5'000;
  double latency_seconds = 5;
  int rounds = 3;
  bool json = false;
};

std::string payload(std::size_t size, std::size_t i) {
  std::string s = "{\"i\":" + std::to_string(i) + ",\"pad\":\"";
  if (s.size() + 2 < size)
    s.append(size - s.size() - 2, 'x');
  s += "\"}";
  return s;
}

int run(const Args& a) {
  auto broker = consumers::DevBroker::start(a.brokers, {{"crm.events", 6}, {"bench.raw", 6}});
  if (!broker) {
    std::fprintf(stderr, "bench relay: %s\n", broker.error().c_str());
    return 2;
  }
  const std::string bootstrap = (*broker)->bootstrap_servers();
  auto dir = std::filesystem::temp_directory_path() /
             ("eventcrm-bench-relay-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  store::Options so;
  so.path = (dir / "store").string();
  so.durability = store::Durability::relaxed;  // the log is not what is measured here
  auto opened = store::EventStore::open(so);
  if (!opened) {
    std::fprintf(stderr, "bench relay: %s\n", opened.error().message.c_str());
    return 2;
  }
  auto& st = **opened;

  // Fill the log once; each round times the anchor, then the relay from position 0.
  std::vector<store::NewEvent> batch;
  for (std::size_t i = 0; i < a.events; ++i) {
    batch.push_back({"", "bench.appended.v1", payload(a.event_size, i), {}});
    if (batch.size() == 1000 || i + 1 == a.events) {
      auto r = st.append("bench-" + std::to_string(i % 1000), store::ExpectedVersion::any(),
                         std::move(batch));
      if (!r) {
        std::fprintf(stderr, "bench relay: %s\n", r.error().message.c_str());
        return 2;
      }
      batch.clear();
    }
  }
  std::vector<double> raw_rates, relay_rates;
  for (int round = 0; round < a.rounds; ++round) {
    const std::string suffix = std::to_string(round);
    // Anchor: a raw producer loop, same settings, identical records (value + headers).
    (*broker)->create_topic("bench.raw." + suffix, 6);
    auto raw =
        consumers::raw_producer_rate(bootstrap, "bench.raw." + suffix, a.events, a.event_size);
    if (!raw) {
      std::fprintf(stderr, "bench relay: %s\n", raw.error().c_str());
      return 2;
    }
    raw_rates.push_back(*raw);
    (*broker)->create_topic("bench.relay." + suffix, 6);
    consumers::RelayOptions ro;
    ro.kafka.brokers = bootstrap;
    ro.topic = "bench.relay." + suffix;
    ro.checkpoint_path = (dir / ("relay.checkpoint." + suffix)).string();
    auto t0 = SteadyClock::now();
    auto relay = consumers::Relay::start(st, ro);
    if (!relay) {
      std::fprintf(stderr, "bench relay: %s\n", relay.error().c_str());
      return 2;
    }
    while ((*relay)->status().checkpoint < a.events) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    relay_rates.push_back(static_cast<double>(a.events) /
                          std::chrono::duration<double>(SteadyClock::now() - t0).count());
    (*relay)->stop();
    if (!a.json) {
      std::fprintf(stderr, "round %d: relay %.0f/s, raw producer %.0f/s\n", round + 1,
                   relay_rates.back(), raw_rates.back());
    }
  }
  double relay_rate = percentile(relay_rates, 0.5);
  double raw_rate = percentile(raw_rates, 0.5);

  consumers::RelayOptions ro;
  ro.kafka.brokers = bootstrap;
  ro.checkpoint_path = (dir / "relay.checkpoint").string();
  auto relay = consumers::Relay::start(st, ro);
  if (!relay) {
    std::fprintf(stderr, "bench relay: %s\n", relay.error().c_str());
    return 2;
  }
  while ((*relay)->status().checkpoint < a.events) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  // Latency: appends paced at `rate`/s; a consumer stamps each receipt.
  consumers::LatencyOptions lo;
  lo.bootstrap = bootstrap;
  lo.topic = "crm.events";
  lo.rate = a.rate;
  lo.seconds = a.latency_seconds;
  auto lat = consumers::append_to_consume_latency(lo, [&](std::size_t i, std::size_t /*sender*/) {
    std::vector<store::NewEvent> one{{"", "bench.appended.v1", payload(a.event_size, i), {}}};
    auto r =
        st.append("lat-" + std::to_string(i % 100), store::ExpectedVersion::any(), std::move(one));
    return r ? r->event_ids.front() : std::string();
  });
  (*relay)->stop();
  st.close();
  std::filesystem::remove_all(dir);
  if (!lat) {
    std::fprintf(stderr, "bench relay: %s\n", lat.error().c_str());
    return 2;
  }
  double p50 = percentile(lat->latencies_ms, 0.50), p99 = percentile(lat->latencies_ms, 0.99);
  double ratio = relay_rate / raw_rate;
  if (a.json) {
    std::printf(
        "{\"relay_events_per_sec\":%.0f,\"raw_producer_per_sec\":%.0f,\"ratio_vs_raw\":%.3f,"
        "\"e2e_p50_ms\":%.2f,\"e2e_p99_ms\":%.2f,\"e2e_rate\":%d,\"e2e_received\":%zu,"
        "\"e2e_sent\":%zu}\n",
        relay_rate, raw_rate, ratio, p50, p99, a.rate, lat->latencies_ms.size(), lat->sent);
  } else {
    std::printf("relay (median): %10.0f events/s (log -> acknowledged by Kafka)\n", relay_rate);
    std::printf("raw producer:   %10.0f msgs/s   (librdkafka loop, same settings and records)\n",
                raw_rate);
    std::printf("ratio:          %10.3f\n", ratio);
    std::printf("append->consume at %d/s: p50 %.2f ms, p99 %.2f ms (%zu of %zu received)\n", a.rate,
                p50, p99, lat->latencies_ms.size(), lat->sent);
  }
  return 0;
}

// `bench relay-latency`: HTTP command acknowledged (201) → the record read from Kafka, against
// a running `eventcrm serve --kafka-brokers` on 127.0.0.1 (tools/bench/relay.sh starts both).
struct HttpLatencyArgs {
  int port = 0;
  std::string bootstrap;
  std::string topic = "crm.events";
  int rate = 5'000;
  double seconds = 5;
  int connections = 32;
  std::string api_key;
  bool json = false;
};

int run_http_latency(const HttpLatencyArgs& a) {
  if (a.bootstrap.rfind("127.0.0.1:", 0) != 0) {
    std::fprintf(stderr, "bench relay-latency: --bootstrap must be on 127.0.0.1\n");
    return 2;
  }
  std::string authorization = a.api_key.empty() ? std::string() : "Bearer " + a.api_key;
  std::vector<std::unique_ptr<BenchConnection>> conns;
  for (int c = 0; c < a.connections; ++c) {
    conns.push_back(std::make_unique<BenchConnection>(a.port, authorization));
    if (!conns.back()->ok()) {
      std::fprintf(stderr, "bench relay-latency: cannot connect to 127.0.0.1:%d\n", a.port);
      return 2;
    }
  }
  const std::string run_id = std::to_string(::getpid());
  std::atomic<int> bad_status{0};
  consumers::LatencyOptions lo;
  lo.bootstrap = a.bootstrap;
  lo.topic = a.topic;
  lo.key_header = "ce_position";
  lo.rate = a.rate;
  lo.seconds = a.seconds;
  lo.senders = a.connections;
  // A domain command per send: an account created through the API; its answer's position is
  // the ce_position of the record the relay publishes.
  auto lat = consumers::append_to_consume_latency(lo, [&](std::size_t i, std::size_t sender) {
    std::string body;
    int status = conns[sender]->post(
        "/v1/accounts",
        R"({"name":"Latency )" + run_id + " " + std::to_string(i) + R"(","industry":"bench"})",
        body);
    if (status != 201) {
      if (bad_status.exchange(status) == 0)
        std::fprintf(stderr, "bench relay-latency: status %d: %s\n", status, body.c_str());
      return std::string();
    }
    auto at = body.find("\"position\":");
    if (at == std::string::npos)
      return std::string();
    return std::to_string(std::strtoull(body.c_str() + at + 11, nullptr, 10));
  });
  if (!lat) {
    std::fprintf(stderr, "bench relay-latency: %s\n", lat.error().c_str());
    return 2;
  }
  double p50 = percentile(lat->latencies_ms, 0.50), p99 = percentile(lat->latencies_ms, 0.99);
  double achieved = lat->send_seconds > 0 ? static_cast<double>(lat->sent) / lat->send_seconds : 0;
  if (a.json) {
    std::printf(
        "{\"rate\":%d,\"achieved_rate\":%.0f,\"sent\":%zu,\"failures\":%zu,\"received\":%zu,"
        "\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
        a.rate, achieved, lat->sent, lat->failures, lat->latencies_ms.size(), p50, p99);
  } else {
    std::printf("HTTP 201 -> Kafka consumer at %d commands/s (achieved %.0f/s, %d connections):\n",
                a.rate, achieved, a.connections);
    std::printf("  p50 %.2f ms, p99 %.2f ms (%zu of %zu received, %zu failed sends)\n", p50, p99,
                lat->latencies_ms.size(), lat->sent, lat->failures);
  }
  return lat->latencies_ms.size() == lat->sent && lat->failures == 0 ? 0 : 1;
}

}  // namespace

void register_bench_relay(CLI::App& bench) {
  auto http = std::make_shared<HttpLatencyArgs>();
  auto* lat = bench.add_subcommand(
      "relay-latency",
      "HTTP command 201 -> Kafka consumer receipt, against a running `eventcrm serve "
      "--kafka-brokers` on 127.0.0.1");
  lat->add_option("--port", http->port, "The server's port on 127.0.0.1")->required();
  lat->add_option("--bootstrap", http->bootstrap, "The broker the server relays to (127.0.0.1)")
      ->required();
  lat->add_option("--topic", http->topic, "The relay's topic")->capture_default_str();
  lat->add_option("--rate", http->rate, "Commands per second")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  lat->add_option("--seconds", http->seconds, "How long to send")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  lat->add_option("--connections", http->connections, "Keep-alive connections sending")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  lat->add_option("--api-key", http->api_key,
                  "API key (default: $EVENTCRM_API_KEY, else $EVENTCRM_BOOTSTRAP_ADMIN_KEY)");
  lat->add_flag("--json", http->json, "Print one JSON line");
  lat->callback([http] {
    default_api_key(http->api_key);
    exit_code() = run_http_latency(*http);
  });

  auto args = std::make_shared<Args>();
  auto* cmd = bench.add_subcommand(
      "relay",
      "Kafka relay throughput vs a raw producer, and append-to-consumer latency "
      "(librdkafka mock cluster)");
  cmd->add_option("--events", args->events, "Events to relay")->capture_default_str();
  cmd->add_option("--event-size", args->event_size, "Bytes per event")->capture_default_str();
  cmd->add_option("--brokers", args->brokers, "Mock brokers")->capture_default_str();
  cmd->add_option("--rate", args->rate, "Appends per second for the latency run")
      ->capture_default_str();
  cmd->add_option("--latency-seconds", args->latency_seconds, "Length of the latency run")
      ->capture_default_str();
  cmd->add_option("--rounds", args->rounds, "Rounds (medians are reported)")->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON line");
  cmd->callback([args] { exit_code() = run(*args); });
}

}  // namespace eventcrm::tools
