// Accounts: the organisations we sell to, with owner and archive state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/personal_data.hpp"
#include "domain/aggregate.hpp"

namespace eventcrm::domain::account {

inline constexpr std::string_view kCategory = "account";

// The editable profile; on create every present field is set, on update only present fields
// change and an empty string clears an optional field.
struct Profile {
  std::optional<std::string> name;
  std::optional<std::string> industry;
  std::optional<std::string> website;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> tax_id;
  std::optional<std::string> address;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("name", s.name);
    f("industry", s.industry);
    f("website", s.website);
    f("email", s.email);
    f("phone", s.phone);
    f("tax_id", s.tax_id);
    f("address", s.address);
  }
  bool operator==(const Profile&) const = default;
};

struct Created {
  static constexpr std::string_view kType = "account.created.v1";
  // Sealed with the account's key in the log (common/personal_data.hpp): the contact details and
  // national id of an account that is a person. The name is the organisation's and stays clear.
  static constexpr std::string_view kPersonal[] = {"profile.email", "profile.phone",
                                                   "profile.tax_id", "profile.address"};
  std::string account_id;
  Profile profile;
  std::string owner_id;
  std::optional<std::string> lead_id;  // when created by converting a lead
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("account_id", s.account_id);
    f("profile", s.profile);
    f("owner_id", s.owner_id);
    f("lead_id", s.lead_id);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

struct Updated {
  static constexpr std::string_view kType = "account.updated.v1";
  static constexpr std::string_view kPersonal[] = {"changes.email", "changes.phone",
                                                   "changes.tax_id", "changes.address"};
  std::string account_id;
  Profile changes;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("account_id", s.account_id);
    f("changes", s.changes);
  }
  bool operator==(const Updated&) const = default;
};

struct OwnerAssigned {
  static constexpr std::string_view kType = "account.owner_assigned.v1";
  std::string account_id;
  std::string owner_id;
  std::optional<std::string> previous_owner_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("account_id", s.account_id);
    f("owner_id", s.owner_id);
    f("previous_owner_id", s.previous_owner_id);
  }
  bool operator==(const OwnerAssigned&) const = default;
};

struct Archived {
  static constexpr std::string_view kType = "account.archived.v1";
  std::string account_id;
  std::optional<std::string> reason;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("account_id", s.account_id);
    f("reason", s.reason);
  }
  bool operator==(const Archived&) const = default;
};

// The personal data of an account that is a person was erased (GDPR); see contact::Forgotten.
struct Forgotten {
  static constexpr std::string_view kType = "account.forgotten.v1";
  std::string account_id;
  std::string forgotten_by;
  Timestamp forgotten_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("account_id", s.account_id);
    f("forgotten_by", s.forgotten_by);
    f("forgotten_at", s.forgotten_at);
  }
  bool operator==(const Forgotten&) const = default;
};

using Event = std::variant<Created, Updated, OwnerAssigned, Archived, Forgotten>;

// The profile with its personal fields replaced by the erasure marker (absent ones stay absent).
Profile erased(Profile p);

struct State {
  bool exists = false;
  bool archived = false;
  bool forgotten = false;
  std::string id;
  Profile profile;
  std::string owner_id;

  // Canonical forms for duplicate detection (nullopt when absent or malformed).
  std::optional<std::string> normalized_email() const;
  std::optional<std::string> normalized_phone() const;
  std::optional<std::string> normalized_tax_id() const;

  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("exists", s.exists);
    f("archived", s.archived);
    f("forgotten", s.forgotten);
    f("id", s.id);
    f("profile", s.profile);
    f("owner_id", s.owner_id);
  }
  bool operator==(const State&) const = default;
};

struct Create {
  Profile profile;                      // name required
  std::optional<std::string> owner_id;  // default: the actor
  std::optional<std::string> lead_id;
};
struct Update {
  Profile changes;
};
struct AssignOwner {
  std::string owner_id;
};
struct Archive {
  std::optional<std::string> reason;
};
// Erase the personal data of an account that is a person (allowed in every state).
struct Forget {};
using Command = std::variant<Create, Update, AssignOwner, Archive, Forget>;

// Checks a profile's fields (name required when `creating`).
void check_profile(Validation& v, const Profile& p, bool creating, const char* prefix = "");
Result<Created> decide_create(const Create& c, const Context& ctx);

struct Aggregate {
  using State = account::State;
  using Event = account::Event;
  using Command = account::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
  static std::string encode_state(const State& s);
  static bool decode_state(std::string_view bytes, State& s);
};

}  // namespace eventcrm::domain::account
