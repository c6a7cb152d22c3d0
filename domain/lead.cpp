// Lead decisions: qualification, assignment and conversion.
#include "domain/lead.hpp"

#include "common/personal_data.hpp"
#include "domain/codec.hpp"
#include "domain/normalize.hpp"

namespace eventcrm::domain::lead {
namespace {
using Events = std::vector<Event>;

std::vector<std::string> allowed_actions(Status s) {
  switch (s) {
    case Status::open:
      return {"qualify", "disqualify", "assign"};
    case Status::qualified:
      return {"convert", "disqualify", "assign"};
    case Status::disqualified:
      return {"qualify", "assign"};
    default:
      return {};
  }
}
Unexpected<Error> not_allowed(const State& s) {
  return invalid_transition(std::string("the lead is ") + to_string(s.status),
                            allowed_actions(s.status));
}
Context for_record(const Context& ctx, std::string id) {
  Context c = ctx;
  c.id = std::move(id);
  return c;
}
}  // namespace

const char* to_string(Status s) noexcept {
  switch (s) {
    case Status::none:
      return "none";
    case Status::open:
      return "open";
    case Status::qualified:
      return "qualified";
    case Status::disqualified:
      return "disqualified";
    case Status::converted:
      return "converted";
  }
  return "none";
}

std::optional<std::string> State::normalized_email() const {
  return email ? normalize_email(*email) : std::nullopt;
}
std::optional<std::string> State::normalized_phone() const {
  return phone ? normalize_phone(*phone) : std::nullopt;
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.status = Status::open;
                   s.id = x.lead_id;
                   s.company = x.company;
                   s.first_name = x.first_name;
                   s.last_name = x.last_name;
                   s.email = x.email;
                   s.phone = x.phone;
                   s.campaign_id = x.campaign_id;
                   s.owner_id = x.owner_id;
                 },
                 [&](const Qualified&) { s.status = Status::qualified; },
                 [&](const Disqualified&) { s.status = Status::disqualified; },
                 [&](const Assigned& x) { s.owner_id = x.owner_id; },
                 [&](const Converted& x) {
                   s.status = Status::converted;
                   s.account_id = x.account_id;
                 },
                 [&](const notification::Requested&) {},
                 [&](const Forgotten&) {
                   s.forgotten = true;
                   const std::string marker(kErasedMarker);
                   s.first_name = s.first_name.empty() ? "" : marker;
                   s.last_name = marker;
                   if (s.email)
                     s.email = marker;
                   if (s.phone)
                     s.phone = marker;
                 },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Create>(&cmd)) {
    if (s.status != Status::none)
      return fail(errc::already_exists, "lead already exists");
    Validation v;
    v.require(!c->company.empty(), "company", "required");
    v.require(!c->last_name.empty(), "last_name", "required");
    if (c->email)
      v.require(normalize_email(*c->email).has_value(), "email", "not an email address");
    if (c->phone)
      v.require(normalize_phone(*c->phone).has_value(), "phone", "not a phone number");
    if (c->owner_id)
      v.require(!c->owner_id->empty(), "owner_id", "must not be empty");
    if (!v.ok())
      return v.error();
    Created created{
        ctx.id,    c->company, c->first_name,  c->last_name, c->email,
        c->phone,  c->source,  c->campaign_id, c->utm,       c->owner_id.value_or(ctx.actor),
        ctx.actor, ctx.now};
    Events out{created};
    if (auto n = notification::for_assignment(ctx, "lead", ctx.id, std::nullopt, created.owner_id,
                                              created.company)) {
      out.push_back(*n);
    }
    return out;
  }
  if (s.status == Status::none)
    return fail(errc::not_found, "no such lead");
  if (std::holds_alternative<Forget>(cmd)) {
    if (s.forgotten)
      return Events{};
    return Events{Forgotten{s.id, ctx.actor, ctx.now}};
  }
  if (s.forgotten)
    return invalid_transition("the lead's personal data was erased", {});
  return std::visit(
      codec::overloaded{
          [&](const Qualify&) -> Result<Events> {
            if (s.status != Status::open && s.status != Status::disqualified)
              return not_allowed(s);
            return Events{Qualified{s.id, s.campaign_id, ctx.actor}};
          },
          [&](const Disqualify& c) -> Result<Events> {
            if (s.status != Status::open && s.status != Status::qualified)
              return not_allowed(s);
            Validation v;
            v.require(!c.reason.empty(), "reason", "required");
            if (!v.ok())
              return v.error();
            return Events{Disqualified{s.id, s.campaign_id, c.reason}};
          },
          [&](const Assign& c) -> Result<Events> {
            if (s.status == Status::converted)
              return not_allowed(s);
            Validation v;
            v.require(!c.owner_id.empty(), "owner_id", "required");
            if (!v.ok())
              return v.error();
            if (c.owner_id == s.owner_id)
              return Events{};
            Events out{Assigned{s.id, c.owner_id, s.owner_id}};
            if (auto n = notification::for_assignment(ctx, "lead", s.id, std::nullopt, c.owner_id,
                                                      s.company)) {
              out.push_back(*n);
            }
            return out;
          },
          [&](const Create&) -> Result<Events> { return fail(errc::already_exists, "exists"); },
          [&](const Forget&) -> Result<Events> { return Events{}; },
      },
      cmd);
}

