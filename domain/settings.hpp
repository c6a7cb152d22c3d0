// System settings that shape decisions and reports (one stream, "settings-global"), e.g. whether
// assignment notifications are sent and which currency the sales reports sum in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"

namespace eventcrm::domain::settings {

inline constexpr std::string_view kCategory = "settings";
inline constexpr std::string_view kGlobalId = "global";
inline constexpr std::string_view kAssignmentNotifications = "notifications.assignment_enabled";
// The currency the pipeline report and the sales dashboard sum in (ISO 4217, default VND);
// amounts in other currencies are reported apart, never converted.
inline constexpr std::string_view kReportingCurrency = "reports.currency";
inline constexpr std::string_view kDefaultReportingCurrency = "VND";

struct Changed {
  static constexpr std::string_view kType = "settings.changed.v1";
  std::string key;
  std::string value;
  std::optional<std::string> previous_value;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("key", s.key);
    f("value", s.value);
    f("previous_value", s.previous_value);
  }
  bool operator==(const Changed&) const = default;
};
using Event = std::variant<Changed>;

struct Entry {
  std::string key;
  std::string value;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("key", s.key);
    f("value", s.value);
  }
  bool operator==(const Entry&) const = default;
};

struct State {
  std::vector<Entry> values;  // only keys that were set; the rest have their defaults

  const std::string* find(std::string_view key) const;
  bool assignment_notifications() const;   // default on
  std::string reporting_currency() const;  // default kDefaultReportingCurrency
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("values", s.values);
  }
  bool operator==(const State&) const = default;
};

struct Change {
  std::string key;
  std::string value;
};
using Command = std::variant<Change>;

void apply(State& s, const Event& e);
// Known keys only, with values of the key's type ("true"/"false" for flags, an ISO 4217 code
// for currencies).
Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
std::string encode(const Event& e);
Result<Event> decode(std::string_view type, std::string_view json);
std::vector<std::string_view> event_types();

struct Aggregate {
  using State = settings::State;
  using Event = settings::Event;
  using Command = settings::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e) { settings::apply(s, e); }
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx) {
    return settings::decide(s, c, ctx);
  }
  static std::string encode(const Event& e) { return settings::encode(e); }
  static Result<Event> decode(std::string_view t, std::string_view j) {
    return settings::decode(t, j);
  }
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types() { return settings::event_types(); }
  static bool retryable(const Command&) { return true; }
  // The settings stream only grows: its state is snapshotted.
  static std::string encode_state(const State& s);
  static bool decode_state(std::string_view bytes, State& s);
};

}  // namespace eventcrm::domain::settings
