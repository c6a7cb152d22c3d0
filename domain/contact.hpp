// Contacts: the people we deal with, optionally linked to an account.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/personal_data.hpp"
#include "domain/aggregate.hpp"

namespace eventcrm::domain::contact {

inline constexpr std::string_view kCategory = "contact";

// As account::Profile: present fields are set; on update an empty string clears a field.
struct Profile {
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> title;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("first_name", s.first_name);
    f("last_name", s.last_name);
    f("email", s.email);
    f("phone", s.phone);
    f("title", s.title);
  }
  bool operator==(const Profile&) const = default;
};

struct Created {
  static constexpr std::string_view kType = "contact.created.v1";
  // Sealed with the contact's key in the log (common/personal_data.hpp).
  static constexpr std::string_view kPersonal[] = {"profile.first_name", "profile.last_name",
                                                   "profile.email", "profile.phone"};
  std::string contact_id;
  std::optional<std::string> account_id;
  Profile profile;
  std::string owner_id;
  std::optional<std::string> lead_id;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contact_id", s.contact_id);
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
  static constexpr std::string_view kType = "contact.updated.v1";
  static constexpr std::string_view kPersonal[] = {"changes.first_name", "changes.last_name",
                                                   "changes.email", "changes.phone"};
  std::string contact_id;
  std::optional<std::string> account_id;
  Profile changes;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contact_id", s.contact_id);
    f("account_id", s.account_id);
    f("changes", s.changes);
  }
  bool operator==(const Updated&) const = default;
};

struct OwnerAssigned {
  static constexpr std::string_view kType = "contact.owner_assigned.v1";
  std::string contact_id;
  std::optional<std::string> account_id;
  std::string owner_id;
  std::optional<std::string> previous_owner_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contact_id", s.contact_id);
    f("account_id", s.account_id);
    f("owner_id", s.owner_id);
    f("previous_owner_id", s.previous_owner_id);
  }
  bool operator==(const OwnerAssigned&) const = default;
};

struct LinkedToAccount {
  static constexpr std::string_view kType = "contact.linked_to_account.v1";
  std::string contact_id;
  std::string account_id;
  std::optional<std::string> previous_account_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contact_id", s.contact_id);
    f("account_id", s.account_id);
    f("previous_account_id", s.previous_account_id);
  }
  bool operator==(const LinkedToAccount&) const = default;
};

struct UnlinkedFromAccount {
  static constexpr std::string_view kType = "contact.unlinked_from_account.v1";
  std::string contact_id;
  std::string account_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contact_id", s.contact_id);
    f("account_id", s.account_id);
  }
  bool operator==(const UnlinkedFromAccount&) const = default;
};

struct Archived {
  static constexpr std::string_view kType = "contact.archived.v1";
  std::string contact_id;
  std::optional<std::string> account_id;
  std::optional<std::string> reason;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contact_id", s.contact_id);
    f("account_id", s.account_id);
    f("reason", s.reason);
  }
  bool operator==(const Archived&) const = default;
};

// The contact's personal data was erased (GDPR): its key is destroyed, so the personal fields
// of its events read as kErasedMarker, and read models replace what they hold of them.
struct Forgotten {
  static constexpr std::string_view kType = "contact.forgotten.v1";
  std::string contact_id;
  std::optional<std::string> account_id;
  std::string forgotten_by;
  Timestamp forgotten_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contact_id", s.contact_id);
    f("account_id", s.account_id);
    f("forgotten_by", s.forgotten_by);
    f("forgotten_at", s.forgotten_at);
  }
  bool operator==(const Forgotten&) const = default;
};

using Event = std::variant<Created, Updated, OwnerAssigned, LinkedToAccount, UnlinkedFromAccount,
                           Archived, Forgotten>;

// The profile with its personal fields replaced by the erasure marker (absent ones stay absent).
Profile erased(Profile p);

struct State {
  bool exists = false;
  bool archived = false;
  bool forgotten = false;
  std::string id;
  std::optional<std::string> account_id;
  Profile profile;
  std::string owner_id;

  std::optional<std::string> normalized_email() const;
  std::optional<std::string> normalized_phone() const;
};

struct Create {
  Profile profile;  // last_name required
  std::optional<std::string> account_id;
  std::optional<std::string> owner_id;  // default: the actor
  std::optional<std::string> lead_id;
};
struct Update {
  Profile changes;
};
struct AssignOwner {
  std::string owner_id;
};
struct LinkAccount {
  std::string account_id;
};
struct UnlinkAccount {};
struct Archive {
  std::optional<std::string> reason;
};
// Erase the contact's personal data (allowed in every state; nothing new once forgotten).
struct Forget {};
using Command =
    std::variant<Create, Update, AssignOwner, LinkAccount, UnlinkAccount, Archive, Forget>;

Result<Created> decide_create(const Create& c, const Context& ctx);

struct Aggregate {
  using State = contact::State;
  using Event = contact::Event;
  using Command = contact::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
};

}  // namespace eventcrm::domain::contact
