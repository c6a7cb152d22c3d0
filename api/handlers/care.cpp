// Customer care over HTTP: the care log (activities), appointments (schedule, reschedule,
// complete, cancel; their reminders are appended by app/reminders.cpp) and tasks. Commands are
// decided in domain/activity.cpp, appointment.cpp and task.cpp and run by app::CommandRunner;
// the read models are projections/activities.cpp, appointments.cpp and tasks.cpp.
#include <algorithm>
#include <chrono>

#include "api/handlers/command.hpp"
#include "api/handlers/query.hpp"
#include "domain/account.hpp"
#include "domain/activity.hpp"
#include "domain/appointment.hpp"
#include "domain/contact.hpp"
#include "domain/lead.hpp"
#include "domain/opportunity.hpp"
#include "domain/task.hpp"
#include "projections/activities.hpp"
#include "projections/appointments.hpp"
#include "projections/tasks.hpp"

namespace eventcrm::api {
namespace {

namespace activity = domain::activity;
namespace appointment = domain::appointment;
namespace task = domain::task;
using domain::Date;
using domain::Timestamp;

constexpr std::string_view kActivities = "activities";
constexpr std::string_view kAppointments = "appointments";
constexpr std::string_view kTasks = "tasks";
constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kMaxRemindMinutes = 7 * 24 * 60;
constexpr std::int64_t kDefaultAppointmentMinutes = 60;

// The field errors, else the envelope's (If-Match, Idempotency-Key, reason, actor) problem, else
// nothing: the command may run.
std::optional<Response> envelope(const Request& req, const command::Fields& f,
                                 const json::Value& body, app::CommandOptions& options) {
  if (!f.ok())
    return f.problem();
  return command::read_envelope(req, &body, options);
}

std::string new_id(const Context& ctx, const app::CommandOptions& options) {
  return ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
}

// ---- list queries ----

// How a collection's list parameters are checked and put into the read model's form before
// query::list answers: time bounds canonical (UTC, milliseconds; a date alone stands for the
// start or the end of that UTC day), date bounds strict, and the tasks' `overdue` shorthand.
struct ListRules {
  std::vector<std::string_view> time_ranges;
  std::vector<std::string_view> date_ranges;
  bool overdue = false;
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void percent_encode(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

std::optional<std::string> time_bound(std::string_view v, bool upper) {
  if (auto t = Timestamp::parse(v))
    return t->to_string();
  if (auto d = Date::parse(v))
    return d->to_string() + (upper ? "T23:59:59.999Z" : "T00:00:00.000Z");
  return std::nullopt;
}

Date today_utc() {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return Timestamp{ms}.date();
}

void list_with(const Request& req, const Context& ctx, Completion done, const query::Collection& c,
               const ListRules& rules) {
  std::vector<QueryParam> params;
  if (!parse_query(req.query, params))
    return query::list(req, ctx, std::move(done), c);  // answers the malformed query
  std::vector<FieldError> errors;
  bool overdue = false;
  std::vector<QueryParam> out;
  for (QueryParam& p : params) {
    if (rules.overdue && p.name == "overdue") {
      if (p.value == "true")
        overdue = true;
      else if (p.value != "false")
        errors.push_back({p.name, "must be true or false"});
      continue;
    }
    for (std::string_view suffix : {"_from", "_to"}) {
      if (!ends_with(p.name, suffix))
        continue;
      std::string_view base = std::string_view(p.name).substr(0, p.name.size() - suffix.size());
      bool upper = suffix == "_to";
      if (std::find(rules.time_ranges.begin(), rules.time_ranges.end(), base) !=
          rules.time_ranges.end()) {
        if (auto b = time_bound(p.value, upper))
          p.value = *b;
        else
          errors.push_back({p.name, "must be an RFC 3339 time or a date (YYYY-MM-DD)"});
      }
      if (std::find(rules.date_ranges.begin(), rules.date_ranges.end(), base) !=
          rules.date_ranges.end()) {
        if (auto d = Date::parse(p.value))
          p.value = d->to_string();
        else
          errors.push_back({p.name, "must be a date, YYYY-MM-DD"});
      }
    }
    out.push_back(std::move(p));
  }
  if (overdue) {
    // Open tasks due before today (UTC).
    std::string yesterday = Date{today_utc().days - 1}.to_string();
    bool has_status = false, has_due_to = false;
    for (QueryParam& p : out) {
      if (p.name == "status") {
        has_status = true;
        if (p.value != "open")
          errors.push_back({"overdue", "lists open tasks; leave out status or use status=open"});
      } else if (p.name == "due_to") {
        has_due_to = true;
        p.value = std::min(p.value, yesterday);
      }
    }
    if (!has_status)
      out.push_back({"status", "open"});
    if (!has_due_to)
      out.push_back({"due_to", yesterday});
  }
  if (!errors.empty())
    return done(problem(errc::bad_request, "invalid query parameters", std::move(errors)));
  std::string query;
  for (const QueryParam& p : out) {
    if (!query.empty())
      query.push_back('&');
    percent_encode(query, p.name);
    query.push_back('=');
    percent_encode(query, p.value);
  }
  // query::list reads the request before it returns; the copy need not outlive the call.
  Request normalized = req;
  normalized.query = query;
  query::list(normalized, ctx, std::move(done), c);
}

// ---- activities ----

const query::Collection& activities() {
  static const query::Collection c{
      kActivities,
      projections::kActivities,
      &projections::activities_spec(),
      {"account_id", "contact_id", "lead_id", "opportunity_id", "kind", "logged_by"},
      {"occurred_at"}};
  return c;
}

void log_activity(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"kind", "account_id", "contact_id", "lead_id", "opportunity_id",
                           "subject", "notes", "outcome", "duration_minutes", "occurred_at"});
  activity::Log c;
  auto kind = f.text("kind", true, 20);
  if (kind && std::find(activity::kinds().begin(), activity::kinds().end(), *kind) ==
                  activity::kinds().end())
    f.fail("kind", "must be one of call, meeting, email, sms, visit, note");
  auto account = f.text("account_id", true);
  c.contact_id = f.text("contact_id", false);
  c.lead_id = f.text("lead_id", false);
  c.opportunity_id = f.text("opportunity_id", false);
  auto subject = f.text("subject", true, 500);
  c.notes = f.text("notes", false, 20'000);
  c.outcome = f.text("outcome", false, 200);
  auto duration = f.integer("duration_minutes", false, 0, 24 * 60);
  c.occurred_at = f.time("occurred_at", false);
  app::CommandOptions options;
  if (auto bad = envelope(req, f, body, options))
    return done(std::move(*bad));
  c.kind = std::move(*kind);
  c.account_id = std::move(*account);
  c.subject = std::move(*subject);
  if (duration)
    c.duration_minutes = static_cast<int>(*duration);
  std::vector<command::Reference> refs{
      {"account_id", domain::account::kCategory, c.account_id},
      {"contact_id", domain::contact::kCategory, c.contact_id},
      {"lead_id", domain::lead::kCategory, c.lead_id},
      {"opportunity_id", domain::opportunity::kCategory, c.opportunity_id}};
  std::string id = new_id(ctx, options);  // before `options` is moved
  command::run_with_references<activity::Aggregate>(ctx, std::move(done), std::move(id),
                                                    std::move(c), std::move(refs),
                                                    std::move(options), kActivities, true);
}

void get_activity(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), activities());
}

void list_activities(const Request& req, const Context& ctx, Completion done) {
  static const ListRules rules{{"occurred_at"}, {}, false};
  list_with(req, ctx, std::move(done), activities(), rules);
}

// ---- appointments ----

const query::Collection& appointments() {
  static const query::Collection c{
      kAppointments,
      projections::kAppointments,
      &projections::appointments_spec(),
      {"account_id", "contact_id", "opportunity_id", "owner_id", "status", "reminder"},
      {"starts_at"}};
  return c;
}

// The reminder as minutes before the start: `remind_minutes_before`, or `remind_at` (a whole
// number of minutes before `starts`).
std::optional<int> remind_minutes(command::Fields& f, std::optional<Timestamp> starts) {
  auto minutes = f.integer("remind_minutes_before", false, 0, kMaxRemindMinutes);
  auto at = f.time("remind_at", false);
  if (f.has("remind_minutes_before") && f.has("remind_at")) {
    f.fail("remind_at", "give remind_at or remind_minutes_before, not both");
    return std::nullopt;
  }
  if (at && starts) {
    std::int64_t before = starts->ms - at->ms;
    if (before < 0)
      f.fail("remind_at", "must not be after starts_at");
    else if (before % kMinuteMs != 0)
      f.fail("remind_at", "must be a whole number of minutes before starts_at");
    else if (before / kMinuteMs > kMaxRemindMinutes)
      f.fail("remind_at", "must be at most 7 days before starts_at");
    else
      return static_cast<int>(before / kMinuteMs);
    return std::nullopt;
  }
  if (minutes)
    return static_cast<int>(*minutes);
  return std::nullopt;
}

void schedule_appointment(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(
      body, {"account_id", "contact_id", "opportunity_id", "subject", "location", "starts_at",
             "ends_at", "remind_minutes_before", "remind_at", "owner_id"});
  appointment::Schedule c;
  auto account = f.text("account_id", true);
  c.contact_id = f.text("contact_id", false);
  c.opportunity_id = f.text("opportunity_id", false);
  auto subject = f.text("subject", true, 500);
  c.location = f.text("location", false, 500);
  auto starts = f.time("starts_at", true);
  auto ends = f.time("ends_at", false);
  c.remind_minutes_before = remind_minutes(f, starts);
  c.owner_id = f.text("owner_id", false);
  if (c.owner_id && c.owner_id->empty())
    f.fail("owner_id", "must not be empty");
  app::CommandOptions options;
  if (auto bad = envelope(req, f, body, options))
    return done(std::move(*bad));
  c.account_id = std::move(*account);
  c.subject = std::move(*subject);
  c.starts_at = *starts;
  c.ends_at = ends.value_or(starts->plus_minutes(kDefaultAppointmentMinutes));
  std::vector<command::Reference> refs{
      {"account_id", domain::account::kCategory, c.account_id},
      {"contact_id", domain::contact::kCategory, c.contact_id},
      {"opportunity_id", domain::opportunity::kCategory, c.opportunity_id}};
  std::string id = new_id(ctx, options);  // before `options` is moved
  command::run_with_references<appointment::Aggregate>(ctx, std::move(done), std::move(id),
                                                       std::move(c), std::move(refs),
                                                       std::move(options), kAppointments, true);
}

void reschedule_appointment(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"starts_at", "ends_at", "remind_minutes_before", "remind_at"});
  appointment::Reschedule c;
  auto starts = f.time("starts_at", true);
  c.ends_at = f.time("ends_at", false);
  c.remind_minutes_before = remind_minutes(f, starts);
  app::CommandOptions options;
  if (auto bad = envelope(req, f, body, options))
    return done(std::move(*bad));
  c.starts_at = *starts;
  command::run<appointment::Aggregate>(ctx, std::move(done), req.params.at(0), std::move(c),
                                       std::move(options), kAppointments, false);
}