Result<Conversion> decide_conversion(const State& s, const account::State* existing,
                                     const Convert& c, const Context& ctx) {
  if (s.status == Status::none)
    return fail(errc::not_found, "no such lead");
  if (s.forgotten)
    return invalid_transition("the lead's personal data was erased", {});
  if (s.status != Status::qualified)
    return not_allowed(s);
  if (c.account_id) {
    if (existing == nullptr || !existing->exists) {
      Validation v;
      v.add("account_id", "no such account");
      return v.error();
    }
    if (existing->archived) {
      Validation v;
      v.add("account_id", "the account is archived");
      return v.error();
    }
  }
  Conversion out;
  std::string owner = c.owner_id.value_or(s.owner_id);
  if (c.account_id) {
    out.account_id = *c.account_id;
  } else {
    out.account_id = ctx.next_id();
    account::Create create;
    create.profile.name = s.company;
    create.owner_id = owner;
    create.lead_id = s.id;
    auto acc = account::decide_create(create, for_record(ctx, out.account_id));
    if (!acc)
      return unexpected(std::move(acc).error());
    out.account = *acc;
  }
  out.contact_id = ctx.next_id();
  contact::Create person;
  if (!s.first_name.empty())
    person.profile.first_name = s.first_name;
  person.profile.last_name = s.last_name;
  person.profile.email = s.email;
  person.profile.phone = s.phone;
  person.account_id = out.account_id;
  person.owner_id = owner;
  person.lead_id = s.id;
  auto con = contact::decide_create(person, for_record(ctx, out.contact_id));
  if (!con)
    return unexpected(std::move(con).error());
  out.contact = *con;

  out.opportunity_id = ctx.next_id();
  opportunity::Create deal{out.account_id, c.opportunity_name.value_or(s.company),
                           c.amount,       c.expected_close_date,
                           c.stage,        std::nullopt,
                           owner,          s.campaign_id,
                           out.contact_id, s.id};
  auto opp = opportunity::decide_create(deal, for_record(ctx, out.opportunity_id));
  if (!opp) {
    Error e = std::move(opp).error();
    for (auto& f : e.fields)
      f.field = "opportunity." + f.field;
    return unexpected(std::move(e));
  }
  out.opportunity_events.push_back(*opp);
  if (auto n = notification::for_assignment(ctx, "opportunity", out.opportunity_id, out.account_id,
                                            owner, opp->name)) {
    out.opportunity_events.push_back(*n);
  }
  out.lead_events.push_back(Converted{s.id, out.account_id, out.contact_id, out.opportunity_id,
                                      !c.account_id.has_value(), s.campaign_id});
  return out;
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

}  // namespace eventcrm::domain::lead
