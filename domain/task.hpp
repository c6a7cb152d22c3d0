// Tasks: planned work assigned to staff, with due dates and status.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"

namespace eventcrm::domain::task {

inline constexpr std::string_view kCategory = "task";

struct Created {
  static constexpr std::string_view kType = "task.created.v1";
  std::string task_id;
  std::string title;
  std::optional<std::string> description;
  std::string assignee_id;
  std::optional<Date> due_date;
  std::optional<std::string> account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> opportunity_id;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("task_id", s.task_id);
    f("title", s.title);
    f("description", s.description);
    f("assignee_id", s.assignee_id);
    f("due_date", s.due_date);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("opportunity_id", s.opportunity_id);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

struct Assigned {
  static constexpr std::string_view kType = "task.assigned.v1";
  std::string task_id;
  std::optional<std::string> account_id;
  std::string assignee_id;
  std::optional<std::string> previous_assignee_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("task_id", s.task_id);
    f("account_id", s.account_id);
    f("assignee_id", s.assignee_id);
    f("previous_assignee_id", s.previous_assignee_id);
  }
  bool operator==(const Assigned&) const = default;
};

struct DueDateChanged {
  static constexpr std::string_view kType = "task.due_date_changed.v1";
  std::string task_id;
  std::optional<std::string> account_id;
  std::optional<Date> due_date;  // absent: no due date any more
  std::optional<Date> previous_due_date;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("task_id", s.task_id);
    f("account_id", s.account_id);
    f("due_date", s.due_date);
    f("previous_due_date", s.previous_due_date);
  }
  bool operator==(const DueDateChanged&) const = default;
};

struct Completed {
  static constexpr std::string_view kType = "task.completed.v1";
  std::string task_id;
  std::optional<std::string> account_id;
  std::string completed_by;
  Timestamp completed_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("task_id", s.task_id);
    f("account_id", s.account_id);
    f("completed_by", s.completed_by);
    f("completed_at", s.completed_at);
  }
  bool operator==(const Completed&) const = default;
};

struct Reopened {
  static constexpr std::string_view kType = "task.reopened.v1";
  std::string task_id;
  std::optional<std::string> account_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("task_id", s.task_id);
    f("account_id", s.account_id);
  }
  bool operator==(const Reopened&) const = default;
};

using Event = std::variant<Created, Assigned, DueDateChanged, Completed, Reopened>;

enum class Status { none, open, done };

struct State {
  Status status = Status::none;
  std::string id;
  std::optional<std::string> account_id;
  std::string assignee_id;
  std::optional<Date> due_date;
};

struct Create {
  std::string title;
  std::optional<std::string> description;
  std::optional<std::string> assignee_id;  // default: the actor
  std::optional<Date> due_date;
  std::optional<std::string> account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> opportunity_id;
};
struct Assign {
  std::string assignee_id;
};
struct ChangeDueDate {
  std::optional<Date> due_date;  // nullopt clears it
};
struct Complete {};
struct Reopen {};
using Command = std::variant<Create, Assign, ChangeDueDate, Complete, Reopen>;

struct Aggregate {
  using State = task::State;
  using Event = task::Event;
  using Command = task::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
};

}  // namespace eventcrm::domain::task
