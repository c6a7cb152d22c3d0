// Customer care: activities, appointments with reminders, tasks.
#include "domain/activity.hpp"
#include "domain/appointment.hpp"
#include "domain/task.hpp"

#include "given_when_then.hpp"

using namespace eventcrm::domain;
using eventcrm::testing::at;
using eventcrm::testing::day;
using eventcrm::testing::Fails;
using eventcrm::testing::run_cases;

namespace {
const Timestamp kNow = at("2026-03-02T10:00:00Z");
}

TEST(Activity, Log) {
  using A = activity::Aggregate;
  using E = std::vector<activity::Event>;
  activity::Log call{"a-1",
                     "call",
                     std::string("c-1"),
                     {},
                     std::string("o-1"),
                     "Follow-up",
                     std::string("asked for a quote"),
                     std::string("interested"),
                     12,
                     {}};
  activity::Logged logged{"r-1",
                          "a-1",
                          "call",
                          std::string("c-1"),
                          {},
                          std::string("o-1"),
                          "Follow-up",
                          std::string("asked for a quote"),
                          std::string("interested"),
                          12,
                          kNow,
                          "u-ann"};
  activity::Log bad{"", "fax", {}, {}, {}, "", {}, {}, -3, {}};
  run_cases<A>({
      {"log a call", {}, call, E{logged}},
      {"invalid",
       {},
       bad,
       Fails{errc::validation, {}, {"account_id", "kind", "subject", "duration_minutes"}}},
      {"twice", {logged}, call, Fails{errc::already_exists}},
  });
}

TEST(Appointment, ScheduleRescheduleCompleteCancel) {
  using A = appointment::Aggregate;
  using E = std::vector<appointment::Event>;
  Timestamp start = at("2026-03-05T09:00:00Z"), end = at("2026-03-05T10:00:00Z");
  appointment::Schedule sched{"a-1", {}, {}, "Demo", std::string("HQ"), start, end, 30, {}};
  appointment::Scheduled scheduled{"r-1", "a-1", {}, {},     "Demo", std::string("HQ"),
                                   start, end,   30, "u-ann"};
  appointment::Schedule backwards = sched;
  backwards.ends_at = start;
  Timestamp later = at("2026-03-06T09:00:00Z"), later_end = at("2026-03-06T09:30:00Z");
  run_cases<A>({
      {"schedule", {}, sched, E{scheduled}},
      {"ends before it starts", {}, backwards, Fails{errc::validation, {}, {"ends_at"}}},
      {"reschedule",
       {scheduled},
       appointment::Reschedule{later, later_end, {}},
       E{appointment::Rescheduled{"r-1", "a-1", later, later_end, 30}}},
      {"complete",
       {scheduled},
       appointment::Complete{std::string("signed")},
       E{appointment::Completed{"r-1", "a-1", std::string("signed"), kNow}}},
      {"cancel",
       {scheduled},
       appointment::Cancel{std::string("ill")},
       E{appointment::Cancelled{"r-1", "a-1", std::string("ill")}}},
      {"reschedule keeping the duration",
       {scheduled},
       appointment::Reschedule{later, {}, 10},
       E{appointment::Rescheduled{"r-1", "a-1", later, at("2026-03-06T10:00:00Z"), 10}}},
      {"reschedule a cancelled one",
       {scheduled, appointment::Cancelled{"r-1", "a-1", {}}},
       appointment::Reschedule{later, later_end, {}},
       Fails{errc::invalid_transition}},
      {"complete twice",
       {scheduled, appointment::Completed{"r-1", "a-1", {}, kNow}},
       appointment::Complete{},
       Fails{errc::invalid_transition}},
      {"missing", {}, appointment::Cancel{}, Fails{errc::not_found}},
  });
}

TEST(Appointment, ReminderIsDueOnceAtTheSetTime) {
  using A = appointment::Aggregate;
  appointment::State s;
  A::apply(s, appointment::Scheduled{"r-1",
                                     "a-1",
                                     {},
                                     {},
                                     "Demo",
                                     {},
                                     at("2026-03-05T09:00:00Z"),
                                     at("2026-03-05T10:00:00Z"),
                                     30,
                                     "u-bob"});
  EXPECT_FALSE(appointment::reminder_due(s, at("2026-03-05T08:29:59Z")));
  auto due = appointment::reminder_due(s, at("2026-03-05T08:30:00Z"));
  ASSERT_TRUE(due);
  EXPECT_EQ(due->remind_at, at("2026-03-05T08:30:00Z"));
  EXPECT_EQ(due->owner_id, "u-bob");
  A::apply(s, *due);
  EXPECT_FALSE(appointment::reminder_due(s, at("2026-03-05T08:45:00Z")));  // exactly once

  // A reschedule re-arms it; the command form decides the same.
  A::apply(s, appointment::Rescheduled{"r-1", "a-1", at("2026-03-06T09:00:00Z"),
                                       at("2026-03-06T10:00:00Z"), 60});
  auto ctx = eventcrm::testing::fixed_context();
  ctx.now = at("2026-03-06T07:59:00Z");
  auto early = A::decide(s, appointment::RecordReminder{}, ctx);
  ASSERT_TRUE(early);
  EXPECT_TRUE(early->empty());
  ctx.now = at("2026-03-06T08:00:00Z");
  auto on_time = A::decide(s, appointment::RecordReminder{}, ctx);
  ASSERT_TRUE(on_time);
  ASSERT_EQ(on_time->size(), 1u);
  EXPECT_EQ(std::get<appointment::ReminderDue>(on_time->front()).remind_at, ctx.now);

  A::apply(s, appointment::Cancelled{"r-1", "a-1", {}});
  EXPECT_FALSE(appointment::reminder_due(s, at("2026-03-06T08:30:00Z")));
}

