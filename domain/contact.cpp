// Contact decisions.
#include "domain/contact.hpp"

#include "domain/codec.hpp"
#include "domain/normalize.hpp"

namespace eventcrm::domain::contact {
namespace {
using Events = std::vector<Event>;

template <class M>
void each_field(Profile& a, const Profile& b, M&& m) {
  m(a.first_name, b.first_name);
  m(a.last_name, b.last_name);
  m(a.email, b.email);
  m(a.phone, b.phone);
  m(a.title, b.title);
}
void merge(Profile& into, const Profile& changes) {
  each_field(into, changes, [](std::optional<std::string>& f, const std::optional<std::string>& v) {
    if (!v)
      return;
    if (v->empty()) {
      f.reset();
    } else {
      f = v;
    }
  });
}
void check(Validation& v, const Profile& p, bool creating) {
  if (creating) {
    v.require(p.last_name && !p.last_name->empty(), "last_name", "required");
  } else if (p.last_name) {
    v.require(!p.last_name->empty(), "last_name", "must not be empty");
  }
  if (p.email && !p.email->empty()) {
    v.require(normalize_email(*p.email).has_value(), "email", "not an email address");
  }
  if (p.phone && !p.phone->empty()) {
    v.require(normalize_phone(*p.phone).has_value(), "phone", "not a phone number");
  }
}
}  // namespace

Profile erased(Profile p) {
  for (auto* f : {&p.first_name, &p.last_name, &p.email, &p.phone}) {
    if (*f)
      *f = std::string(kErasedMarker);
  }
  return p;
}

Result<Created> decide_create(const Create& c, const Context& ctx) {
  Validation v;
  check(v, c.profile, true);
  if (c.account_id)
    v.require(!c.account_id->empty(), "account_id", "must not be empty");
  if (c.owner_id)
    v.require(!c.owner_id->empty(), "owner_id", "must not be empty");
  if (!v.ok())
    return v.error();
  Profile p;
  merge(p, c.profile);
  return Created{ctx.id,    c.account_id, p,      c.owner_id.value_or(ctx.actor),
                 c.lead_id, ctx.actor,    ctx.now};
}

std::optional<std::string> State::normalized_email() const {
  return profile.email ? normalize_email(*profile.email) : std::nullopt;
}
std::optional<std::string> State::normalized_phone() const {
  return profile.phone ? normalize_phone(*profile.phone) : std::nullopt;
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.exists = true;
                   s.id = x.contact_id;
                   s.account_id = x.account_id;
                   s.profile = x.profile;
                   s.owner_id = x.owner_id;
                 },
                 [&](const Updated& x) { merge(s.profile, x.changes); },
                 [&](const OwnerAssigned& x) { s.owner_id = x.owner_id; },
                 [&](const LinkedToAccount& x) { s.account_id = x.account_id; },
                 [&](const UnlinkedFromAccount&) { s.account_id.reset(); },
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
      return fail(errc::already_exists, "contact already exists");
    auto created = decide_create(*c, ctx);
    if (!created)
      return unexpected(std::move(created).error());
    return Events{*created};
  }
  if (!s.exists)
    return fail(errc::not_found, "no such contact");
  if (std::holds_alternative<Forget>(cmd)) {
    if (s.forgotten)
      return Events{};
    return Events{Forgotten{s.id, s.account_id, ctx.actor, ctx.now}};
  }
  if (s.forgotten)
    return invalid_transition("the contact's personal data was erased", {});
  if (s.archived)
    return invalid_transition("the contact is archived", {});
  return std::visit(
      codec::overloaded{
          [&](const Update& c) -> Result<Events> {
            Validation v;
            check(v, c.changes, false);
            if (!v.ok())
              return v.error();
            Profile changes;
            Profile current = s.profile;
            each_field(changes, c.changes,
                       [](std::optional<std::string>& out, const std::optional<std::string>& in) {
                         out = in;
                       });
            // Drop fields that would not change anything.
            auto drop = [](std::optional<std::string>& change,
                           const std::optional<std::string>& cur) {
              if (change && (change->empty() ? !cur : change == cur))
                change.reset();
            };
            drop(changes.first_name, current.first_name);
            drop(changes.last_name, current.last_name);
            drop(changes.email, current.email);
            drop(changes.phone, current.phone);
            drop(changes.title, current.title);
            if (changes == Profile{})
              return Events{};
            return Events{Updated{s.id, s.account_id, changes}};
          },
          [&](const AssignOwner& c) -> Result<Events> {
            Validation v;
            v.require(!c.owner_id.empty(), "owner_id", "required");
            if (!v.ok())
              return v.error();
            if (c.owner_id == s.owner_id)
              return Events{};
            return Events{OwnerAssigned{s.id, s.account_id, c.owner_id, s.owner_id}};
          },
          [&](const LinkAccount& c) -> Result<Events> {
            Validation v;
            v.require(!c.account_id.empty(), "account_id", "required");
            if (!v.ok())
              return v.error();
            if (s.account_id == c.account_id)
              return Events{};
            return Events{LinkedToAccount{s.id, c.account_id, s.account_id}};
          },
          [&](const UnlinkAccount&) -> Result<Events> {
            if (!s.account_id) {
              return invalid_transition("the contact is not linked to an account",
                                        {"link-account"});
            }
            return Events{UnlinkedFromAccount{s.id, *s.account_id}};
          },
          [&](const Archive& c) -> Result<Events> {
            return Events{Archived{s.id, s.account_id, c.reason}};
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

}  // namespace eventcrm::domain::contact
