// `eventcrm dev-broker`: librdkafka's mock cluster on 127.0.0.1 for development and tests.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <thread>

#include "consumers/dev_broker.hpp"
#include "tools/commands.hpp"

namespace eventcrm::tools {
namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}
}  // namespace

void register_dev_broker(CLI::App& app) {
  struct Args {
    int brokers = 3;
    int partitions = 6;
    std::vector<std::string> topics = {"crm.events",
                                       "crm.inbound.leads",
                                       "crm.inbound.leads.dlq",
                                       "crm.inbound.campaign-responses",
                                       "crm.inbound.campaign-responses.dlq",
                                       "crm.inbound.interactions",
                                       "crm.inbound.interactions.dlq"};
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "dev-broker",
      "Run librdkafka's mock Kafka cluster on 127.0.0.1 for development (prints the bootstrap "
      "address; not for production)");
  cmd->add_option("--brokers", args->brokers, "Number of brokers")->capture_default_str();
  cmd->add_option("--partitions", args->partitions, "Partitions per topic")->capture_default_str();
  cmd->add_option("--topic", args->topics, "Topics to create (repeatable)")->capture_default_str();
  cmd->callback([args] {
    std::vector<std::pair<std::string, int>> topics;
    for (const auto& t : args->topics)
      topics.emplace_back(t, args->partitions);
    auto broker = consumers::DevBroker::start(args->brokers, topics);
    if (!broker) {
      std::fprintf(stderr, "eventcrm dev-broker: %s\n", broker.error().c_str());
      exit_code() = 2;
      return;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    // The first line is the bootstrap address, for scripts: `read -r BOOTSTRAP`.
    std::printf("%s\n", (*broker)->bootstrap_servers().c_str());
    std::fflush(stdout);
    std::fprintf(stderr,
                 "dev-broker: %d mock brokers, topics created with %d partitions; Ctrl-C stops\n",
                 args->brokers, args->partitions);
    while (!g_stop)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  });
}

}  // namespace eventcrm::tools