void complete_appointment(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"outcome"});
  appointment::Complete c{f.text("outcome", false, 1000)};
  app::CommandOptions options;
  if (auto bad = envelope(req, f, body, options))
    return done(std::move(*bad));
  command::run<appointment::Aggregate>(ctx, std::move(done), req.params.at(0), std::move(c),
                                       std::move(options), kAppointments, false);
}

void cancel_appointment(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {});
  appointment::Cancel c{f.text("reason", false, 1000)};
  app::CommandOptions options;
  if (auto bad = envelope(req, f, body, options))
    return done(std::move(*bad));
  command::run<appointment::Aggregate>(ctx, std::move(done), req.params.at(0), std::move(c),
                                       std::move(options), kAppointments, false);
}

void get_appointment(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), appointments());
}

void list_appointments(const Request& req, const Context& ctx, Completion done) {
  static const ListRules rules{{"starts_at"}, {}, false};
  list_with(req, ctx, std::move(done), appointments(), rules);
}

// ---- tasks ----

const query::Collection& tasks() {
  static const query::Collection c{
      kTasks,
      projections::kTasks,
      &projections::tasks_spec(),
      {"assignee_id", "status", "account_id", "contact_id", "opportunity_id"},
      {"due"}};
  return c;
}

// The due date: `due_on` (a date), or `due_at` (a time: the calendar date as written, in its
// own offset). `given` says whether either member is present, null included (null clears).
std::optional<Date> due_date(command::Fields& f, bool& given) {
  given = f.root().find("due_on") != nullptr || f.root().find("due_at") != nullptr;
  auto on = f.date("due_on", false);
  auto at = f.time("due_at", false);
  if (f.has("due_on") && f.has("due_at")) {
    f.fail("due_at", "give due_on or due_at, not both");
    return std::nullopt;
  }
  if (at)
    return Date::parse(f.root().find("due_at")->text.substr(0, 10));
  return on;
}

