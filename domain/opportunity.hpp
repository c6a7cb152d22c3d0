// Opportunities: expected revenue moving through the sales pipeline until won or lost.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/money.hpp"
#include "domain/notification.hpp"

namespace eventcrm::domain::opportunity {

inline constexpr std::string_view kCategory = "opportunity";

struct Created {
  static constexpr std::string_view kType = "opportunity.created.v1";
  std::string opportunity_id;
  std::string account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> lead_id;
  std::string name;
  Money amount;
  Date expected_close_date;
  int probability = 0;
  std::string stage;
  std::string owner_id;
  std::optional<std::string> campaign_id;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("opportunity_id", s.opportunity_id);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("lead_id", s.lead_id);
    f("name", s.name);
    f("amount", s.amount);
    f("expected_close_date", s.expected_close_date);
    f("probability", s.probability);
    f("stage", s.stage);
    f("owner_id", s.owner_id);
    f("campaign_id", s.campaign_id);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

struct StageChanged {
  static constexpr std::string_view kType = "opportunity.stage_changed.v1";
  std::string opportunity_id;
  std::string account_id;
  std::string from_stage;
  std::string to_stage;
  int probability = 0;
  Timestamp changed_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("opportunity_id", s.opportunity_id);
    f("account_id", s.account_id);
    f("from_stage", s.from_stage);
    f("to_stage", s.to_stage);
    f("probability", s.probability);
    f("changed_at", s.changed_at);
  }
  bool operator==(const StageChanged&) const = default;
};

// Plain field edits; only the fields present changed.
struct Updated {
  static constexpr std::string_view kType = "opportunity.updated.v1";
  std::string opportunity_id;
  std::string account_id;
  std::optional<std::string> name;
  std::optional<Money> amount;
  std::optional<Date> expected_close_date;
  std::optional<int> probability;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("opportunity_id", s.opportunity_id);
    f("account_id", s.account_id);
    f("name", s.name);
    f("amount", s.amount);
    f("expected_close_date", s.expected_close_date);
    f("probability", s.probability);
  }
  bool operator==(const Updated&) const = default;
};

struct Won {
  static constexpr std::string_view kType = "opportunity.won.v1";
  std::string opportunity_id;
  std::string account_id;
  Money amount;
  std::string stage;  // the stage it was won from
  std::optional<std::string> campaign_id;
  Date closed_on;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("opportunity_id", s.opportunity_id);
    f("account_id", s.account_id);
    f("amount", s.amount);
    f("stage", s.stage);
    f("campaign_id", s.campaign_id);
    f("closed_on", s.closed_on);
  }
  bool operator==(const Won&) const = default;
};

struct Lost {
  static constexpr std::string_view kType = "opportunity.lost.v1";
  std::string opportunity_id;
  std::string account_id;
  std::string reason;
  std::string stage;  // the stage it was lost at
  std::optional<std::string> campaign_id;
  Date closed_on;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("opportunity_id", s.opportunity_id);
    f("account_id", s.account_id);
    f("reason", s.reason);
    f("stage", s.stage);
    f("campaign_id", s.campaign_id);
    f("closed_on", s.closed_on);
  }
  bool operator==(const Lost&) const = default;
};

struct Reopened {
  static constexpr std::string_view kType = "opportunity.reopened.v1";
  std::string opportunity_id;
  std::string account_id;
  std::string previous_status;  // "won" or "lost"
  std::string stage;
  int probability = 0;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("opportunity_id", s.opportunity_id);
    f("account_id", s.account_id);
    f("previous_status", s.previous_status);
    f("stage", s.stage);
    f("probability", s.probability);
  }
  bool operator==(const Reopened&) const = default;
};

struct Assigned {
  static constexpr std::string_view kType = "opportunity.assigned.v1";
  std::string opportunity_id;
  std::string account_id;
  std::string owner_id;
  std::optional<std::string> previous_owner_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("opportunity_id", s.opportunity_id);
    f("account_id", s.account_id);
    f("owner_id", s.owner_id);
    f("previous_owner_id", s.previous_owner_id);
  }
  bool operator==(const Assigned&) const = default;
};

using Event = std::variant<Created, StageChanged, Updated, Won, Lost, Reopened, Assigned,
                           notification::Requested>;

enum class Status { none, open, won, lost };
const char* to_string(Status s) noexcept;

struct State {
  Status status = Status::none;  // none: no such opportunity
  std::string id;
  std::string account_id;
  std::string name;
  Money amount;
  Date expected_close_date;
  int probability = 0;
  std::string stage;  // the last open stage (kept when won or lost)
  std::string owner_id;
  std::optional<std::string> campaign_id;
};

// Commands. Stage and probability default from the pipeline (Context::pipeline).
struct Create {
  std::string account_id;
  std::string name;
  Money amount;
  std::optional<Date> expected_close_date;
  std::optional<std::string> stage;     // default: the first stage
  std::optional<int> probability;       // default: the stage's
  std::optional<std::string> owner_id;  // default: the actor
  std::optional<std::string> campaign_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> lead_id;
};
// To an open stage, or to "won" / "lost" (which then act as win / lose).
struct ChangeStage {
  std::string stage;
  std::optional<int> probability;
  std::optional<std::string> reason;  // required for "lost"
};
struct Update {
  std::optional<std::string> name;
  std::optional<Money> amount;
  std::optional<Date> expected_close_date;
  std::optional<int> probability;
};
struct Win {};
struct Lose {
  std::string reason;
};
struct Reopen {
  std::optional<std::string> stage;  // default: the stage it was closed at
};
struct Assign {
  std::string owner_id;
};
using Command = std::variant<Create, ChangeStage, Update, Win, Lose, Reopen, Assign>;

// Checks a create command and returns its event (shared with lead conversion).
Result<Created> decide_create(const Create& c, const Context& ctx);

struct Aggregate {
  using State = opportunity::State;
  using Event = opportunity::Event;
  using Command = opportunity::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
};

}  // namespace eventcrm::domain::opportunity
