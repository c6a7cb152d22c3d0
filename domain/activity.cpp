// Logging an activity in the care log.
#include "domain/activity.hpp"

#include <algorithm>

#include "domain/codec.hpp"

namespace eventcrm::domain::activity {

const std::vector<std::string>& kinds() {
  static const std::vector<std::string> k = {"call", "meeting", "email", "sms", "visit", "note"};
  return k;
}

void Aggregate::apply(State& s, const Event& e) {
  const auto& x = std::get<Logged>(e);
  s.exists = true;
  s.account_id = x.account_id;
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  const auto& c = std::get<Log>(cmd);
  if (s.exists)
    return fail(errc::already_exists, "activity already logged");
  Validation v;
  v.require(!c.account_id.empty(), "account_id", "required");
  v.require(std::find(kinds().begin(), kinds().end(), c.kind) != kinds().end(), "kind",
            "one of call, meeting, email, sms, visit, note");
  v.require(!c.subject.empty(), "subject", "required");
  if (c.duration_minutes) {
    v.require(*c.duration_minutes >= 0 && *c.duration_minutes <= 24 * 60, "duration_minutes",
              "between 0 and 1440");
  }
  if (!v.ok())
    return v.error();
  return std::vector<Event>{Logged{ctx.id, c.account_id, c.kind, c.contact_id, c.lead_id,
                                   c.opportunity_id, c.subject, c.notes, c.outcome,
                                   c.duration_minutes, c.occurred_at.value_or(ctx.now), ctx.actor}};
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

}  // namespace eventcrm::domain::activity