void create_task(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"title", "description", "assignee_id", "due_on", "due_at", "account_id",
                           "contact_id", "opportunity_id"});
  task::Create c;
  auto title = f.text("title", true, 500);
  c.description = f.text("description", false, 20'000);
  c.assignee_id = f.text("assignee_id", false);
  bool given = false;
  c.due_date = due_date(f, given);
  c.account_id = f.text("account_id", false);
  c.contact_id = f.text("contact_id", false);
  c.opportunity_id = f.text("opportunity_id", false);
  app::CommandOptions options;
  if (auto bad = envelope(req, f, body, options))
    return done(std::move(*bad));
  c.title = std::move(*title);
  std::vector<command::Reference> refs{
      {"account_id", domain::account::kCategory, c.account_id},
      {"contact_id", domain::contact::kCategory, c.contact_id},
      {"opportunity_id", domain::opportunity::kCategory, c.opportunity_id}};
  std::string id = new_id(ctx, options);  // before `options` is moved
  command::run_with_references<task::Aggregate>(ctx, std::move(done), std::move(id), std::move(c),
                                                std::move(refs), std::move(options), kTasks, true);
}

void assign_task(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"assignee_id"});
  auto assignee = f.text("assignee_id", true);
  app::CommandOptions options;
  if (auto bad = envelope(req, f, body, options))
    return done(std::move(*bad));
  command::run<task::Aggregate>(ctx, std::move(done), req.params.at(0), task::Assign{*assignee},
                                std::move(options), kTasks, false);
}

