// Leads: prospective customers, qualified and then converted into an account, a contact and an
// opportunity in one atomic step.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/account.hpp"
#include "domain/aggregate.hpp"
#include "domain/contact.hpp"
#include "domain/notification.hpp"
#include "domain/opportunity.hpp"

namespace eventcrm::domain::lead {

inline constexpr std::string_view kCategory = "lead";

struct Utm {
  std::optional<std::string> source;
  std::optional<std::string> medium;
  std::optional<std::string> campaign;
  std::optional<std::string> term;
  std::optional<std::string> content;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("source", s.source);
    f("medium", s.medium);
    f("campaign", s.campaign);
    f("term", s.term);
    f("content", s.content);
  }
  bool operator==(const Utm&) const = default;
};

struct Created {
  static constexpr std::string_view kType = "lead.created.v1";
  // Sealed with the lead's key in the log (common/personal_data.hpp).
  static constexpr std::string_view kPersonal[] = {"first_name", "last_name", "email", "phone"};
  std::string lead_id;
  std::string company;
  std::string first_name;
  std::string last_name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> source;  // "web_form", "partner", "manual", …
  std::optional<std::string> campaign_id;
  Utm utm;
  std::string owner_id;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("lead_id", s.lead_id);
    f("company", s.company);
    f("first_name", s.first_name);
    f("last_name", s.last_name);
    f("email", s.email);
    f("phone", s.phone);
    f("source", s.source);
    f("campaign_id", s.campaign_id);
    f("utm", s.utm);
    f("owner_id", s.owner_id);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

struct Qualified {
  static constexpr std::string_view kType = "lead.qualified.v1";
  std::string lead_id;
  std::optional<std::string> campaign_id;
  std::string qualified_by;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("lead_id", s.lead_id);
    f("campaign_id", s.campaign_id);
    f("qualified_by", s.qualified_by);
  }
  bool operator==(const Qualified&) const = default;
};

struct Disqualified {
  static constexpr std::string_view kType = "lead.disqualified.v1";
  std::string lead_id;
  std::optional<std::string> campaign_id;
  std::string reason;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("lead_id", s.lead_id);
    f("campaign_id", s.campaign_id);
    f("reason", s.reason);
  }
  bool operator==(const Disqualified&) const = default;
};

struct Assigned {
  static constexpr std::string_view kType = "lead.assigned.v1";
  std::string lead_id;
  std::string owner_id;
  std::optional<std::string> previous_owner_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("lead_id", s.lead_id);
    f("owner_id", s.owner_id);
    f("previous_owner_id", s.previous_owner_id);
  }
  bool operator==(const Assigned&) const = default;
};

struct Converted {
  static constexpr std::string_view kType = "lead.converted.v1";
  std::string lead_id;
  std::string account_id;
  std::string contact_id;
  std::string opportunity_id;
  bool account_created = false;  // false: linked to an existing account
  std::optional<std::string> campaign_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("lead_id", s.lead_id);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("opportunity_id", s.opportunity_id);
    f("account_created", s.account_created);
    f("campaign_id", s.campaign_id);
  }
  bool operator==(const Converted&) const = default;
};

// The lead's personal data was erased (GDPR); see contact::Forgotten.
struct Forgotten {
  static constexpr std::string_view kType = "lead.forgotten.v1";
  std::string lead_id;
  std::string forgotten_by;
  Timestamp forgotten_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("lead_id", s.lead_id);
    f("forgotten_by", s.forgotten_by);
    f("forgotten_at", s.forgotten_at);
  }
  bool operator==(const Forgotten&) const = default;
};

using Event = std::variant<Created, Qualified, Disqualified, Assigned, Converted,
                           notification::Requested, Forgotten>;

enum class Status { none, open, qualified, disqualified, converted };
const char* to_string(Status s) noexcept;

struct State {
  Status status = Status::none;
  std::string id;
  std::string company;
  std::string first_name;
  std::string last_name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> campaign_id;
  std::string owner_id;
  std::optional<std::string> account_id;  // once converted
  bool forgotten = false;

  std::optional<std::string> normalized_email() const;
  std::optional<std::string> normalized_phone() const;
};

struct Create {
  std::string company;
  std::string first_name;
  std::string last_name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> source;
  std::optional<std::string> campaign_id;
  Utm utm;
  std::optional<std::string> owner_id;  // default: the actor
};
struct Qualify {};
struct Disqualify {
  std::string reason;
};
struct Assign {
  std::string owner_id;
};
// Erase the lead's personal data (allowed in every status; nothing new once forgotten).
struct Forget {};
using Command = std::variant<Create, Qualify, Disqualify, Assign, Forget>;

// Converting a qualified lead: a new account named after the company (or an existing one), a
// contact from the lead's person and an opportunity carrying the lead's campaign.
struct Convert {
  std::optional<std::string> account_id;  // link this existing account instead of creating one
  std::optional<std::string> opportunity_name;  // default: the company's name
  Money amount;
  std::optional<Date> expected_close_date;
  std::optional<std::string> stage;
  std::optional<std::string> owner_id;  // of the new records; default: the lead's owner
};

// What a conversion writes, stream by stream; the app appends it atomically.
struct Conversion {
  std::vector<Event> lead_events;
  std::optional<account::Created> account;  // only when a new account is created
  contact::Created contact;
  std::vector<opportunity::Event> opportunity_events;
  std::string account_id;
  std::string contact_id;
  std::string opportunity_id;
};

// `existing_account` is the state of Convert::account_id (nullptr when creating one).
Result<Conversion> decide_conversion(const State& lead, const account::State* existing_account,
                                     const Convert& c, const Context& ctx);

struct Aggregate {
  using State = lead::State;
  using Event = lead::Event;
  using Command = lead::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
};

}  // namespace eventcrm::domain::lead
