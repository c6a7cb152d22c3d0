// Opportunity decisions: creation, stage changes through the pipeline, win/lose/reopen.
#include "domain/opportunity.hpp"

#include "domain/codec.hpp"

namespace eventcrm::domain::opportunity {
namespace {

using Events = std::vector<Event>;

const std::vector<std::string> kOpenActions = {"change-stage", "update", "win", "lose", "assign"};
const std::vector<std::string> kClosedActions = {"reopen", "assign"};

std::vector<std::string> allowed_actions(const State& s) {
  return s.status == Status::open ? kOpenActions : kClosedActions;
}

void check_money(Validation& v, const Money& m, const char* field) {
  v.require(m.amount >= Decimal{}, field, "must not be negative");
  v.require(valid_currency(m.currency), field, "currency must be an ISO 4217 code");
}
void check_probability(Validation& v, std::optional<int> p) {
  if (p)
    v.require(*p >= 0 && *p <= 100, "probability", "must be between 0 and 100");
}

Won won(const State& s, const Context& ctx) {
  return Won{s.id, s.account_id, s.amount, s.stage, s.campaign_id, ctx.now.date()};
}
Lost lost(const State& s, std::string reason, const Context& ctx) {
  return Lost{s.id, s.account_id, std::move(reason), s.stage, s.campaign_id, ctx.now.date()};
}

Result<Events> change_stage(const State& s, const ChangeStage& c, const Context& ctx) {
  std::vector<std::string> targets;
  for (const auto& name : ctx.pipeline.names()) {
    if (name != s.stage)
      targets.push_back(name);
  }
  targets.push_back("won");
  targets.push_back("lost");
  if (c.stage == "won")
    return Events{won(s, ctx)};
  if (c.stage == "lost") {
    if (!c.reason || c.reason->empty()) {
      Validation v;
      v.add("reason", "required when an opportunity is lost");
      return v.error();
    }
    return Events{lost(s, *c.reason, ctx)};
  }
  const PipelineStage* target = ctx.pipeline.find(c.stage);
  if (target == nullptr || c.stage == s.stage) {
    return invalid_transition("cannot move from stage \"" + s.stage + "\" to \"" + c.stage + "\"",
                              targets);
  }
  Validation v;
  check_probability(v, c.probability);
  if (!v.ok())
    return v.error();
  return Events{StageChanged{s.id, s.account_id, s.stage, c.stage,
                             c.probability.value_or(target->probability), ctx.now}};
}

Result<Events> reopen(const State& s, const Reopen& c, const Context& ctx) {
  std::string stage = c.stage.value_or(s.stage);
  const PipelineStage* target = ctx.pipeline.find(stage);
  if (target == nullptr) {
    Validation v;
    v.add("stage", "unknown stage; one of the pipeline's stages is required");
    return v.error();
  }
  return Events{Reopened{s.id, s.account_id, to_string(s.status), stage, target->probability}};
}

}  // namespace

const char* to_string(Status s) noexcept {
  switch (s) {
    case Status::none:
      return "none";
    case Status::open:
      return "open";
    case Status::won:
      return "won";
    case Status::lost:
      return "lost";
  }
  return "none";
}

Result<Created> decide_create(const Create& c, const Context& ctx) {
  Validation v;
  v.require(!c.account_id.empty(), "account_id", "required");
  v.require(!c.name.empty(), "name", "required");
  check_money(v, c.amount, "amount");
  v.require(c.expected_close_date.has_value(), "expected_close_date", "required");
  check_probability(v, c.probability);
  const PipelineStage* stage =
      c.stage ? ctx.pipeline.find(*c.stage)
              : (ctx.pipeline.stages.empty() ? nullptr : &ctx.pipeline.stages.front());
  v.require(stage != nullptr, "stage", "unknown stage");
  if (c.owner_id)
    v.require(!c.owner_id->empty(), "owner_id", "must not be empty");
  if (!v.ok())
    return v.error();
  return Created{ctx.id,
                 c.account_id,
                 c.contact_id,
                 c.lead_id,
                 c.name,
                 c.amount,
                 *c.expected_close_date,
                 c.probability.value_or(stage->probability),
                 stage->name,
                 c.owner_id.value_or(ctx.actor),
                 c.campaign_id,
                 ctx.actor,
                 ctx.now};
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.status = Status::open;
                   s.id = x.opportunity_id;
                   s.account_id = x.account_id;
                   s.name = x.name;
                   s.amount = x.amount;
                   s.expected_close_date = x.expected_close_date;
                   s.probability = x.probability;
                   s.stage = x.stage;
                   s.owner_id = x.owner_id;
                   s.campaign_id = x.campaign_id;
                 },
                 [&](const StageChanged& x) {
                   s.stage = x.to_stage;
                   s.probability = x.probability;
                 },
                 [&](const Updated& x) {
                   if (x.name)
                     s.name = *x.name;
                   if (x.amount)
                     s.amount = *x.amount;
                   if (x.expected_close_date)
                     s.expected_close_date = *x.expected_close_date;
                   if (x.probability)
                     s.probability = *x.probability;
                 },
                 [&](const Won&) {
                   s.status = Status::won;
                   s.probability = 100;
                 },
                 [&](const Lost&) {
                   s.status = Status::lost;
                   s.probability = 0;
                 },
                 [&](const Reopened& x) {
                   s.status = Status::open;
                   s.stage = x.stage;
                   s.probability = x.probability;
                 },
                 [&](const Assigned& x) { s.owner_id = x.owner_id; },
                 [&](const notification::Requested&) {},
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Create>(&cmd)) {
    if (s.status != Status::none)
      return fail(errc::already_exists, "opportunity already exists");
    auto created = decide_create(*c, ctx);
    if (!created)
      return unexpected(std::move(created).error());
    Events out{*created};
    if (auto n =
            notification::for_assignment(ctx, "opportunity", created->opportunity_id,
                                         created->account_id, created->owner_id, created->name)) {
      out.push_back(*n);
    }
    return out;
  }
  if (s.status == Status::none)
    return fail(errc::not_found, "no such opportunity");

  // Assignment is allowed in every status; the other commands need an open opportunity,
  // except reopen which needs a closed one.
  if (const auto* c = std::get_if<Assign>(&cmd)) {
    Validation v;
    v.require(!c->owner_id.empty(), "owner_id", "required");
    if (!v.ok())
      return v.error();
    if (c->owner_id == s.owner_id)
      return Events{};
    Events out{Assigned{s.id, s.account_id, c->owner_id, s.owner_id}};
    if (auto n = notification::for_assignment(ctx, "opportunity", s.id, s.account_id, c->owner_id,
                                              s.name)) {
      out.push_back(*n);
    }
    return out;
  }
  if (const auto* c = std::get_if<Reopen>(&cmd)) {
    if (s.status == Status::open) {
      return invalid_transition("the opportunity is open", allowed_actions(s));
    }
    return reopen(s, *c, ctx);
  }
  if (s.status != Status::open) {
    return invalid_transition(std::string("the opportunity is ") + to_string(s.status),
                              allowed_actions(s));
  }
  return std::visit(
      codec::overloaded{
          [&](const ChangeStage& c) { return change_stage(s, c, ctx); },
          [&](const Update& c) -> Result<Events> {
            Validation v;
            if (c.name)
              v.require(!c.name->empty(), "name", "must not be empty");
            if (c.amount)
              check_money(v, *c.amount, "amount");
            check_probability(v, c.probability);
            if (!v.ok())
              return v.error();
            Updated u{s.id, s.account_id, {}, {}, {}, {}};
            if (c.name && *c.name != s.name)
              u.name = c.name;
            if (c.amount && !(*c.amount == s.amount))
              u.amount = c.amount;
            if (c.expected_close_date && *c.expected_close_date != s.expected_close_date) {
              u.expected_close_date = c.expected_close_date;
            }
            if (c.probability && *c.probability != s.probability)
              u.probability = c.probability;
            if (!u.name && !u.amount && !u.expected_close_date && !u.probability)
              return Events{};
            return Events{u};
          },
          [&](const Win&) -> Result<Events> { return Events{won(s, ctx)}; },
          [&](const Lose& c) -> Result<Events> {
            if (c.reason.empty()) {
              Validation v;
              v.add("reason", "required");
              return v.error();
            }
            return Events{lost(s, c.reason, ctx)};
          },
          [&](const auto&) -> Result<Events> {
            return fail(errc::validation, "command handled above");
          },
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

}  // namespace eventcrm::domain::opportunity
