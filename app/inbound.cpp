// Inbound messages → domain commands; see inbound.hpp. The message shapes are the HTTP bodies of
// POST /v1/leads and POST /v1/activities (documented in consumers/schemas/).
#include "app/inbound.hpp"

#include "app/marketing.hpp"
#include "domain/activity.hpp"
#include "domain/codec.hpp"
#include "domain/json.hpp"
#include "domain/lead.hpp"

namespace eventcrm::app {
namespace {

struct LeadMessage {
  std::string company;
  std::string first_name;
  std::string last_name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> source;
  std::optional<std::string> campaign_id;
  std::optional<domain::lead::Utm> utm;
  std::optional<std::string> owner_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("company", s.company);
    f("first_name", s.first_name);
    f("last_name", s.last_name);
    f("email", s.email);
    f("phone", s.phone);
    f("source", s.source);
    f("campaign_id", s.campaign_id);
    f("utm", s.utm);
    f("owner_id", s.owner_id);
  }
};

struct InteractionMessage {
  std::string kind;
  std::string account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> lead_id;
  std::optional<std::string> opportunity_id;
  std::string subject;
  std::optional<std::string> notes;
  std::optional<std::string> outcome;
  std::optional<int> duration_minutes;
  std::optional<domain::Timestamp> occurred_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("kind", s.kind);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("lead_id", s.lead_id);
    f("opportunity_id", s.opportunity_id);
    f("subject", s.subject);
    f("notes", s.notes);
    f("outcome", s.outcome);
    f("duration_minutes", s.duration_minutes);
    f("occurred_at", s.occurred_at);
  }
};

struct CampaignResponseMessage {
  std::string campaign_id;
  std::optional<std::string> id;
  std::string kind;
  std::optional<std::string> contact_id;
  std::optional<std::string> lead_id;
  std::optional<domain::Timestamp> time;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("id", s.id);
    f("kind", s.kind);
    f("contact_id", s.contact_id);
    f("lead_id", s.lead_id);
    f("time", s.time);
  }
};

InboundOutcome rejected(std::string why) {
  return {InboundOutcome::Kind::rejected, std::move(why), {}};
}

template <class Message>
bool decode(std::string_view json, Message& out, std::string& error) {
  auto parsed = domain::json::parse(json);
  if (!parsed) {
    error = "not valid JSON: " + parsed.error();
    return false;
  }
  return domain::codec::get_fields(*parsed, out, "", error);
}

// A store failure is worth another try; anything else about the command is the message's fault.
InboundOutcome outcome_of(Result<CommandResult> r) {
  if (r)
    return {InboundOutcome::Kind::done, {}, std::move(*r)};
  const Error& e = r.error();
  std::string why = std::string(to_string(e.code)) + ": " + e.message;
  for (const auto& f : e.fields)
    why += "; " + f.field + ": " + f.message;
  if (e.code == errc::store_failure || e.code == errc::conflict)
    return {InboundOutcome::Kind::retry, std::move(why), {}};
  return rejected(std::move(why));
}

bool record_exists(CommandRunner& runner, std::string_view category, std::string_view id) {
  std::string stream = domain::stream_name(category, id);
  if (!store::valid_stream_name(stream))
    return false;
  auto v = runner.store().stream_version(stream);
  return v && *v >= 0;
}

}  // namespace

InboundOutcome run_inbound(CommandRunner& runner, InboundKind kind, std::string_view json,
                           std::string_view message_id, std::string_view source) {
  if (message_id.empty() || message_id.size() > 255)
    return rejected("the message needs a stable id of 1 to 255 bytes");
  CommandOptions options;
  options.metadata.actor = std::string(source);
  options.metadata.correlation_id = std::string(message_id);
  options.idempotency_key = std::string(source) + "\n" + std::string(message_id);
  options.request_digest = digest_of(json);
  std::string error;
  switch (kind) {
    case InboundKind::lead: {
      LeadMessage m;
      if (!decode(json, m, error))
        return rejected(error);
      domain::lead::Create c{
          m.company, m.first_name, m.last_name,   m.email,
          m.phone,   m.source,     m.campaign_id, m.utm.value_or(domain::lead::Utm{}),
          m.owner_id};
      if (!c.source)
        c.source = std::string(source);
      return outcome_of(runner.run<domain::lead::Aggregate>(runner.new_id(options), c, options));
    }
    case InboundKind::interaction: {
      InteractionMessage m;
      if (!decode(json, m, error))
        return rejected(error);
      if (!record_exists(runner, domain::account::kCategory, m.account_id))
        return rejected("account_id: no account " + m.account_id);
      domain::activity::Log c{m.account_id,       m.kind,       m.contact_id, m.lead_id,
                              m.opportunity_id,   m.subject,    m.notes,      m.outcome,
                              m.duration_minutes, m.occurred_at};
      return outcome_of(
          runner.run<domain::activity::Aggregate>(runner.new_id(options), c, options));
    }
    case InboundKind::campaign_response: {
      CampaignResponseMessage m;
      if (!decode(json, m, error))
        return rejected(error);
      // Idempotent by the response id: a redelivered message is a duplicate, written nothing.
      domain::campaign::Response r{m.id ? m.id : std::optional<std::string>(message_id), m.kind,
                                   m.contact_id, m.lead_id, m.time};
      CommandOptions plain = options;
      plain.idempotency_key.clear();
      auto out = record_activity(runner, m.campaign_id,
                                 domain::campaign::RecordResponses{{std::move(r)}}, plain);
      if (!out)
        return outcome_of(unexpected(std::move(out).error()));
      return {InboundOutcome::Kind::done, {}, CommandResult{m.campaign_id, -1, out->position}};
    }
  }
  return rejected("unknown inbound kind");
}

}  // namespace eventcrm::app
