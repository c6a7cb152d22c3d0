// Campaign decisions: the wizard steps, launch validation, the lifecycle, costs, tracking links,
// and the checks on the activity stream's facts.
#include "domain/campaign.hpp"

#include <algorithm>
#include <set>

#include "domain/codec.hpp"

namespace eventcrm::domain::campaign {
namespace {
using Events = std::vector<Event>;

constexpr std::size_t kMaxName = 200;
constexpr std::size_t kMaxFilters = 20;
constexpr std::size_t kMaxUrl = 2000;
// Bounds one amount so that a campaign's sums stay far inside Decimal's range.
constexpr Decimal kMaxAmount = Decimal::from_int(1'000'000'000'000);

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> allowed_actions(Status s) {
  switch (s) {
    case Status::draft:
      return {"set-basics", "set-audience", "set-budget", "set-tracking",  "review",
              "launch",     "cancel",       "costs",      "tracking-links"};
    case Status::scheduled:
      return {"start", "cancel", "costs", "tracking-links"};
    case Status::active:
      return {"complete", "cancel", "costs", "tracking-links"};
    case Status::completed:
      return {"costs"};
    default:
      return {"costs"};
  }
}

Unexpected<Error> not_allowed(const State& s) {
  return invalid_transition(std::string("the campaign is ") + to_string(s.status),
                            allowed_actions(s.status));
}

void check_basics(Validation& v, const std::string& name, const std::string& channel,
                  const std::optional<std::string>& objective) {
  v.require(!name.empty() && name.size() <= kMaxName, "name", "required, at most 200 bytes");
  v.require(valid_channel(channel), "channel",
            "one of email, sms, ads, newsletter, webcast, search, telesales, print, tv, event, "
            "other");
  if (objective)
    v.require(objective->size() <= 2000, "objective", "at most 2,000 bytes");
}

void check_budget(Validation& v, const Money& m, std::string_view field) {
  v.require(valid_currency(m.currency), std::string(field) + ".currency", "an ISO 4217 code");
  v.require(m.amount > Decimal{} && m.amount <= kMaxAmount, std::string(field) + ".amount",
            "positive, at most 1,000,000,000,000");
}

void check_period(Validation& v, const std::optional<Date>& from, const std::optional<Date>& to) {
  if (from && to)
    v.require(*from <= *to, "ends_on", "must not be before starts_on");
}

void check_segment(Validation& v, const Segment& s) {
  if (!valid_segment_entity(s.entity)) {
    v.add("segment.entity", "one of accounts, contacts, leads");
    return;
  }
  v.require(s.filters.size() <= kMaxFilters, "segment.filters", "at most 20 filters");
  const auto& allowed = segment_fields(s.entity);
  for (std::size_t i = 0; i < s.filters.size() && i < kMaxFilters; ++i) {
    const auto& f = s.filters[i];
    const std::string at = "segment.filters[" + std::to_string(i) + "]";
    v.require(
        contains(allowed, f.field),
        at + ".field", "not a filter of " + s.entity + " (allowed: " + [&] {
          std::string all;
          for (const auto& a : allowed)
            all += (all.empty() ? "" : ", ") + a;
          return all;
        }() + ")");
    v.require(!f.value.empty() && f.value.size() <= 200, at + ".value",
              "required, at most 200 bytes");
  }
}

}  // namespace

bool valid_channel(std::string_view c) {
  return contains(channels(), c);
}
const std::vector<std::string>& channels() {
  static const std::vector<std::string> all{"email",   "sms",    "ads",       "newsletter",
                                            "webcast", "search", "telesales", "print",
                                            "tv",      "event",  "other"};
  return all;
}
bool valid_response_kind(std::string_view k) {
  return contains(response_kinds(), k);
}
const std::vector<std::string>& response_kinds() {
  static const std::vector<std::string> all{"opened",  "clicked",   "registered",
                                            "replied", "purchased", "unsubscribed"};
  return all;
}
bool valid_segment_entity(std::string_view e) {
  return e == "accounts" || e == "contacts" || e == "leads";
}
const std::vector<std::string>& segment_fields(std::string_view entity) {
  static const std::vector<std::string> accounts{"owner_id", "status"};
  static const std::vector<std::string> contacts{"account_id", "owner_id", "status"};
  static const std::vector<std::string> leads{"status", "owner_id", "source", "campaign_id"};
  static const std::vector<std::string> none;
  if (entity == "accounts")
    return accounts;
  if (entity == "contacts")
    return contacts;
  if (entity == "leads")
    return leads;
  return none;
}

bool valid_target_url(std::string_view url) {
  if (url.empty() || url.size() > kMaxUrl)
    return false;
  std::string_view rest;
  if (url.starts_with("https://"))
    rest = url.substr(8);
  else if (url.starts_with("http://"))
    rest = url.substr(7);
  else
    return false;
  // A host before any path, query or fragment.
  if (rest.empty() || rest.front() == '/' || rest.front() == '?' || rest.front() == '#')
    return false;
  // Printable ASCII only: the URL goes into a Location header as is.
  return std::all_of(url.begin(), url.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

std::string tracking_code(std::string_view fresh_id) {
  std::string code;
  for (char c : fresh_id) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      code.push_back(c);
    if (code.size() == 16)
      break;
  }
  return code;
}

const char* to_string(Status s) noexcept {
  switch (s) {
    case Status::none:
      return "none";
    case Status::draft:
      return "draft";
    case Status::scheduled:
      return "scheduled";
    case Status::active:
      return "active";
    case Status::completed:
      return "completed";
    case Status::cancelled:
      return "cancelled";
  }
  return "none";
}

bool from_string(std::string_view text, Status& out) noexcept {
  for (Status s : {Status::none, Status::draft, Status::scheduled, Status::active,
                   Status::completed, Status::cancelled}) {
    if (text == to_string(s)) {
      out = s;
      return true;
    }
  }
  return false;
}

std::vector<FieldError> missing_for_launch(const State& s, Date today) {
  std::vector<FieldError> out;
  if (s.name.empty())
    out.push_back({"name", "missing (basics step)"});
  if (!valid_channel(s.channel))
    out.push_back({"channel", "missing (basics step)"});
  if (!s.segment)
    out.push_back({"audience", "missing: no target segment (audience step)"});
  if (!s.budget)
    out.push_back({"budget", "missing (budget step)"});
  if (!s.starts_on)
    out.push_back({"starts_on", "missing (budget step)"});
  if (!s.ends_on)
    out.push_back({"ends_on", "missing (budget step)"});
  else if (*s.ends_on < today)
    out.push_back({"ends_on", "the period is over (" + s.ends_on->to_string() + ")"});
  if (!s.landing_url)
    out.push_back({"tracking", "missing: no landing URL (tracking step)"});
  return out;
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.status = Status::draft;
                   s.id = x.campaign_id;
                   s.name = x.name;
                   s.channel = x.channel;
                   s.objective = x.objective;
                   s.budget = x.budget;
                   s.starts_on = x.starts_on;
                   s.ends_on = x.ends_on;
                   if (x.budget)
                     s.currency = x.budget->currency;
                 },
                 [&](const BasicsSet& x) {
                   s.name = x.name;
                   s.channel = x.channel;
                   s.objective = x.objective;
                 },
                 [&](const AudienceSet& x) { s.segment = x.segment; },
                 [&](const BudgetSet& x) {
                   s.budget = x.budget;
                   s.starts_on = x.starts_on;
                   s.ends_on = x.ends_on;
                   s.currency = x.budget.currency;
                 },
                 [&](const TrackingSet& x) { s.landing_url = x.landing_url; },
                 [&](const Reviewed&) {},
                 [&](const Launched& x) {
                   s.status = x.status == "scheduled" ? Status::scheduled : Status::active;
                 },
                 [&](const Started&) { s.status = Status::active; },
                 [&](const Completed&) { s.status = Status::completed; },
                 [&](const Cancelled&) { s.status = Status::cancelled; },
                 [&](const CostRecorded& x) {
                   if (!s.currency)
                     s.currency = x.amount.currency;
                 },
                 [&](const TrackingLinkCreated&) { ++s.links; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Create>(&cmd)) {
    if (s.status != Status::none)
      return fail(errc::already_exists, "campaign already exists");
    Validation v;
    check_basics(v, c->name, c->channel, c->objective);
    if (c->budget)
      check_budget(v, *c->budget, "budget");
    check_period(v, c->starts_on, c->ends_on);
    if (!v.ok())
      return v.error();
    return Events{Created{ctx.id, c->name, c->channel, c->objective, c->budget, c->starts_on,
                          c->ends_on, ctx.actor, ctx.now}};
  }
  if (s.status == Status::none)
    return fail(errc::not_found, "no such campaign");
  const bool draft = s.status == Status::draft;
  return std::visit(
      codec::overloaded{
          [&](const SetBasics& c) -> Result<Events> {
            if (!draft)
              return not_allowed(s);
            Validation v;
            check_basics(v, c.name, c.channel, c.objective);
            if (!v.ok())
              return v.error();
            if (c.name == s.name && c.channel == s.channel && c.objective == s.objective)
              return Events{};
            return Events{BasicsSet{s.id, c.name, c.channel, c.objective}};
          },
          [&](const SetAudience& c) -> Result<Events> {
            if (!draft)
              return not_allowed(s);
            Validation v;
            check_segment(v, c.segment);
            if (!v.ok())
              return v.error();
            if (s.segment == c.segment)
              return Events{};
            return Events{AudienceSet{s.id, c.segment}};
          },
          [&](const SetBudget& c) -> Result<Events> {
            if (!draft)
              return not_allowed(s);
            Validation v;
            check_budget(v, c.budget, "budget");
            auto from = c.starts_on ? c.starts_on : s.starts_on;
            auto to = c.ends_on ? c.ends_on : s.ends_on;
            v.require(from.has_value(), "starts_on", "required");
            v.require(to.has_value(), "ends_on", "required");
            check_period(v, from, to);
            if (!v.ok())
              return v.error();
            if (s.budget == c.budget && s.starts_on == from && s.ends_on == to)
              return Events{};
            return Events{BudgetSet{s.id, c.budget, *from, *to}};
          },
          [&](const SetTracking& c) -> Result<Events> {
            if (!draft)
              return not_allowed(s);
            Validation v;
            v.require(valid_target_url(c.landing_url), "landing_url",
                      "an absolute http(s) URL of at most 2,000 bytes");
            for (const auto* p : {&c.utm_source, &c.utm_medium, &c.utm_campaign})
              if (*p)
                v.require(!(*p)->empty() && (*p)->size() <= 200,
                          p == &c.utm_source   ? "utm_source"
                          : p == &c.utm_medium ? "utm_medium"
                                               : "utm_campaign",
                          "1 to 200 bytes");
            if (!v.ok())
              return v.error();
            return Events{
                TrackingSet{s.id, c.landing_url, c.utm_source, c.utm_medium, c.utm_campaign}};
          },
          [&](const Review&) -> Result<Events> {
            if (!draft)
              return not_allowed(s);
            auto missing = missing_for_launch(s, ctx.now.date());
            if (!missing.empty())
              return unexpected(Error{errc::validation, "the campaign is not ready", {}, missing});
            return Events{Reviewed{s.id, ctx.actor, ctx.now}};
          },
          [&](const Launch&) -> Result<Events> {
            if (!draft)
              return not_allowed(s);
            auto missing = missing_for_launch(s, ctx.now.date());
            if (!missing.empty())
              return unexpected(
                  Error{errc::validation, "the campaign cannot be launched", {}, missing});
            const bool later = *s.starts_on > ctx.now.date();
            return Events{Launched{s.id, later ? "scheduled" : "active", *s.starts_on, *s.ends_on,
                                   ctx.actor}};
          },
          [&](const Start&) -> Result<Events> {
            if (s.status != Status::scheduled)
              return not_allowed(s);
            return Events{Started{s.id, ctx.now}};
          },
          [&](const Complete&) -> Result<Events> {
            if (s.status != Status::active)
              return not_allowed(s);
            return Events{Completed{s.id, ctx.now}};
          },
          [&](const Cancel& c) -> Result<Events> {
            if (s.status == Status::completed || s.status == Status::cancelled)
              return not_allowed(s);
            Validation v;
            v.require(!c.reason.empty() && c.reason.size() <= 2000, "reason",
                      "required, at most 2,000 bytes");
            if (!v.ok())
              return v.error();
            return Events{Cancelled{s.id, to_string(s.status), c.reason}};
          },
          [&](const RecordCost& c) -> Result<Events> {
            // Costs are facts that may arrive late: any status takes them.
            Validation v;
            v.require(valid_currency(c.amount.currency), "amount.currency", "an ISO 4217 code");
            v.require(c.amount.amount > Decimal{} && c.amount.amount <= kMaxAmount, "amount.amount",
                      "positive, at most 1,000,000,000,000");
            if (s.currency && valid_currency(c.amount.currency))
              v.require(c.amount.currency == *s.currency, "amount.currency",
                        "the campaign's costs are in " + *s.currency);
            v.require(!c.category.empty() && c.category.size() <= 100, "category",
                      "required, at most 100 bytes");
            if (c.note)
              v.require(c.note->size() <= 2000, "note", "at most 2,000 bytes");
            if (c.cost_id)
              v.require(!c.cost_id->empty() && c.cost_id->size() <= 100, "cost_id",
                        "1 to 100 bytes");
            if (!v.ok())
              return v.error();
            return Events{CostRecorded{s.id, c.cost_id.value_or(ctx.next_id()), c.amount, c.date,
                                       c.category, c.note, ctx.actor}};
          },
          [&](const CreateTrackingLink& c) -> Result<Events> {
            if (s.status == Status::cancelled || s.status == Status::completed)
              return not_allowed(s);
            Validation v;
            v.require(valid_target_url(c.target_url), "target_url",
                      "an absolute http(s) URL of at most 2,000 bytes");
            v.require(!c.code.empty() && c.code.size() <= 32 &&
                          std::all_of(c.code.begin(), c.code.end(),
                                      [](char ch) {
                                        return (ch >= '0' && ch <= '9') ||
                                               (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
                                      }),
                      "code", "1 to 32 letters and digits");
            if (!v.ok())
              return v.error();
            return Events{TrackingLinkCreated{s.id, c.code, c.target_url, ctx.now}};
          },
          [&](const Create&) -> Result<Events> { return fail(errc::already_exists, "exists"); },
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

// ---- activity ----

void Activity::apply(State& s, const Event& e) {
  std::visit(
      codec::overloaded{
          [&](const ClicksRecorded& x) { s.clicks += static_cast<std::int64_t>(x.clicks.size()); },
          [&](const ImpressionsRecorded& x) { s.impressions += x.count; },
          [&](const ResponseRecorded&) { ++s.responses; },
      },
      e);
}

Result<std::vector<ActivityEvent>> Activity::decide(const State&, const Command& cmd,
                                                    const Context& ctx) {
  using Out = std::vector<ActivityEvent>;
  return std::visit(
      codec::overloaded{
          [&](const RecordResponses& c) -> Result<Out> {
            Validation v;
            if (c.responses.empty())
              v.add("responses", "at least one response");
            if (c.responses.size() > kMaxResponsesPerCommand)
              v.add("responses", "at most 10,000 responses per request");
            if (!v.ok())
              return v.error();
            Out out;
            out.reserve(c.responses.size());
            std::set<std::string_view> ids;
            for (std::size_t i = 0; i < c.responses.size(); ++i) {
              const Response& r = c.responses[i];
              const std::string at = "responses[" + std::to_string(i) + "]";
              v.require(valid_response_kind(r.kind), at + ".kind",
                        "one of opened, clicked, registered, replied, purchased, unsubscribed");
              const bool contact = r.contact_id && !r.contact_id->empty();
              const bool lead = r.lead_id && !r.lead_id->empty();
              v.require(contact != lead, at, "give contact_id or lead_id (one of them)");
              if (r.id) {
                v.require(!r.id->empty() && r.id->size() <= 200, at + ".id", "1 to 200 bytes");
                // The first of two responses with one id in one request is the one recorded.
                if (!ids.insert(*r.id).second)
                  continue;
              }
              out.push_back(ResponseRecorded{ctx.id, r.id, r.kind, r.contact_id, r.lead_id,
                                             r.time.value_or(ctx.now)});
            }
            if (!v.ok())
              return v.error();
            return out;
          },
          [&](const RecordImpressions& c) -> Result<Out> {
            Validation v;
            v.require(c.count > 0 && c.count <= 1'000'000'000'000, "count",
                      "a positive whole number");
            if (c.source)
              v.require(!c.source->empty() && c.source->size() <= 200, "source", "1 to 200 bytes");
            if (!v.ok())
              return v.error();
            return Out{
                ImpressionsRecorded{ctx.id, c.count, c.date.value_or(ctx.now.date()), c.source}};
          },
      },
      cmd);
}

std::string Activity::encode(const Event& e) {
  return codec::encode_event(e);
}
Result<ActivityEvent> Activity::decode(std::string_view type, std::string_view json) {
  return codec::decode_event<ActivityEvent>(type, json);
}
std::string_view Activity::type_of(const Event& e) {
  return codec::type_of(e);
}
std::vector<std::string_view> Activity::event_types() {
  return codec::event_types<ActivityEvent>();
}

}  // namespace eventcrm::domain::campaign
