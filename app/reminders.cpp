// The reminder scheduler's passes and thread; see reminders.hpp.
#include "app/reminders.hpp"

#include "domain/appointment.hpp"

namespace eventcrm::app {

ReminderScheduler::ReminderScheduler(CommandRunner& runner, Clock& clock, ReminderIndex& index,
                                     ReminderOptions options)
    : runner_(runner), clock_(clock), index_(index), options_(std::move(options)) {}

ReminderScheduler::~ReminderScheduler() {
  stop();
}

void ReminderScheduler::start() {
  std::lock_guard lk(mu_);
  if (thread_.joinable())
    return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void ReminderScheduler::stop() {
  std::thread t;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    t = std::move(thread_);
  }
  cv_.notify_all();
  if (t.joinable())
    t.join();
}

void ReminderScheduler::loop() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    lk.unlock();
    tick();
    lk.lock();
    cv_.wait_for(lk, options_.poll, [this] { return stopping_; });
  }
}

std::size_t ReminderScheduler::tick() {
  std::lock_guard pass(pass_mu_);
  auto due = index_.due(domain::Timestamp{clock_.now_ms()}, options_.batch);
  std::size_t appended = 0, failed = 0;
  std::string last_error;
  if (due) {
    std::unordered_map<std::string, std::int64_t> asked;
    for (const DueReminder& d : *due) {
      auto before = asked_.find(d.appointment_id);
      if (before != asked_.end() && before->second == d.version) {
        asked.emplace(d.appointment_id, d.version);
        continue;
      }
      CommandOptions o;
      o.metadata.actor = options_.actor;
      o.metadata.reason = "the reminder time has come";
      o.metadata.correlation_id = "reminder-" + d.appointment_id;
      auto r = runner_.run<domain::appointment::Aggregate>(
          d.appointment_id, domain::appointment::RecordReminder{}, o);
      if (!r) {
        ++failed;
        last_error = d.appointment_id + ": " + r.error().message;
        continue;  // asked again on the next pass
      }
      appended += r->position > 0 ? 1 : 0;
      asked.emplace(d.appointment_id, d.version);
    }
    asked_ = std::move(asked);
  }
  std::lock_guard lk(mu_);
  ++stats_.passes;
  stats_.recorded += appended;
  stats_.errors += failed;
  if (!last_error.empty())
    stats_.last_error = std::move(last_error);
  return appended;
}

ReminderStats ReminderScheduler::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

ReminderService::ReminderService(store::EventStore& store, std::unique_ptr<ReminderIndex> index,
                                 ReminderOptions options)
    : runner_(store, clock_, ids_),
      index_(std::move(index)),
      scheduler_(runner_, clock_, *index_, std::move(options)) {}

}  // namespace eventcrm::app
