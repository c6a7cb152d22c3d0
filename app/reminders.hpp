// The appointment reminder scheduler: appends appointment.reminder_due.v1 for each appointment
// whose reminder time has come. Exactly once comes from the domain and the log, not from timing:
// an appointment's decide refuses a second reminder for the same schedule (a reschedule arms a
// new one), and the append carries the version the decision saw, so a scheduler that asks twice,
// after a restart, or beside another scheduler appends nothing more. Reminders that fell due
// while nothing was running are found on the next pass, since the index lists every pending one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "app/command_runner.hpp"
#include "common/clock.hpp"
#include "domain/time.hpp"

namespace eventcrm::app {

// An appointment whose reminder is pending and due, as the index saw it.
struct DueReminder {
  std::string appointment_id;
  std::int64_t version = -1;  // the appointment's stream version the index reflects
};

// Where the scheduler learns which reminders are due (in `eventcrm serve`: the appointments read
// model, see projections/appointments.hpp). It may lag the log and list a reminder that has just
// been recorded; the domain then decides that there is nothing to do.
class ReminderIndex {
 public:
  virtual ~ReminderIndex() = default;
  // Pending reminders with a reminder time at or before `now`, earliest first, at most `limit`.
  // nullopt: the index cannot be read now (e.g. its read model is still being built).
  virtual std::optional<std::vector<DueReminder>> due(domain::Timestamp now, std::size_t limit) = 0;
};

struct ReminderOptions {
  std::chrono::milliseconds poll{500};  // how often the running scheduler looks for due reminders
  std::size_t batch = 200;              // reminders looked at per pass at most
  std::string actor = "system:reminders";  // recorded as the events' actor
};

struct ReminderStats {
  std::uint64_t passes = 0;
  std::uint64_t recorded = 0;  // commands that appended (a reminder, or its skip)
  std::uint64_t errors = 0;    // commands that failed (tried again on the next pass)
  std::string last_error;
};

class ReminderScheduler {
 public:
  // `clock` says when "now" is for the index; the runner's own clock decides what is due.
  ReminderScheduler(CommandRunner& runner, Clock& clock, ReminderIndex& index,
                    ReminderOptions options = {});
  ~ReminderScheduler();
  ReminderScheduler(const ReminderScheduler&) = delete;
  ReminderScheduler& operator=(const ReminderScheduler&) = delete;

  // Runs passes on a thread, one every `poll`, until stop(). Idempotent.
  void start();
  // Stops the thread after its current pass; idempotent. start() may follow.
  void stop();
  // One pass: sends RecordReminder to every due appointment; returns how many appended.
  std::size_t tick();

  ReminderStats stats() const;

 private:
  void loop();

  CommandRunner& runner_;
  Clock& clock_;
  ReminderIndex& index_;
  ReminderOptions options_;

  std::mutex pass_mu_;  // one pass at a time
  // Appointments asked at the index version shown: not asked again until the index moves on
  // (it lags the log, so it may still list a reminder that was just recorded).
  std::unordered_map<std::string, std::int64_t> asked_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  ReminderStats stats_;
  std::thread thread_;
};

// What `eventcrm serve` runs beside the projections: a scheduler with its own command runner
// over `store`, on the system clock.
class ReminderService {
 public:
  ReminderService(store::EventStore& store, std::unique_ptr<ReminderIndex> index,
                  ReminderOptions options = {});
  void start() { scheduler_.start(); }
  void stop() { scheduler_.stop(); }
  ReminderStats stats() const { return scheduler_.stats(); }

 private:
  SystemClock clock_;
  RandomIdGenerator ids_;
  CommandRunner runner_;
  std::unique_ptr<ReminderIndex> index_;
  ReminderScheduler scheduler_;
};

}  // namespace eventcrm::app
