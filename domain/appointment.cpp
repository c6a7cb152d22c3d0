// Appointment decisions and the reminder rule.
#include "domain/appointment.hpp"

#include "domain/codec.hpp"

namespace eventcrm::domain::appointment {
namespace {
using Events = std::vector<Event>;

void check_times(Validation& v, Timestamp starts, Timestamp ends, std::optional<int> remind) {
  v.require(ends > starts, "ends_at", "must be after starts_at");
  if (remind)
    v.require(*remind >= 0 && *remind <= 7 * 24 * 60, "remind_minutes_before", "0 to 10080");
}
Unexpected<Error> not_scheduled(const State& s) {
  return invalid_transition(s.status == Status::completed ? "the appointment is completed"
                                                          : "the appointment is cancelled",
                            {});
}
}  // namespace

std::optional<ReminderDue> reminder_due(const State& s, Timestamp now) {
  if (s.status != Status::scheduled || s.reminded || now < s.remind_at() || now >= s.ends_at) {
    return std::nullopt;
  }
  return ReminderDue{s.id, s.account_id, s.owner_id, s.subject, s.starts_at, s.remind_at()};
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Scheduled& x) {
                   s.status = Status::scheduled;
                   s.id = x.appointment_id;
                   s.account_id = x.account_id;
                   s.subject = x.subject;
                   s.owner_id = x.owner_id;
                   s.starts_at = x.starts_at;
                   s.ends_at = x.ends_at;
                   s.remind_minutes_before = x.remind_minutes_before;
                 },
                 [&](const Rescheduled& x) {
                   s.starts_at = x.starts_at;
                   s.ends_at = x.ends_at;
                   s.remind_minutes_before = x.remind_minutes_before;
                   s.reminded = false;
                 },
                 [&](const Completed&) { s.status = Status::completed; },
                 [&](const Cancelled&) { s.status = Status::cancelled; },
                 [&](const ReminderDue&) { s.reminded = true; },
                 [&](const ReminderSkipped&) { s.reminded = true; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Schedule>(&cmd)) {
    if (s.status != Status::none)
      return fail(errc::already_exists, "appointment already exists");
    Validation v;
    v.require(!c->account_id.empty(), "account_id", "required");
    v.require(!c->subject.empty(), "subject", "required");
    check_times(v, c->starts_at, c->ends_at, c->remind_minutes_before);
    if (!v.ok())
      return v.error();
    return Events{Scheduled{ctx.id, c->account_id, c->contact_id, c->opportunity_id, c->subject,
                            c->location, c->starts_at, c->ends_at,
                            c->remind_minutes_before.value_or(15),
                            c->owner_id.value_or(ctx.actor)}};
  }
  if (s.status == Status::none)
    return fail(errc::not_found, "no such appointment");
  if (std::holds_alternative<RecordReminder>(cmd)) {
    if (auto r = reminder_due(s, ctx.now))
      return Events{*r};
    if (s.status == Status::scheduled && !s.reminded && ctx.now >= s.remind_at())
      return Events{ReminderSkipped{s.id, s.account_id, s.remind_at(), s.ends_at}};
    return Events{};
  }
  if (s.status != Status::scheduled)
    return not_scheduled(s);
  return std::visit(
      codec::overloaded{
          [&](const Reschedule& c) -> Result<Events> {
            Timestamp ends =
                c.ends_at.value_or(Timestamp{c.starts_at.ms + (s.ends_at.ms - s.starts_at.ms)});
            Validation v;
            check_times(v, c.starts_at, ends, c.remind_minutes_before);
            if (!v.ok())
              return v.error();
            return Events{Rescheduled{s.id, s.account_id, c.starts_at, ends,
                                      c.remind_minutes_before.value_or(s.remind_minutes_before)}};
          },
          [&](const Complete& c) -> Result<Events> {
            return Events{Completed{s.id, s.account_id, c.outcome, ctx.now}};
          },
          [&](const Cancel& c) -> Result<Events> {
            return Events{Cancelled{s.id, s.account_id, c.reason}};
          },
          [&](const auto&) -> Result<Events> { return Events{}; },
      },
      cmd);
}

std::string Aggregate::encode(const Event& e) {
  return codec::encode_event(e);
}
Result<Event> Aggregate::decode(std::string_view type, std::string_view json) {
  return codec::decode_event<Event>(type, json);
}
std::string_view Aggregate::type_of(const Event& e) {
  return codec::type_of(e);
}
std::vector<std::string_view> Aggregate::event_types() {
  return codec::event_types<Event>();
}

}  // namespace eventcrm::domain::appointment
