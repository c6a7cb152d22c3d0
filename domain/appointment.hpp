// Appointments and follow-ups with a reminder at the set time; the reminder is an event decided
// by a pure function of the state and the time, so the scheduler appends it exactly once.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"

namespace eventcrm::domain::appointment {

inline constexpr std::string_view kCategory = "appointment";

struct Scheduled {
  static constexpr std::string_view kType = "appointment.scheduled.v1";
  std::string appointment_id;
  std::string account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> opportunity_id;
  std::string subject;
  std::optional<std::string> location;
  Timestamp starts_at;
  Timestamp ends_at;
  int remind_minutes_before = 15;
  std::string owner_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("appointment_id", s.appointment_id);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("opportunity_id", s.opportunity_id);
    f("subject", s.subject);
    f("location", s.location);
    f("starts_at", s.starts_at);
    f("ends_at", s.ends_at);
    f("remind_minutes_before", s.remind_minutes_before);
    f("owner_id", s.owner_id);
  }
  bool operator==(const Scheduled&) const = default;
};

struct Rescheduled {
  static constexpr std::string_view kType = "appointment.rescheduled.v1";
  std::string appointment_id;
  std::string account_id;
  Timestamp starts_at;
  Timestamp ends_at;
  int remind_minutes_before = 15;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("appointment_id", s.appointment_id);
    f("account_id", s.account_id);
    f("starts_at", s.starts_at);
    f("ends_at", s.ends_at);
    f("remind_minutes_before", s.remind_minutes_before);
  }
  bool operator==(const Rescheduled&) const = default;
};

struct Completed {
  static constexpr std::string_view kType = "appointment.completed.v1";
  std::string appointment_id;
  std::string account_id;
  std::optional<std::string> outcome;
  Timestamp completed_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("appointment_id", s.appointment_id);
    f("account_id", s.account_id);
    f("outcome", s.outcome);
    f("completed_at", s.completed_at);
  }
  bool operator==(const Completed&) const = default;
};

struct Cancelled {
  static constexpr std::string_view kType = "appointment.cancelled.v1";
  std::string appointment_id;
  std::string account_id;
  std::optional<std::string> reason;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("appointment_id", s.appointment_id);
    f("account_id", s.account_id);
    f("reason", s.reason);
  }
  bool operator==(const Cancelled&) const = default;
};

struct ReminderDue {
  static constexpr std::string_view kType = "appointment.reminder_due.v1";
  std::string appointment_id;
  std::string account_id;
  std::string owner_id;
  std::string subject;
  Timestamp starts_at;
  Timestamp remind_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("appointment_id", s.appointment_id);
    f("account_id", s.account_id);
    f("owner_id", s.owner_id);
    f("subject", s.subject);
    f("starts_at", s.starts_at);
    f("remind_at", s.remind_at);
  }
  bool operator==(const ReminderDue&) const = default;
};

// Recorded instead of the reminder when its time is only reached after the appointment has ended
// (the server was down throughout, or the appointment was entered afterwards): nothing is sent,
// and the schedule no longer has a reminder pending.
struct ReminderSkipped {
  static constexpr std::string_view kType = "appointment.reminder_skipped.v1";
  std::string appointment_id;
  std::string account_id;
  Timestamp remind_at;
  Timestamp ends_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("appointment_id", s.appointment_id);
    f("account_id", s.account_id);
    f("remind_at", s.remind_at);
    f("ends_at", s.ends_at);
  }
  bool operator==(const ReminderSkipped&) const = default;
};

using Event =
    std::variant<Scheduled, Rescheduled, Completed, Cancelled, ReminderDue, ReminderSkipped>;

enum class Status { none, scheduled, completed, cancelled };

struct State {
  Status status = Status::none;
  std::string id;
  std::string account_id;
  std::string subject;
  std::string owner_id;
  Timestamp starts_at;
  Timestamp ends_at;
  int remind_minutes_before = 15;
  bool reminded = false;  // for the current schedule, sent or skipped (a reschedule re-arms it)

  Timestamp remind_at() const { return starts_at.plus_minutes(-remind_minutes_before); }
};

struct Schedule {
  std::string account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> opportunity_id;
  std::string subject;
  std::optional<std::string> location;
  Timestamp starts_at;
  Timestamp ends_at;
  std::optional<int> remind_minutes_before;  // default 15
  std::optional<std::string> owner_id;       // default: the actor
};
struct Reschedule {
  Timestamp starts_at;
  std::optional<Timestamp> ends_at;          // default: keeps the appointment's duration
  std::optional<int> remind_minutes_before;  // default: unchanged
};
struct Complete {
  std::optional<std::string> outcome;
};
struct Cancel {
  std::optional<std::string> reason;
};
// Sent by the scheduler: records the reminder when it is due, ReminderSkipped when its time came
// after the appointment ended, nothing otherwise.
struct RecordReminder {};
using Command = std::variant<Schedule, Reschedule, Complete, Cancel, RecordReminder>;

// The reminder to record at `now`, if one is due and not yet recorded for this schedule.
std::optional<ReminderDue> reminder_due(const State& s, Timestamp now);

struct Aggregate {
  using State = appointment::State;
  using Event = appointment::Event;
  using Command = appointment::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Schedule>(c); }
};

}  // namespace eventcrm::domain::appointment
