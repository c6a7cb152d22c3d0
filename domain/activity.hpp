// Activities: the customer care log (calls, meetings, emails, SMS, visits, notes) against an
// account and optionally a contact, lead or opportunity.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"

namespace eventcrm::domain::activity {

inline constexpr std::string_view kCategory = "activity";
// call, meeting, email, sms, visit, note
const std::vector<std::string>& kinds();

struct Logged {
  static constexpr std::string_view kType = "activity.logged.v1";
  std::string activity_id;
  std::string account_id;
  std::string kind;
  std::optional<std::string> contact_id;
  std::optional<std::string> lead_id;
  std::optional<std::string> opportunity_id;
  std::string subject;
  std::optional<std::string> notes;
  std::optional<std::string> outcome;
  std::optional<int> duration_minutes;
  Timestamp occurred_at;
  std::string logged_by;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("activity_id", s.activity_id);
    f("account_id", s.account_id);
    f("kind", s.kind);
    f("contact_id", s.contact_id);
    f("lead_id", s.lead_id);
    f("opportunity_id", s.opportunity_id);
    f("subject", s.subject);
    f("notes", s.notes);
    f("outcome", s.outcome);
    f("duration_minutes", s.duration_minutes);
    f("occurred_at", s.occurred_at);
    f("logged_by", s.logged_by);
  }
  bool operator==(const Logged&) const = default;
};
using Event = std::variant<Logged>;

struct State {
  bool exists = false;
  std::string account_id;
};

struct Log {
  std::string account_id;
  std::string kind;
  std::optional<std::string> contact_id;
  std::optional<std::string> lead_id;
  std::optional<std::string> opportunity_id;
  std::string subject;
  std::optional<std::string> notes;
  std::optional<std::string> outcome;
  std::optional<int> duration_minutes;
  std::optional<Timestamp> occurred_at;  // default: now
};
using Command = std::variant<Log>;

struct Aggregate {
  using State = activity::State;
  using Event = activity::Event;
  using Command = activity::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command&) { return false; }
};

}  // namespace eventcrm::domain::activity
