// Tasks as listed and shown: title, assignee, due date and status. The `due` facet (the due date,
// YYYY-MM-DD) is what due_from/due_to and the overdue list filter on.
#include "projections/tasks.hpp"

#include "domain/task.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace task = domain::task;

struct TaskRow {
  std::string id;
  std::string title;
  std::optional<std::string> description;
  std::string assignee_id;
  std::optional<domain::Date> due_on;
  std::optional<std::string> account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> opportunity_id;
  std::string status = "open";  // open | done
  std::optional<std::string> completed_by;
  std::optional<domain::Timestamp> completed_at;
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("title", s.title);
    f("description", s.description);
    f("assignee_id", s.assignee_id);
    f("due_on", s.due_on);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("opportunity_id", s.opportunity_id);
    f("status", s.status);
    f("completed_by", s.completed_by);
    f("completed_at", s.completed_at);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

class Tasks final : public RecordProjection<task::Aggregate, TaskRow> {
 public:
  std::string name() const override { return std::string(kTasks); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return tasks_spec(); }

 protected:
  void update(TaskRow& row, const task::Event& event, const store::RecordedEvent&) override {
    std::visit(domain::codec::overloaded{
                   [&](const task::Created& e) {
                     row.title = e.title;
                     row.description = e.description;
                     row.assignee_id = e.assignee_id;
                     row.due_on = e.due_date;
                     row.account_id = e.account_id;
                     row.contact_id = e.contact_id;
                     row.opportunity_id = e.opportunity_id;
                     row.created_by = e.created_by;
                   },
                   [&](const task::Assigned& e) { row.assignee_id = e.assignee_id; },
                   [&](const task::DueDateChanged& e) { row.due_on = e.due_date; },
                   [&](const task::Completed& e) {
                     row.status = "done";
                     row.completed_by = e.completed_by;
                     row.completed_at = e.completed_at;
                   },
                   [&](const task::Reopened&) {
                     row.status = "open";
                     row.completed_by.reset();
                     row.completed_at.reset();
                   },
               },
               event);
  }
  records::Facets facets(const TaskRow& row) const override {
    records::Facets f{{"assignee_id", row.assignee_id},
                      {"status", row.status},
                      {"title", row.title},
                      {"created_at", row.created_at.to_string()}};
    if (row.due_on)
      f.emplace_back("due", row.due_on->to_string());
    if (row.account_id)
      f.emplace_back("account_id", *row.account_id);
    if (row.contact_id)
      f.emplace_back("contact_id", *row.contact_id);
    if (row.opportunity_id)
      f.emplace_back("opportunity_id", *row.opportunity_id);
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(const TaskRow& row) const override {
    // Tasks without a due date come after the dated ones.
    return {{"due_on", row.due_on ? row.due_on->to_string() : std::string("~")},
            {"created_at", row.created_at.to_string()},
            {"updated_at", row.updated_at.to_string()}};
  }
};

}  // namespace

const records::Spec& tasks_spec() {
  static const records::Spec spec{
      {"due_on", "-due_on", "-created_at", "created_at", "-updated_at"},
      {"account_id", "assignee_id", "status"},
      {"title"},
  };
  return spec;
}

std::unique_ptr<Projection> make_tasks() {
  return std::make_unique<Tasks>();
}

}  // namespace eventcrm::projections
