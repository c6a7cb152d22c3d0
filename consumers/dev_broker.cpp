// librdkafka's mock cluster as a development broker.
#include "consumers/dev_broker.hpp"

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h must come after rdkafka.h.
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>

#include "consumers/kafka_handle.hpp"

namespace eventcrm::consumers {
namespace {

constexpr std::int16_t kProduceApiKey = 0;

class MockBroker final : public DevBroker {
 public:
  ~MockBroker() override {
    if (cluster_)
      rd_kafka_mock_cluster_destroy(cluster_);
  }

  Result<bool, std::string> init(int brokers) {
    brokers_ = brokers;
    std::string error;
    auto conf = detail::make_conf({}, {{"log_level", "3"}}, error);
    if (!conf)
      return unexpected(error);
    char err[512];
    rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.release(), err, sizeof err));
    if (!rk_)
      return unexpected(std::string("cannot create the mock cluster's handle: ") + err);
    cluster_ = rd_kafka_mock_cluster_new(rk_.get(), brokers);
    if (!cluster_)
      return unexpected(std::string("cannot start librdkafka's mock cluster"));
    return true;
  }

  std::string bootstrap_servers() const override {
    return rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  bool create_topic(const std::string& topic, int partitions) override {
    return rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, std::min(3, brokers_)) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  void set_broker_down(int id) override { rd_kafka_mock_broker_set_down(cluster_, id); }
  void set_broker_up(int id) override { rd_kafka_mock_broker_set_up(cluster_, id); }
  void set_broker_rtt(int id, int rtt_ms) override {
    rd_kafka_mock_broker_set_rtt(cluster_, id, rtt_ms);
  }
  void fail_next_produce_requests(int count) override {
    std::vector<rd_kafka_resp_err_t> errs(static_cast<std::size_t>(count),
                                          RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    rd_kafka_mock_push_request_errors_array(cluster_, kProduceApiKey, errs.size(), errs.data());
  }
  void set_partition_leader(const std::string& topic, int partition, int broker_id) override {
    rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), partition, broker_id);
  }

 private:
  // Declared before cluster_: the cluster is destroyed first, then its owning handle.
  detail::HandlePtr rk_;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  int brokers_ = 1;
};

}  // namespace

Result<std::unique_ptr<DevBroker>, std::string> DevBroker::start(
    int brokers, const std::vector<std::pair<std::string, int>>& topics) {
  if (brokers < 1 || brokers > 16)
    return unexpected(std::string("--brokers must be 1..16"));
  auto b = std::make_unique<MockBroker>();
  auto ok = b->init(brokers);
  if (!ok)
    return unexpected(ok.error());
  for (const auto& [name, partitions] : topics) {
    if (!b->create_topic(name, partitions)) {
      return unexpected("cannot create topic " + name);
    }
  }
  return std::unique_ptr<DevBroker>(std::move(b));
}

}  // namespace eventcrm::consumers