TEST(Appointment, ReminderTooLateIsSkippedOnce) {
  using A = appointment::Aggregate;
  using E = std::vector<appointment::Event>;
  // kNow is 2026-03-02T10:00:00Z.
  appointment::Scheduled past{
      "r-1", "a-1",  {}, {}, "Visit", {}, at("2026-03-02T08:00:00Z"), at("2026-03-02T09:00:00Z"),
      15,    "u-bob"};
  appointment::Scheduled running = past;
  running.ends_at = at("2026-03-02T11:00:00Z");
  appointment::Scheduled upcoming = past;
  upcoming.starts_at = at("2026-03-02T10:10:00Z");
  upcoming.ends_at = at("2026-03-02T10:40:00Z");
  appointment::ReminderSkipped skipped{"r-1", "a-1", at("2026-03-02T07:45:00Z"),
                                       at("2026-03-02T09:00:00Z")};
  appointment::ReminderDue late{
      "r-1", "a-1", "u-bob", "Visit", at("2026-03-02T08:00:00Z"), at("2026-03-02T07:45:00Z")};
  run_cases<A>({
      {"ended before its reminder was recorded", {past}, appointment::RecordReminder{}, E{skipped}},
      {"skipped only once", {past, skipped}, appointment::RecordReminder{}, E{}},
      {"still running: the late reminder is sent",
       {running},
       appointment::RecordReminder{},
       E{late}},
      {"due within the reminder window",
       {upcoming},
       appointment::RecordReminder{},
       E{appointment::ReminderDue{"r-1", "a-1", "u-bob", "Visit", at("2026-03-02T10:10:00Z"),
                                  at("2026-03-02T09:55:00Z")}}},
      {"cancelled: nothing",
       {past, appointment::Cancelled{"r-1", "a-1", {}}},
       appointment::RecordReminder{},
       E{}},
      {"unknown appointment", {}, appointment::RecordReminder{}, Fails{errc::not_found}},
  });
  // A reschedule after a skipped reminder arms a new one.
  appointment::State s;
  A::apply(s, past);
  A::apply(s, skipped);
  A::apply(s, appointment::Rescheduled{"r-1", "a-1", at("2026-03-03T09:00:00Z"),
                                       at("2026-03-03T10:00:00Z"), 15});
  EXPECT_TRUE(appointment::reminder_due(s, at("2026-03-03T08:45:00Z")));
}

TEST(Task, Commands) {
  using A = task::Aggregate;
  using E = std::vector<task::Event>;
  task::Created created{"r-1", "Call back", {},      "u-ann", day("2026-03-03"), std::string("a-1"),
                        {},    {},          "u-ann", kNow};
  task::Completed done{"r-1", std::string("a-1"), "u-ann", kNow};
  run_cases<A>({
      {"create",
       {},
       task::Create{"Call back", {}, {}, day("2026-03-03"), std::string("a-1"), {}, {}},
       E{created}},
      {"create untitled", {}, task::Create{}, Fails{errc::validation, {}, {"title"}}},
      {"assign",
       {created},
       task::Assign{"u-bob"},
       E{task::Assigned{"r-1", std::string("a-1"), "u-bob", std::string("u-ann")}}},
      {"change due date",
       {created},
       task::ChangeDueDate{day("2026-03-10")},
       E{task::DueDateChanged{"r-1", std::string("a-1"), day("2026-03-10"), day("2026-03-03")}}},
      {"clear due date",
       {created},
       task::ChangeDueDate{std::nullopt},
       E{task::DueDateChanged{"r-1", std::string("a-1"), std::nullopt, day("2026-03-03")}}},
      {"complete", {created}, task::Complete{}, E{done}},
      {"complete twice",
       {created, done},
       task::Complete{},
       Fails{errc::invalid_transition, {"reopen"}}},
      {"reopen", {created, done}, task::Reopen{}, E{task::Reopened{"r-1", std::string("a-1")}}},
      {"reopen an open task",
       {created},
       task::Reopen{},
       Fails{errc::invalid_transition, {"assign", "change-due-date", "complete"}}},
      {"missing", {}, task::Complete{}, Fails{errc::not_found}},
  });
}
