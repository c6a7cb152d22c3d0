// API keys for integrations and scripts. The log holds only the key's SHA-256 and its public
// prefix (for identification); the secret is shown to the caller once and never stored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"

namespace eventcrm::domain::api_key {

inline constexpr std::string_view kCategory = "apikey";

struct Issued {
  static constexpr std::string_view kType = "api_key.issued.v1";
  std::string key_id;
  std::string user_id;
  std::string prefix;  // the 8 characters after "eck_", shown in listings
  std::string sha256;  // lower-case hex of SHA-256 over the whole key
  std::optional<Timestamp> expires_at;
  std::string issued_by;
  Timestamp issued_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("key_id", s.key_id);
    f("user_id", s.user_id);
    f("prefix", s.prefix);
    f("sha256", s.sha256);
    f("expires_at", s.expires_at);
    f("issued_by", s.issued_by);
    f("issued_at", s.issued_at);
  }
  bool operator==(const Issued&) const = default;
};

struct Revoked {
  static constexpr std::string_view kType = "api_key.revoked.v1";
  std::string key_id;
  std::string user_id;
  std::string revoked_by;
  Timestamp revoked_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("key_id", s.key_id);
    f("user_id", s.user_id);
    f("revoked_by", s.revoked_by);
    f("revoked_at", s.revoked_at);
  }
  bool operator==(const Revoked&) const = default;
};

using Event = std::variant<Issued, Revoked>;

enum class Status { none, active, revoked };

struct State {
  Status status = Status::none;
  std::string id;
  std::string user_id;
};

// The secret is made by the caller (from a CSPRNG); the decision sees only its digest.
struct Issue {
  std::string user_id;
  std::string prefix;
  std::string sha256;
  std::optional<Timestamp> expires_at;
};
struct Revoke {};
using Command = std::variant<Issue, Revoke>;

// 8 of [a-z0-9].
bool valid_prefix(std::string_view prefix);

struct Aggregate {
  using State = api_key::State;
  using Event = api_key::Event;
  using Command = api_key::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Issue>(c); }
};

}  // namespace eventcrm::domain::api_key
