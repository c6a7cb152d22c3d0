// Settings: a key/value aggregate with a table of known keys.
#include "domain/settings.hpp"

#include "domain/codec.hpp"
#include "domain/money.hpp"

namespace eventcrm::domain::settings {
namespace {
enum class Kind { flag, currency };
struct Known {
  std::string_view key;
  Kind kind;
};
constexpr Known kKnown[] = {
    {kAssignmentNotifications, Kind::flag},
    {kReportingCurrency, Kind::currency},
};
}  // namespace

const std::string* State::find(std::string_view key) const {
  for (const auto& e : values) {
    if (e.key == key)
      return &e.value;
  }
  return nullptr;
}

bool State::assignment_notifications() const {
  const std::string* v = find(kAssignmentNotifications);
  return v == nullptr || *v == "true";
}

std::string State::reporting_currency() const {
  const std::string* v = find(kReportingCurrency);
  return v == nullptr ? std::string(kDefaultReportingCurrency) : *v;
}

void apply(State& s, const Event& e) {
  const auto& c = std::get<Changed>(e);
  for (auto& entry : s.values) {
    if (entry.key == c.key) {
      entry.value = c.value;
      return;
    }
  }
  s.values.push_back({c.key, c.value});
}

Result<std::vector<Event>> decide(const State& s, const Command& cmd, const Context&) {
  const auto& c = std::get<Change>(cmd);
  const Known* known = nullptr;
  for (const auto& k : kKnown) {
    if (k.key == c.key)
      known = &k;
  }
  Validation v;
  if (known == nullptr) {
    v.add("key", "unknown setting");
  } else if (known->kind == Kind::flag) {
    v.require(c.value == "true" || c.value == "false", "value", "must be \"true\" or \"false\"");
  } else if (known->kind == Kind::currency) {
    v.require(valid_currency(c.value), "value", "must be an ISO 4217 code, e.g. \"VND\"");
  }
  if (!v.ok())
    return v.error();
  const std::string* current = s.find(c.key);
  if (current != nullptr && *current == c.value)
    return std::vector<Event>{};  // already so
  Changed ev{c.key, c.value, current ? std::optional<std::string>(*current) : std::nullopt};
  return std::vector<Event>{ev};
}

std::string encode(const Event& e) {
  return codec::encode_event(e);
}
Result<Event> decode(std::string_view type, std::string_view json) {
  return codec::decode_event<Event>(type, json);
}
std::vector<std::string_view> event_types() {
  return codec::event_types<Event>();
}
std::string_view Aggregate::type_of(const Event& e) {
  return codec::type_of(e);
}
std::string Aggregate::encode_state(const State& s) {
  return codec::encode(s);
}
bool Aggregate::decode_state(std::string_view bytes, State& s) {
  auto r = codec::decode<State>(bytes);
  if (!r)
    return false;
  s = std::move(*r);
  return true;
}

}  // namespace eventcrm::domain::settings
