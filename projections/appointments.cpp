// Appointments as listed and shown: schedule, status and where the reminder stands. A pending
// reminder (scheduled, not yet sent or skipped for the current schedule) is indexed by its time
// so the reminder scheduler finds the due ones with one short scan.
#include "projections/appointments.hpp"

#include "domain/appointment.hpp"
#include "projections/record_projection.hpp"
#include "projections/runtime.hpp"

namespace eventcrm::projections {
namespace {

namespace appointment = domain::appointment;

constexpr std::string_view kPending = "pending";

struct AppointmentRow {
  std::string id;
  std::string account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> opportunity_id;
  std::string subject;
  std::optional<std::string> location;
  domain::Timestamp starts_at;
  domain::Timestamp ends_at;
  std::int64_t remind_minutes_before = 15;
  domain::Timestamp remind_at;
  // pending | sent | skipped (its time came after the appointment ended) | off (completed or
  // cancelled first)
  std::string reminder = std::string(kPending);
  std::optional<domain::Timestamp> reminded_at;
  std::string owner_id;
  std::string status = "scheduled";  // scheduled | completed | cancelled
  std::optional<std::string> outcome;
  std::optional<domain::Timestamp> completed_at;
  std::optional<std::string> cancel_reason;
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("opportunity_id", s.opportunity_id);
    f("subject", s.subject);
    f("location", s.location);
    f("starts_at", s.starts_at);
    f("ends_at", s.ends_at);
    f("remind_minutes_before", s.remind_minutes_before);
    f("remind_at", s.remind_at);
    f("reminder", s.reminder);
    f("reminded_at", s.reminded_at);
    f("owner_id", s.owner_id);
    f("status", s.status);
    f("outcome", s.outcome);
    f("completed_at", s.completed_at);
    f("cancel_reason", s.cancel_reason);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

void set_schedule(AppointmentRow& row, domain::Timestamp starts, domain::Timestamp ends,
                  int remind_minutes_before) {
  row.starts_at = starts;
  row.ends_at = ends;
  row.remind_minutes_before = remind_minutes_before;
  row.remind_at = starts.plus_minutes(-remind_minutes_before);
  row.reminder = std::string(kPending);
  row.reminded_at.reset();
}

class Appointments final : public RecordProjection<appointment::Aggregate, AppointmentRow> {
 public:
  std::string name() const override { return std::string(kAppointments); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return appointments_spec(); }

 protected:
  void update(AppointmentRow& row, const appointment::Event& event,
              const store::RecordedEvent& recorded) override {
    std::visit(domain::codec::overloaded{
                   [&](const appointment::Scheduled& e) {
                     row.account_id = e.account_id;
                     row.contact_id = e.contact_id;
                     row.opportunity_id = e.opportunity_id;
                     row.subject = e.subject;
                     row.location = e.location;
                     row.owner_id = e.owner_id;
                     row.created_by = recorded.metadata.actor;
                     set_schedule(row, e.starts_at, e.ends_at, e.remind_minutes_before);
                   },
                   [&](const appointment::Rescheduled& e) {
                     set_schedule(row, e.starts_at, e.ends_at, e.remind_minutes_before);
                   },
                   [&](const appointment::Completed& e) {
                     row.status = "completed";
                     row.outcome = e.outcome;
                     row.completed_at = e.completed_at;
                     if (row.reminder == kPending)
                       row.reminder = "off";
                   },
                   [&](const appointment::Cancelled& e) {
                     row.status = "cancelled";
                     row.cancel_reason = e.reason;
                     if (row.reminder == kPending)
                       row.reminder = "off";
                   },
                   [&](const appointment::ReminderDue&) {
                     row.reminder = "sent";
                     row.reminded_at = domain::Timestamp{recorded.time_ms};
                   },
                   [&](const appointment::ReminderSkipped&) { row.reminder = "skipped"; },
               },
               event);
  }
  records::Facets facets(const AppointmentRow& row) const override {
    records::Facets f{{"account_id", row.account_id},
                      {"owner_id", row.owner_id},
                      {"status", row.status},
                      {"reminder", row.reminder},
                      {"starts_at", row.starts_at.to_string()},
                      {"remind_at", row.remind_at.to_string()},
                      {"subject", row.subject}};
    if (row.contact_id)
      f.emplace_back("contact_id", *row.contact_id);
    if (row.opportunity_id)
      f.emplace_back("opportunity_id", *row.opportunity_id);
    if (row.location)
      f.emplace_back("location", *row.location);
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(
      const AppointmentRow& row) const override {
    return {{"starts_at", row.starts_at.to_string()},
            {"remind_at", row.remind_at.to_string()},
            {"created_at", row.created_at.to_string()}};
  }
};

class ReadModelReminders final : public app::ReminderIndex {
 public:
  explicit ReadModelReminders(const Runtime& runtime) : runtime_(runtime) {}

  std::optional<std::vector<app::DueReminder>> due(domain::Timestamp now,
                                                   std::size_t limit) override {
    auto view = runtime_.view(kAppointments);
    if (!view)
      return std::nullopt;
    records::ListQuery q;
    q.sort = "remind_at";
    q.equals.emplace_back("reminder", std::string(kPending));
    q.ranges.push_back({"remind_at", "", now.to_string()});
    q.limit = limit;
    // Ordered by reminder time, so the due ones come first: look no further than the page.
    q.scan_budget = limit;
    auto page = records::list(**view, appointments_spec(), q);
    if (!page)
      return std::nullopt;
    std::vector<app::DueReminder> out;
    for (const std::string& doc : page->docs) {
      auto parsed = domain::json::parse(doc);
      AppointmentRow row;
      std::string error;
      if (!parsed || !domain::codec::get_fields(*parsed, row, "", error))
        continue;
      out.push_back({row.id, row.version});
    }
    return out;
  }

 private:
  const Runtime& runtime_;
};

}  // namespace

const records::Spec& appointments_spec() {
  static const records::Spec spec{
      {"starts_at", "-starts_at", "remind_at", "-created_at"},
      {"contact_id", "account_id", "owner_id", "reminder", "status"},
      {"subject", "location"},
  };
  return spec;
}

std::unique_ptr<Projection> make_appointments() {
  return std::make_unique<Appointments>();
}

std::unique_ptr<app::ReminderIndex> make_reminder_index(const Runtime& runtime) {
  return std::make_unique<ReadModelReminders>(runtime);
}

}  // namespace eventcrm::projections