void change_task_due_date(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"due_on", "due_at"});
  bool given = false;
  task::ChangeDueDate c{due_date(f, given)};
  if (!given)
    f.fail("due_on", "is required (null clears the due date)");
  app::CommandOptions options;
  if (auto bad = envelope(req, f, body, options))
    return done(std::move(*bad));
  command::run<task::Aggregate>(ctx, std::move(done), req.params.at(0), std::move(c),
                                std::move(options), kTasks, false);
}

template <class Cmd>
void task_action(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {});
  app::CommandOptions options;
  if (auto bad = envelope(req, f, body, options))
    return done(std::move(*bad));
  command::run<task::Aggregate>(ctx, std::move(done), req.params.at(0), Cmd{}, std::move(options),
                                kTasks, false);
}

void get_task(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), tasks());
}

void list_tasks(const Request& req, const Context& ctx, Completion done) {
  static const ListRules rules{{}, {"due"}, true};
  list_with(req, ctx, std::move(done), tasks(), rules);
}

}  // namespace

std::vector<Route> care_routes() {
  return {
      {Method::post, "/v1/activities", nullptr, log_activity, Produces::json, true,
       "Log an activity in the care log"},
      {Method::get, "/v1/activities", nullptr, list_activities, Produces::json, false,
       "List activities"},
      {Method::get, "/v1/activities/{id}", nullptr, get_activity, Produces::json, false,
       "An activity"},
      {Method::post, "/v1/appointments", nullptr, schedule_appointment, Produces::json, true,
       "Schedule an appointment"},
      {Method::get, "/v1/appointments", nullptr, list_appointments, Produces::json, false,
       "List appointments"},
      {Method::get, "/v1/appointments/{id}", nullptr, get_appointment, Produces::json, false,
       "An appointment"},
      {Method::post, "/v1/appointments/{id}/reschedule", nullptr, reschedule_appointment,
       Produces::json, true, "Reschedule an appointment"},
      {Method::post, "/v1/appointments/{id}/complete", nullptr, complete_appointment,
       Produces::json, true, "Complete an appointment"},
      {Method::post, "/v1/appointments/{id}/cancel", nullptr, cancel_appointment, Produces::json,
       true, "Cancel an appointment"},
      {Method::post, "/v1/tasks", nullptr, create_task, Produces::json, true, "Create a task"},
      {Method::get, "/v1/tasks", nullptr, list_tasks, Produces::json, false, "List tasks"},
      {Method::get, "/v1/tasks/{id}", nullptr, get_task, Produces::json, false, "A task"},
      {Method::post, "/v1/tasks/{id}/assign", nullptr, assign_task, Produces::json, true,
       "Assign a task"},
      {Method::post, "/v1/tasks/{id}/change-due-date", nullptr, change_task_due_date,
       Produces::json, true, "Change a task's due date"},
      {Method::post, "/v1/tasks/{id}/complete", nullptr, task_action<task::Complete>,
       Produces::json, true, "Complete a task"},
      {Method::post, "/v1/tasks/{id}/reopen", nullptr, task_action<task::Reopen>, Produces::json,
       true, "Reopen a task"},
  };
}

}  // namespace eventcrm::api
