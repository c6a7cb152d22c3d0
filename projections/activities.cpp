// Activities as listed and shown: one record per logged call, meeting, email, SMS, visit or note.
// Activities are the busiest collection (every interaction is logged), so a record carries few
// index rows: two sorts by occurred_at, and indexes only for the references it is filtered by.
#include "projections/activities.hpp"

#include "domain/activity.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace activity = domain::activity;

struct ActivityRow {
  std::string id;
  std::string kind;
  std::string account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> lead_id;
  std::optional<std::string> opportunity_id;
  std::string subject;
  std::optional<std::string> notes;
  std::optional<std::string> outcome;
  std::optional<int> duration_minutes;
  domain::Timestamp occurred_at;
  std::string logged_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("kind", s.kind);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("lead_id", s.lead_id);
    f("opportunity_id", s.opportunity_id);
    f("subject", s.subject);
    f("notes", s.notes);
    f("outcome", s.outcome);
    f("duration_minutes", s.duration_minutes);
    f("occurred_at", s.occurred_at);
    f("logged_by", s.logged_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

class Activities final : public RecordProjection<activity::Aggregate, ActivityRow> {
 public:
  std::string name() const override { return std::string(kActivities); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return activities_spec(); }

 protected:
  void update(ActivityRow& row, const activity::Event& event,
              const store::RecordedEvent&) override {
    const auto& e = std::get<activity::Logged>(event);
    row.kind = e.kind;
    row.account_id = e.account_id;
    row.contact_id = e.contact_id;
    row.lead_id = e.lead_id;
    row.opportunity_id = e.opportunity_id;
    row.subject = e.subject;
    row.notes = e.notes;
    row.outcome = e.outcome;
    row.duration_minutes = e.duration_minutes;
    row.occurred_at = e.occurred_at;
    row.logged_by = e.logged_by;
  }
  records::Facets facets(const ActivityRow& row) const override {
    records::Facets f{{"account_id", row.account_id},
                      {"kind", row.kind},
                      {"logged_by", row.logged_by},
                      {"occurred_at", row.occurred_at.to_string()},
                      {"subject", row.subject}};
    if (row.contact_id)
      f.emplace_back("contact_id", *row.contact_id);
    if (row.lead_id)
      f.emplace_back("lead_id", *row.lead_id);
    if (row.opportunity_id)
      f.emplace_back("opportunity_id", *row.opportunity_id);
    if (row.outcome)
      f.emplace_back("outcome", *row.outcome);
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(
      const ActivityRow& row) const override {
    return {{"occurred_at", row.occurred_at.to_string()}};
  }
};

}  // namespace

const records::Spec& activities_spec() {
  static const records::Spec spec{
      {"-occurred_at", "occurred_at"},
      {"contact_id", "opportunity_id", "lead_id", "account_id", "logged_by"},
      {"subject", "outcome"},
  };
  return spec;
}

std::unique_ptr<Projection> make_activities() {
  return std::make_unique<Activities>();
}

}  // namespace eventcrm::projections
