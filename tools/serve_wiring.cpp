// Starts the projection runtime and the relay for `eventcrm serve`, and reports on them.
#include "tools/serve_wiring.hpp"

#include <filesystem>
#include <mutex>

#include "app/command_runner.hpp"
#include "app/inbound.hpp"
#include "app/reminders.hpp"
#include "app/tracking.hpp"
#include "eventstore/cloudevents.hpp"
#include "projections/appointments.hpp"
#include "projections/registry.hpp"
#include "projections/runtime.hpp"

namespace eventcrm::tools {
namespace {

class ServeExtensions final : public api::Extensions {
 public:
  ServeExtensions(Wiring w) : w_(std::move(w)) {}
  ~ServeExtensions() override { stop(); }

  bool start(store::EventStore& store, std::string& error) {
    if (w_.projections) {
      projections::RuntimeOptions ro;
      ro.path = projections::readmodels_path(w_.data_dir);
      auto rt = projections::Runtime::open(store, ro);
      if (!rt) {
        error = "cannot open the read models: " + rt.error().message;
        return false;
      }
      runtime_ = std::move(*rt);
      for (auto& p : projections::all_projections()) {
        if (auto added = runtime_->add(std::move(p)); !added) {
          error = added.error().message;
          return false;
        }
      }
      runtime_->start();
      if (!w_.replica) {
        // Appointment reminders, found through the appointments read model.
        reminders_ = std::make_unique<app::ReminderService>(
            store, projections::make_reminder_index(*runtime_));
        reminders_->start();
      }
    }
    if (!w_.replica) {
      // Tracking links: the code map loaded from the log before the server listens.
      auto t = app::Tracking::start(store, clock_, ids_);
      if (!t) {
        error = "cannot load the tracking links: " + t.error().message;
        return false;
      }
      tracking_ = std::move(*t);
    }
    if (w_.replica) {
      consumers::ReplicaOptions ro;
      ro.kafka = w_.relay_options.kafka;
      ro.topic = w_.relay_options.topic;
      ro.topic_mode = w_.relay_options.topic_mode;
      auto r = consumers::Replica::start(store, ro);
      if (!r) {
        error = "cannot start the replica feed: " + r.error();
        return false;
      }
      replica_ = std::move(*r);
      return true;
    }
    if (w_.relay) {
      if (w_.relay_options.checkpoint_path.empty()) {
        w_.relay_options.checkpoint_path =
            (std::filesystem::path(w_.data_dir) / "relay.checkpoint").string();
      }
      auto r = consumers::Relay::start(store, w_.relay_options);
      if (!r) {
        error = "cannot start the Kafka relay: " + r.error();
        return false;
      }
      relay_ = std::move(*r);
    }
    if (w_.inbound && !start_inbound(store, error))
      return false;
    return true;
  }

  // Each inbound message runs the command the API would, keyed by the message id; a rejected
  // one goes to the topic's dead-letter topic, a store failure is retried.
  bool start_inbound(store::EventStore& store, std::string& error) {
    runner_ = std::make_unique<app::CommandRunner>(store, clock_, ids_);
    consumers::InboundOptions io;
    io.kafka = w_.relay_options.kafka;
    io.group_id = w_.inbound_group;
    io.topics = {w_.inbound_leads_topic, w_.inbound_interactions_topic, w_.inbound_responses_topic};
    auto handler = [this](const consumers::InboundMessage& m) -> consumers::HandlerResult {
      app::InboundKind kind = m.topic == w_.inbound_leads_topic ? app::InboundKind::lead
                              : m.topic == w_.inbound_responses_topic
                                  ? app::InboundKind::campaign_response
                                  : app::InboundKind::interaction;
      auto out = app::run_inbound(*runner_, kind, m.value, m.id, "kafka:" + m.topic);
      switch (out.kind) {
        case app::InboundOutcome::Kind::done:
          return {consumers::Outcome::done, {}};
        case app::InboundOutcome::Kind::rejected:
          return {consumers::Outcome::rejected, out.error};
        case app::InboundOutcome::Kind::retry:
          return {consumers::Outcome::retry, out.error};
      }
      return {consumers::Outcome::retry, "unknown outcome"};
    };
    auto c = consumers::InboundConsumer::start(io, handler);
    if (!c) {
      error = "cannot start the inbound consumers: " + c.error();
      return false;
    }
    inbound_ = std::move(*c);
    return true;
  }

  projections::Runtime* projections() override { return runtime_.get(); }
  app::Tracking* tracking() override { return tracking_.get(); }

