// Task decisions.
#include "domain/task.hpp"

#include "domain/codec.hpp"

namespace eventcrm::domain::task {
namespace {
using Events = std::vector<Event>;
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.status = Status::open;
                   s.id = x.task_id;
                   s.account_id = x.account_id;
                   s.assignee_id = x.assignee_id;
                   s.due_date = x.due_date;
                 },
                 [&](const Assigned& x) { s.assignee_id = x.assignee_id; },
                 [&](const DueDateChanged& x) { s.due_date = x.due_date; },
                 [&](const Completed&) { s.status = Status::done; },
                 [&](const Reopened&) { s.status = Status::open; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Create>(&cmd)) {
    if (s.status != Status::none)
      return fail(errc::already_exists, "task already exists");
    Validation v;
    v.require(!c->title.empty(), "title", "required");
    if (c->assignee_id)
      v.require(!c->assignee_id->empty(), "assignee_id", "must not be empty");
    if (!v.ok())
      return v.error();
    return Events{Created{ctx.id, c->title, c->description, c->assignee_id.value_or(ctx.actor),
                          c->due_date, c->account_id, c->contact_id, c->opportunity_id, ctx.actor,
                          ctx.now}};
  }
  if (s.status == Status::none)
    return fail(errc::not_found, "no such task");
  const bool open = s.status == Status::open;
  const std::vector<std::string> allowed =
      open ? std::vector<std::string>{"assign", "change-due-date", "complete"}
           : std::vector<std::string>{"reopen"};
  return std::visit(
      codec::overloaded{
          [&](const Assign& c) -> Result<Events> {
            if (!open)
              return invalid_transition("the task is done", allowed);
            Validation v;
            v.require(!c.assignee_id.empty(), "assignee_id", "required");
            if (!v.ok())
              return v.error();
            if (c.assignee_id == s.assignee_id)
              return Events{};
            return Events{Assigned{s.id, s.account_id, c.assignee_id, s.assignee_id}};
          },
          [&](const ChangeDueDate& c) -> Result<Events> {
            if (!open)
              return invalid_transition("the task is done", allowed);
            if (c.due_date == s.due_date)
              return Events{};
            return Events{DueDateChanged{s.id, s.account_id, c.due_date, s.due_date}};
          },
          [&](const Complete&) -> Result<Events> {
            if (!open)
              return invalid_transition("the task is done", allowed);
            return Events{Completed{s.id, s.account_id, ctx.actor, ctx.now}};
          },
          [&](const Reopen&) -> Result<Events> {
            if (open)
              return invalid_transition("the task is open", allowed);
            return Events{Reopened{s.id, s.account_id}};
          },
          [&](const Create&) -> Result<Events> { return fail(errc::already_exists, "exists"); },
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

}  // namespace eventcrm::domain::task
