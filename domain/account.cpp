// Account decisions.
#include "domain/account.hpp"

#include "domain/codec.hpp"
#include "domain/normalize.hpp"

namespace eventcrm::domain::account {
namespace {
using Events = std::vector<Event>;
const std::vector<std::string> kArchivedActions = {};

void merge(Profile& into, const Profile& changes) {
  auto set = [](std::optional<std::string>& field, const std::optional<std::string>& v) {
    if (!v)
      return;
    if (v->empty()) {
      field.reset();
    } else {
      field = v;
    }
  };
  set(into.name, changes.name);
  set(into.industry, changes.industry);
  set(into.website, changes.website);
  set(into.email, changes.email);
  set(into.phone, changes.phone);
  set(into.tax_id, changes.tax_id);
  set(into.address, changes.address);
}
}  // namespace

void check_profile(Validation& v, const Profile& p, bool creating, const char* prefix) {
  std::string pre = prefix;
  if (creating) {
    v.require(p.name && !p.name->empty(), pre + "name", "required");
  } else if (p.name) {
    v.require(!p.name->empty(), pre + "name", "must not be empty");
  }
  if (p.email && !p.email->empty()) {
    v.require(normalize_email(*p.email).has_value(), pre + "email", "not an email address");
  }
  if (p.phone && !p.phone->empty()) {
    v.require(normalize_phone(*p.phone).has_value(), pre + "phone", "not a phone number");
  }
  if (p.tax_id && !p.tax_id->empty()) {
    v.require(normalize_tax_id(*p.tax_id).has_value(), pre + "tax_id", "not a tax id");
  }
}

Result<Created> decide_create(const Create& c, const Context& ctx) {
  Validation v;
  check_profile(v, c.profile, true);
  if (c.owner_id)
    v.require(!c.owner_id->empty(), "owner_id", "must not be empty");
  if (!v.ok())
    return v.error();
  Profile p;
  merge(p, c.profile);  // drops empty optional fields
  return Created{ctx.id, p, c.owner_id.value_or(ctx.actor), c.lead_id, ctx.actor, ctx.now};
}

std::optional<std::string> State::normalized_email() const {
  return profile.email ? normalize_email(*profile.email) : std::nullopt;
}
std::optional<std::string> State::normalized_phone() const {
  return profile.phone ? normalize_phone(*profile.phone) : std::nullopt;
}
std::optional<std::string> State::normalized_tax_id() const {
  return profile.tax_id ? normalize_tax_id(*profile.tax_id) : std::nullopt;
}

Profile erased(Profile p) {
  for (auto* f : {&p.email, &p.phone, &p.tax_id, &p.address}) {
    if (*f)
      *f = std::string(kErasedMarker);
  }
  return p;
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.exists = true;
                   s.id = x.account_id;
                   s.profile = x.profile;
                   s.owner_id = x.owner_id;
                 },
                 [&](const Updated& x) { merge(s.profile, x.changes); },
                 [&](const OwnerAssigned& x) { s.owner_id = x.owner_id; },
                 [&](const Archived&) { s.archived = true; },
                 [&](const Forgotten&) {
                   s.forgotten = true;
                   s.profile = erased(s.profile);
                 },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Create>(&cmd)) {
    if (s.exists)
      return fail(errc::already_exists, "account already exists");
    auto created = decide_create(*c, ctx);
    if (!created)
      return unexpected(std::move(created).error());
    return Events{*created};
  }
  if (!s.exists)
    return fail(errc::not_found, "no such account");
  if (std::holds_alternative<Forget>(cmd)) {
    if (s.forgotten)
      return Events{};
    return Events{Forgotten{s.id, ctx.actor, ctx.now}};
  }
  if (s.forgotten)
    return invalid_transition("the account's personal data was erased", {});
  if (s.archived)
    return invalid_transition("the account is archived", kArchivedActions);
  return std::visit(
      codec::overloaded{
          [&](const Update& c) -> Result<Events> {
            Validation v;
            check_profile(v, c.changes, false);
            if (!v.ok())
              return v.error();
            // Keep only real changes.
            Profile changes;
            auto keep = [](std::optional<std::string>& out, const std::optional<std::string>& in,
                           const std::optional<std::string>& current) {
              if (!in)
                return;
              if (in->empty() ? current.has_value() : in != current)
                out = in;
            };
            keep(changes.name, c.changes.name, s.profile.name);
            keep(changes.industry, c.changes.industry, s.profile.industry);
            keep(changes.website, c.changes.website, s.profile.website);
            keep(changes.email, c.changes.email, s.profile.email);
            keep(changes.phone, c.changes.phone, s.profile.phone);
            keep(changes.tax_id, c.changes.tax_id, s.profile.tax_id);
            keep(changes.address, c.changes.address, s.profile.address);
            if (changes == Profile{})
              return Events{};
            return Events{Updated{s.id, changes}};
          },
          [&](const AssignOwner& c) -> Result<Events> {
            Validation v;
            v.require(!c.owner_id.empty(), "owner_id", "required");
            if (!v.ok())
              return v.error();
            if (c.owner_id == s.owner_id)
              return Events{};
            return Events{OwnerAssigned{s.id, c.owner_id, s.owner_id}};
          },
          [&](const Archive& c) -> Result<Events> {
            return Events{Archived{s.id, c.reason}};
          },
          [&](const Create&) -> Result<Events> { return fail(errc::already_exists, "exists"); },
          [&](const Forget&) -> Result<Events> { return Events{}; },
      },
      cmd);
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

}  // namespace eventcrm::domain::account