  void metrics(std::string& out) override {
    if (tracking_) {
      auto s = tracking_->status();
      out +=
          "# HELP eventcrm_tracking_clicks_total Tracking-link clicks by outcome (appended to the "
          "log, dropped, still buffered).\n"
          "# TYPE eventcrm_tracking_clicks_total counter\n"
          "eventcrm_tracking_clicks_total{outcome=\"appended\"} " +
          std::to_string(s.clicks_appended) +
          "\neventcrm_tracking_clicks_total{outcome=\"dropped\"} " +
          std::to_string(s.clicks_dropped) +
          "\n# HELP eventcrm_tracking_clicks_pending Clicks buffered, not yet in the log.\n"
          "# TYPE eventcrm_tracking_clicks_pending gauge\n"
          "eventcrm_tracking_clicks_pending " +
          std::to_string(s.pending) + "\n";
    }
    if (replica_) {
      auto s = replica_->status();
      out +=
          "# HELP eventcrm_replica_received_total Relay messages consumed by this replica.\n"
          "# TYPE eventcrm_replica_received_total counter\n"
          "eventcrm_replica_received_total " +
          std::to_string(s.received) +
          "\n# HELP eventcrm_replica_buffered_events Events held for an earlier position.\n"
          "# TYPE eventcrm_replica_buffered_events gauge\n"
          "eventcrm_replica_buffered_events " +
          std::to_string(s.buffered) + "\n";
    }
    if (inbound_) {
      auto s = inbound_->status();
      out +=
          "# HELP eventcrm_inbound_processed_total Inbound messages turned into commands.\n"
          "# TYPE eventcrm_inbound_processed_total counter\n"
          "eventcrm_inbound_processed_total " +
          std::to_string(s.processed) +
          "\n# HELP eventcrm_inbound_dead_lettered_total Inbound messages sent to a "
          "dead-letter topic.\n"
          "# TYPE eventcrm_inbound_dead_lettered_total counter\n"
          "eventcrm_inbound_dead_lettered_total " +
          std::to_string(s.dead_lettered) +
          "\n# HELP eventcrm_inbound_retries_total Inbound messages retried after a transient "
          "failure.\n"
          "# TYPE eventcrm_inbound_retries_total counter\n"
          "eventcrm_inbound_retries_total " +
          std::to_string(s.retries) + "\n";
    }
    if (!relay_)
      return;
    auto s = relay_->status();
    auto metric = [&out](const char* name, const char* type, const char* help,
                         const std::string& value) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
             name + " " + value + "\n";
    };
    metric("eventcrm_relay_checkpoint", "gauge",
           "Last log position acknowledged by Kafka (all before it are too).",
           std::to_string(s.checkpoint));
    metric("eventcrm_relay_lag_events", "gauge", "Log positions not yet acknowledged by Kafka.",
           std::to_string(s.head - std::min(s.head, s.checkpoint)));
    metric("eventcrm_relay_lag_seconds", "gauge", "Age of the oldest unacknowledged event.",
           std::to_string(s.lag_seconds));
    metric("eventcrm_relay_delivered_total", "counter", "Messages acknowledged by Kafka.",
           std::to_string(s.delivered));
    metric("eventcrm_relay_delivery_errors_total", "counter",
           "Failed deliveries (the relay resends from its checkpoint).",
           std::to_string(s.delivery_errors));
  }

  std::string not_ready_reason() override {
    if (replica_) {
      auto s = replica_->status();
      if (!s.error.empty())
        return s.error;
    }
    if (!runtime_)
      return {};
    for (const auto& s : runtime_->status()) {
      if (s.serving_version == 0)
        return "projection " + s.name + " is still building its first read model";
      if (s.state != projections::State::failed && s.lag_events > w_.ready_max_lag)
        return "projection " + s.name + " is " + std::to_string(s.lag_events) +
               " events behind the log";
    }
    return {};
  }

  std::string readiness_detail() override {
    std::string out;
    if (replica_) {
      auto s = replica_->status();
      out += "\"replica\":{\"head\":" + std::to_string(s.head) +
             ",\"buffered\":" + std::to_string(s.buffered) +
             ",\"invalid\":" + std::to_string(s.invalid) + "},";
    }
    if (runtime_) {
      std::size_t failed = 0;
      std::uint64_t max_lag = 0;
      for (const auto& s : runtime_->status()) {
        failed += s.state == projections::State::failed;
        max_lag = std::max(max_lag, s.lag_events);
      }
      out += "\"projections\":{\"max_lag_events\":" + std::to_string(max_lag) +
             ",\"failed\":" + std::to_string(failed) + "}";
    }
    if (relay_) {
      auto s = relay_->status();
      if (!out.empty())
        out += ",";
      out += "\"relay\":{\"checkpoint\":" + std::to_string(s.checkpoint) +
             ",\"lag_events\":" + std::to_string(s.head - std::min(s.head, s.checkpoint)) +
             ",\"lag_seconds\":" + std::to_string(s.lag_seconds) + "}";
    }
    if (!out.empty() && out.back() == ',')
      out.pop_back();
    return out;
  }

  void stop() override {
    std::lock_guard lk(mu_);
    if (reminders_)
      reminders_->stop();
    if (tracking_)
      tracking_->stop();  // appends the clicks still buffered
    if (relay_)
      relay_->stop();
    if (runtime_)
      runtime_->stop();
  }

 private:
  Wiring w_;
  std::mutex mu_;
  std::unique_ptr<projections::Runtime> runtime_;
  std::unique_ptr<consumers::Relay> relay_;
  std::unique_ptr<app::ReminderService> reminders_;  // stopped before the runtime it reads
  SystemClock clock_;
  app::RandomIdGenerator ids_;
  std::unique_ptr<app::CommandRunner> runner_;  // the inbound consumers' commands
  std::unique_ptr<consumers::InboundConsumer> inbound_;
  std::unique_ptr<consumers::Replica> replica_;
  std::unique_ptr<app::Tracking> tracking_;
};

}  // namespace

std::function<std::unique_ptr<api::Extensions>(store::EventStore&, std::string&)> make_extensions(
    Wiring wiring) {
  return
      [wiring](store::EventStore& store, std::string& error) -> std::unique_ptr<api::Extensions> {
        auto ext = std::make_unique<ServeExtensions>(wiring);
        if (!ext->start(store, error))
          return nullptr;
        return ext;
      };
}

}  // namespace eventcrm::tools
