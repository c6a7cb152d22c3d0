// Marketing over HTTP (R-MKT): campaigns and their wizard steps, lifecycle, costs, tracking
// links (and the public GET /t/{code} redirect), impressions and responses in bulk, the segment
// preview, and the campaign ROI and funnel reports. Decisions are in domain/campaign.cpp; the
// activity appends in app/marketing.cpp and app/tracking.cpp; the read models in
// projections/marketing.cpp.
#include <chrono>

#include "api/handlers/command.hpp"
#include "api/handlers/query.hpp"
#include "api/server.hpp"
#include "app/marketing.hpp"
#include "app/tracking.hpp"
#include "domain/campaign.hpp"
#include "projections/accounts.hpp"
#include "projections/contacts.hpp"
#include "projections/leads.hpp"
#include "projections/marketing.hpp"

namespace eventcrm::api {
namespace {

namespace campaign = domain::campaign;
using domain::Decimal;

constexpr std::string_view kCampaignsPath = "campaigns";

app::Tracking* tracking_of(const Context& ctx) {
  return ctx.extensions != nullptr ? ctx.extensions->tracking() : nullptr;
}

// ---- campaigns and the wizard ----

const query::Collection& campaigns() {
  static const query::Collection c{kCampaignsPath,
                                   projections::kCampaigns,
                                   &projections::campaigns_spec(),
                                   {"status", "channel"},
                                   {}};
  return c;
}

void create_campaign(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"name", "channel", "objective", "budget", "starts_on", "ends_on"});
  campaign::Create c;
  auto name = f.text("name", true);
  auto channel = f.text("channel", true, 50);
  c.objective = f.text("objective", false, 2000);
  c.budget = f.money("budget", false);
  c.starts_on = f.date("starts_on", false);
  c.ends_on = f.date("ends_on", false);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  c.name = std::move(*name);
  c.channel = std::move(*channel);
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  command::run<campaign::Aggregate>(ctx, std::move(done), std::move(id), std::move(c),
                                    std::move(options), kCampaignsPath, true);
}

void set_basics(const Request& req, const Context& ctx, Completion done) {
  command::action<campaign::Aggregate>(req, ctx, std::move(done), {"name", "channel", "objective"},
                                       kCampaignsPath,
                                       [](command::Fields& f) -> std::optional<campaign::Command> {
                                         auto name = f.text("name", true);
                                         auto channel = f.text("channel", true, 50);
                                         auto objective = f.text("objective", false, 2000);
                                         if (!name || !channel)
                                           return std::nullopt;
                                         return campaign::SetBasics{*name, *channel, objective};
                                       });
}

void set_audience(const Request& req, const Context& ctx, Completion done) {
  command::action<campaign::Aggregate>(
      req, ctx, std::move(done), {"segment"}, kCampaignsPath,
      [](command::Fields& f) -> std::optional<campaign::Command> {
        const json::Value* seg = f.object("segment", true);
        if (seg == nullptr)
          return std::nullopt;
        command::Fields s(*seg, {"entity", "filters"});
        s.set_prefix("segment");
        campaign::Segment segment;
        auto entity = s.text("entity", true, 50);
        const json::Value* filters = s.array("filters", false);
        if (filters != nullptr) {
          for (std::size_t i = 0; i < filters->items.size(); ++i) {
            command::Fields one(filters->items[i], {"field", "value"});
            one.set_prefix("segment.filters[" + std::to_string(i) + "]");
            auto field = one.text("field", true, 100);
            auto value = one.text("value", true);
            if (!one.ok()) {
              f.fail("segment.filters[" + std::to_string(i) + "]",
                     "an object with a text field and value");
              continue;
            }
            segment.filters.push_back({*field, *value});
          }
        }
        if (!s.ok()) {
          f.fail("segment", "an object with entity (accounts, contacts, leads) and filters");
          return std::nullopt;
        }
        segment.entity = *entity;
        return campaign::SetAudience{std::move(segment)};
      });
}

void set_budget(const Request& req, const Context& ctx, Completion done) {
  command::action<campaign::Aggregate>(req, ctx, std::move(done),
                                       {"budget", "starts_on", "ends_on"}, kCampaignsPath,
                                       [](command::Fields& f) -> std::optional<campaign::Command> {
                                         auto budget = f.money("budget", true);
                                         auto from = f.date("starts_on", false);
                                         auto to = f.date("ends_on", false);
                                         if (!budget)
                                           return std::nullopt;
                                         return campaign::SetBudget{*budget, from, to};
                                       });
}

void set_tracking(const Request& req, const Context& ctx, Completion done) {
  command::action<campaign::Aggregate>(
      req, ctx, std::move(done), {"landing_url", "utm_source", "utm_medium", "utm_campaign"},
      kCampaignsPath, [](command::Fields& f) -> std::optional<campaign::Command> {
        auto url = f.text("landing_url", true, 2000);
        auto source = f.text("utm_source", false);
        auto medium = f.text("utm_medium", false);
        auto name = f.text("utm_campaign", false);
        if (!url)
          return std::nullopt;
        return campaign::SetTracking{*url, source, medium, name};
      });
}

template <class Cmd>
void plain_action(const Request& req, const Context& ctx, Completion done) {
  command::action<campaign::Aggregate>(
      req, ctx, std::move(done), {}, kCampaignsPath,
      [](command::Fields&) -> std::optional<campaign::Command> { return Cmd{}; });
}

void cancel_campaign(const Request& req, const Context& ctx, Completion done) {
  command::action<campaign::Aggregate>(req, ctx, std::move(done), {"reason"}, kCampaignsPath,
                                       [](command::Fields& f) -> std::optional<campaign::Command> {
                                         auto reason = f.text("reason", true, 2000);
                                         if (!reason)
                                           return std::nullopt;
                                         return campaign::Cancel{*reason};
                                       });
}

// 201 with the new entry's `cost_id` (keyed by Idempotency-Key, a retry names the same entry).
void record_cost(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"amount", "date", "category", "note"});
  auto amount = f.money("amount", true);
  auto date = f.date("date", true);
  auto category = f.text("category", true, 100);
  auto note = f.text("note", false, 2000);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  if (ctx.commands == nullptr)
    return done(problem(errc::unavailable, "this server takes no commands"));
  std::string cost_id = ctx.commands->new_id(options, "campaign-cost");
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = req.params.at(0), cost_id,
                   cmd = campaign::RecordCost{*amount, *date, *category, note, cost_id},
                   options = std::move(options)]() -> Response {
                    auto r = runner->run<campaign::Aggregate>(id, cmd, options);
                    if (!r)
                      return command::from_app_error(r.error());
                    Response res = command::result(*r, kCampaignsPath, true);
                    res.body = "{\"id\":";
                    json::write_string(res.body, id);
                    res.body += ",\"cost_id\":";
                    json::write_string(res.body, cost_id);
                    res.body += ",\"version\":" + std::to_string(r->version) +
                                ",\"position\":" + std::to_string(r->position) + "}";
                    return res;
                  });
}

void get_campaign(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), campaigns());
}
void list_campaigns(const Request& req, const Context& ctx, Completion done) {
  query::list(req, ctx, std::move(done), campaigns());
}

// ---- tracking links ----

// Where the short link is served: the request's own host (the link is given to the public).
std::string short_url(const Request& req, std::string_view code) {
  std::string_view host = req.header("Host");
  std::string path = "/t/" + std::string(code);
  bool plain = !host.empty() && host.size() <= 255;
  for (char c : host)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                      c == ':' || c == '[' || c == ']');
  if (!plain)
    return path;
  std::string_view proto = req.header("X-Forwarded-Proto");
  return std::string(proto == "https" ? "https://" : "http://") + std::string(host) + path;
}

void create_tracking_link(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"target_url"});
  auto url = f.text("target_url", true, 2000);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  if (ctx.commands == nullptr)
    return done(problem(errc::unavailable, "this server takes no commands"));
  // Keyed: the code derives from the key, so a retried request answers the same code.
  std::string code = campaign::tracking_code(ctx.commands->new_id(options, "tracking-link"));
  std::string id = req.params.at(0);
  std::string link = short_url(req, code);
  app::CommandRunner* runner = ctx.commands;
  app::Tracking* tracking = tracking_of(ctx);
  command::submit(
      ctx, std::move(done),
      [runner, tracking, id = std::move(id), code = std::move(code), target = std::move(*url),
       link = std::move(link), options = std::move(options)]() -> Response {
        auto r = runner->run<campaign::Aggregate>(id, campaign::CreateTrackingLink{target, code},
                                                  options);
        if (!r)
          return command::from_app_error(r.error());
        if (tracking != nullptr)
          tracking->remember(code, app::TrackingLink{id, target});
        Response res = command::result(*r, kCampaignsPath, false);
        res.status = 201;
        std::string b = "{\"code\":";
        json::write_string(b, code);
        b += ",\"url\":";
        json::write_string(b, link);
        b += ",\"target_url\":";
        json::write_string(b, target);
        b += ",\"campaign_id\":";
        json::write_string(b, id);
        b += ",\"version\":" + std::to_string(r->version) +
             ",\"position\":" + std::to_string(r->position) + "}";
        res.body = std::move(b);
        res.set_header("Location", "/t/" + code);
        return res;
      });
}

// The public redirect: an in-memory lookup and a queued click; never a disk read or write.
Response follow_link(const Request& req, const Context& ctx) {
  app::Tracking* tracking = tracking_of(ctx);
  if (tracking == nullptr)
    return problem(errc::not_ready, "tracking links are not served here");
  const std::string& code = req.params.at(0);
  auto link = tracking->find(code);
  if (!link)
    return problem(errc::not_found, "no tracking link " + code);
  Response res;
  res.status = 302;
  res.set_header("Location", link->target_url);
  tracking->record(code, std::move(link), req.header("User-Agent"), req.header("Referer"));
  res.set_header("Cache-Control", "no-store");
  return res;
}

// ---- impressions and responses ----

Response activity_answer(const app::Result<app::ActivityResult>& r) {
  if (!r)
    return command::from_app_error(r.error());
  Response res;
  res.status = 200;
  res.content_type = "application/json";
  res.body = "{\"recorded\":" + std::to_string(r->recorded) +
             ",\"duplicates\":" + std::to_string(r->duplicates) +
             ",\"position\":" + std::to_string(r->position) + "}";
  if (r->position > 0)
    res.set_header("X-Position", std::to_string(r->position));
  return res;
}

void run_activity(const Request& req, const Context& ctx, Completion done, const json::Value& body,
                  campaign::ActivityCommand cmd) {
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  if (ctx.commands == nullptr)
    return done(problem(errc::unavailable, "this server takes no commands"));
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = req.params.at(0), cmd = std::move(cmd),
                   options = std::move(options)]() -> Response {
                    return activity_answer(app::record_activity(*runner, id, cmd, options));
                  });
}

void record_impressions(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"count", "date", "source"});
  campaign::RecordImpressions c;
  auto count = f.integer("count", true, 1, 1'000'000'000'000);
  c.date = f.date("date", false);
  c.source = f.text("source", false);
  if (!f.ok())
    return done(f.problem());
  c.count = *count;
  run_activity(req, ctx, std::move(done), body, std::move(c));
}

void record_responses(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"responses"});
  const json::Value* list = f.array("responses", true);
  campaign::RecordResponses c;
  if (list != nullptr) {
    if (list->items.size() > campaign::kMaxResponsesPerCommand)
      f.fail("responses", "at most 10,000 responses per request");
    else
      c.responses.reserve(list->items.size());
    for (std::size_t i = 0; i < list->items.size() && f.ok(); ++i) {
      const json::Value& item = list->items[i];
      const std::string at = "responses[" + std::to_string(i) + "]";
      if (item.kind != json::Value::Kind::object) {
        f.fail(at, "must be an object");
        continue;
      }
      command::Fields one(item, {"id", "kind", "contact_id", "lead_id", "time"});
      campaign::Response r;
      r.id = one.text("id", false);
      auto kind = one.text("kind", true, 50);
      r.contact_id = one.text("contact_id", false);
      r.lead_id = one.text("lead_id", false);
      r.time = one.time("time", false);
      if (!one.ok()) {
        f.fail(at, "needs kind and contact_id or lead_id (text), id and time optional");
        continue;
      }
      r.kind = std::move(*kind);
      c.responses.push_back(std::move(r));
    }
  }
  if (!f.ok())
    return done(f.problem());
  run_activity(req, ctx, std::move(done), body, std::move(c));
}

// ---- segment preview ----

struct SegmentSource {
  std::string_view projection;
  const projections::records::Spec* spec;
  std::string_view member_kind;  // for the unsubscribe check ("" : not applicable)
};

std::optional<SegmentSource> segment_source(std::string_view entity) {
  if (entity == "contacts")
    return SegmentSource{projections::kContacts, &projections::contacts_spec(), "contact"};
  if (entity == "leads")
    return SegmentSource{projections::kLeads, &projections::leads_spec(), "lead"};
  if (entity == "accounts")
    return SegmentSource{projections::kAccounts, &projections::accounts_spec(), ""};
  return std::nullopt;
}

// The members of the campaign's saved segment, without those who unsubscribed: the size (every
// member, up to kMaxCounted) and one page of their records.
void segment_preview(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"limit", "min_position"});
  auto min = query::min_position(req, q);
  const std::size_t limit = q.limit(20, query::kMaxLimit);
  if (!q.ok())
    return done(q.problem());
  const Context* context = &ctx;
  std::string id = req.params.at(0);
  query::when_applied(
      ctx, std::move(done),
      {std::string(projections::kCampaigns), std::string(projections::kCampaignRoi),
       std::string(projections::kContacts), std::string(projections::kLeads),
       std::string(projections::kAccounts)},
      min, [context, id, limit]() -> Response {
        constexpr std::size_t kMaxCounted = 100'000;
        Response error;
        auto campaigns_view = query::open_view(*context, projections::kCampaigns, error);
        if (!campaigns_view)
          return error;
        auto doc = campaigns_view->get("d/" + id);
        if (!doc)
          return problem(errc::not_found, "no campaign " + id);
        auto parsed = json::decode(*doc);
        const json::Value* seg = parsed ? parsed->find("segment") : nullptr;
        if (seg == nullptr || seg->kind != json::Value::Kind::object)
          return problem(errc::validation_failed, "the campaign has no target segment yet",
                         {{"segment", "set it with POST /v1/campaigns/{id}/audience"}});
        const json::Value* entity = seg->find("entity");
        auto source = entity != nullptr ? segment_source(entity->text) : std::nullopt;
        if (!source)
          return problem(errc::internal, "the campaign's segment names no collection");
        projections::records::ListQuery lq;
        if (const json::Value* filters = seg->find("filters")) {
          for (const auto& f : filters->items) {
            const json::Value* field = f.find("field");
            const json::Value* value = f.find("value");
            if (field != nullptr && value != nullptr)
              lq.equals.emplace_back(field->text, value->text);
          }
        }
        lq.limit = query::kMaxLimit;
        auto members = query::open_view(*context, source->projection, error);
        if (!members)
          return error;
        auto roi = query::open_view(*context, projections::kCampaignRoi, error);
        if (!roi)
          return error;
        std::size_t size = 0;
        bool capped = false;
        std::string page = "[";
        std::size_t listed = 0;
        for (;;) {
          auto got = projections::records::list(*members, *source->spec, lq);
          if (!got)
            return problem(errc::internal, "the segment's collection cannot be listed");
          for (const std::string& d : got->docs) {
            auto member = json::decode(d);
            const json::Value* mid = member ? member->find("id") : nullptr;
            if (mid == nullptr)
              continue;
            if (!source->member_kind.empty() &&
                projections::unsubscribed(*roi, source->member_kind, mid->text))
              continue;
            ++size;
            if (listed < limit) {
              if (listed > 0)
                page += ',';
              page += d;
              ++listed;
            }
          }
          if (got->next_cursor.empty())
            break;
          if (size >= kMaxCounted) {
            capped = true;
            break;
          }
          lq.cursor = got->next_cursor;
        }
        page += ']';
        Response res;
        res.status = 200;
        res.content_type = "application/json";
        res.body = "{\"campaign_id\":";
        json::write_string(res.body, id);
        res.body += ",\"entity\":";
        json::write_string(res.body, entity->text);
        res.body +=
            ",\"size\":" + std::to_string(size) +
            ",\"size_is_lower_bound\":" + (capped ? "true" : "false") +
            ",\"unsubscribed_excluded\":" + (source->member_kind.empty() ? "false" : "true") +
            ",\"items\":" + page + "}";
        return res;
      });
}

// ---- reports ----

void money(std::string& b, std::string_view k, Decimal amount,
           const std::optional<std::string>& currency) {
  json::write_string(b, k);
  b += ":{\"amount\":";
  json::write_string(b, amount.to_string(2));
  b += ",\"currency\":";
  if (currency)
    json::write_string(b, *currency);
  else
    b += "null";
  b += '}';
}
void number(std::string& b, std::string_view k, std::int64_t v) {
  json::write_string(b, k);
  b += ':' + std::to_string(v);
}
void ratio(std::string& b, std::string_view k, std::optional<Decimal> v) {
  json::write_string(b, k);
  b += ':';
  if (v)
    json::write_string(b, v->to_string(4));
  else
    b += "null";
}
std::optional<Decimal> rate(std::int64_t part, std::int64_t whole) {
  return projections::divide(Decimal::from_int(part), Decimal::from_int(whole));
}

struct ReportParams {
  projections::RoiQuery q;
};

std::optional<projections::RoiQuery> read_roi_query(params::Query& q) {
  projections::RoiQuery out;
  if (auto c = q.get("campaign")) {
    if (c->empty() || c->size() > 200)
      q.fail("campaign", "a campaign id");
    else
      out.campaign_id = std::string(*c);
  }
  for (const char* name : {"from", "to"}) {
    if (auto v = q.get(name)) {
      auto d = domain::Date::parse(*v);
      if (!d)
        q.fail(name, "must be a date, YYYY-MM-DD");
      (std::string_view(name) == "from" ? out.from : out.to) = d;
    }
  }
  if (out.from && out.to && *out.from > *out.to)
    q.fail("from", "must not be after to");
  if (auto a = q.get("attribution")) {
    if (*a == "last_touch")
      out.last_touch = true;
    else if (*a != "first_touch")
      q.fail("attribution", "first_touch (the default) or last_touch");
  }
  out.limit = q.limit(200, 1000);
  if (!q.ok())
    return std::nullopt;
  return out;
}

std::string period_query(const projections::RoiQuery& rq) {
  std::string s = rq.last_touch ? "&attribution=last_touch" : "";
  if (rq.from)
    s += "&from=" + rq.from->to_string();
  if (rq.to)
    s += "&to=" + rq.to->to_string();
  return s;
}

void roi_item(std::string& b, const projections::CampaignFigures& f,
              const projections::RoiQuery& rq) {
  const auto& x = f.flows;
  const std::string id = f.campaign_id;
  const std::string stream = "/v1/streams/campaign_activity-" + id;
  b += '{';
  json::write_string(b, "campaign_id");
  b += ':';
  json::write_string(b, id);
  b += ",\"name\":";
  json::write_string(b, f.name);
  b += ",\"channel\":";
  json::write_string(b, f.channel);
  b += ",\"status\":";
  json::write_string(b, f.status);
  b += ',';
  money(b, "cost", x.cost, f.currency);
  b += ',';
  number(b, "impressions", x.impressions);
  b += ',';
  number(b, "clicks", x.clicks);
  b += ",\"responses\":{";
  number(b, "opened", x.opened);
  b += ',';
  number(b, "clicked", x.clicked);
  b += ',';
  number(b, "registered", x.registered);
  b += ',';
  number(b, "replied", x.replied);
  b += ',';
  number(b, "purchased", x.purchased);
  b += ',';
  number(b, "unsubscribed", x.unsubscribed);
  b += "},";
  number(b, "responses_total", x.responses());
  b += ',';
  number(b, "leads", x.leads);
  b += ',';
  number(b, "qualified_leads", x.qualified);
  b += ',';
  number(b, "opportunities", x.opportunities);
  b += ',';
  number(b, "open_opportunities", f.open_opportunities);
  b += ',';
  // The open opportunities' amounts, as they are and weighted by their win probability.
  money(b, "pipeline", f.pipeline, f.currency);
  b += ',';
  money(b, "weighted_pipeline", f.weighted_pipeline, f.currency);
  b += ',';
  number(b, "won", x.won);
  b += ',';
  money(b, "won_revenue", x.won_revenue, f.currency);
  b += ',';
  auto gain = x.won_revenue.minus(x.cost);
  ratio(b, "roi", gain ? projections::divide(*gain, x.cost) : std::nullopt);
  b += ",\"cost_per_lead\":";
  if (auto cpl =
          x.leads > 0 ? projections::divide(x.cost, Decimal::from_int(x.leads)) : std::nullopt) {
    std::string m;
    money(m, "x", *cpl, f.currency);
    b += m.substr(4);
  } else {
    b += "null";
  }
  b += ',';
  number(b, "other_currency_opportunities", f.other_currency_opportunities);
  // Every figure drills down to the records behind it.
  const std::string period = period_query(rq);
  b += ",\"links\":{";
  auto link = [&](std::string_view k, const std::string& url, bool last = false) {
    json::write_string(b, k);
    b += ':';
    json::write_string(b, url);
    if (!last)
      b += ',';
  };
  link("campaign", "/v1/campaigns/" + id);
  link("cost", "/v1/campaigns/" + id);
  // The activity stream holds the campaign's impressions, click batches and responses.
  link("impressions", stream);
  link("clicks", stream);
  link("responses", stream);
  link("leads", "/v1/leads?campaign_id=" + id);
  link("qualified_leads", "/v1/leads?campaign_id=" + id + "&status=qualified");
  link("opportunities", "/v1/opportunities?campaign_id=" + id);
  link("pipeline", "/v1/opportunities?campaign_id=" + id + "&status=open");
  link("weighted_pipeline", "/v1/opportunities?campaign_id=" + id + "&status=open");
  link("won_revenue", "/v1/opportunities?campaign_id=" + id + "&status=won");
  link("funnel", "/v1/reports/funnel?campaign=" + id + period, true);
  b += "}}";
}

void funnel_item(std::string& b, const projections::CampaignFigures& f) {
  const auto& x = f.flows;
  b += "{\"campaign_id\":";
  json::write_string(b, f.campaign_id);
  b += ",\"name\":";
  json::write_string(b, f.name);
  b += ",\"stages\":[";
  struct Stage {
    const char* name;
    std::int64_t count;
    std::string link;
  };
  const std::string id = f.campaign_id;
  const Stage stages[] = {
      {"responses", x.responses(), "/v1/streams/campaign_activity-" + id},
      {"leads", x.leads, "/v1/leads?campaign_id=" + id},
      {"qualified", x.qualified, "/v1/leads?campaign_id=" + id + "&status=qualified"},
      {"opportunities", x.opportunities, "/v1/opportunities?campaign_id=" + id},
      {"won", x.won, "/v1/opportunities?campaign_id=" + id + "&status=won"},
  };
  for (std::size_t i = 0; i < std::size(stages); ++i) {
    if (i > 0)
      b += ',';
    b += "{\"stage\":";
    json::write_string(b, stages[i].name);
    b += ",\"count\":" + std::to_string(stages[i].count) + ',';
    // The share of the previous stage that reached this one.
    ratio(b, "conversion_rate", i == 0 ? std::nullopt : rate(stages[i].count, stages[i - 1].count));
    b += ",\"link\":";
    json::write_string(b, stages[i].link);
    b += '}';
  }
  b += "],";
  ratio(b, "overall_conversion_rate", rate(x.won, x.responses()));
  b += '}';
}

template <bool kFunnel>
void report(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"campaign", "from", "to", "attribution", "limit", "min_position"});
  auto min = query::min_position(req, q);
  auto rq = read_roi_query(q);
  if (!rq)
    return done(q.problem());
  const Context* context = &ctx;
  query::when_applied(ctx, std::move(done), {std::string(projections::kCampaignRoi)}, min,
                      [context, rq = *rq]() -> Response {
                        Response error;
                        auto view = query::open_view(*context, projections::kCampaignRoi, error);
                        if (!view)
                          return error;
                        auto figures = projections::campaign_figures(*view, rq);
                        if (rq.campaign_id && figures.empty())
                          return problem(errc::not_found, "no campaign " + *rq.campaign_id);
                        Response res;
                        res.status = 200;
                        res.content_type = "application/json";
                        std::string& b = res.body;
                        b = "{\"attribution\":";
                        json::write_string(b, rq.last_touch ? "last_touch" : "first_touch");
                        b += ',';
                        if (rq.from) {
                          b += "\"from\":";
                          json::write_string(b, rq.from->to_string());
                          b += ',';
                        }
                        if (rq.to) {
                          b += "\"to\":";
                          json::write_string(b, rq.to->to_string());
                          b += ',';
                        }
                        b += "\"items\":[";
                        for (std::size_t i = 0; i < figures.size(); ++i) {
                          if (i > 0)
                            b += ',';
                          if constexpr (kFunnel)
                            funnel_item(b, figures[i]);
                          else
                            roi_item(b, figures[i], rq);
                        }
                        b += "],\"position\":" + std::to_string(view->position()) + "}";
                        res.set_header("X-Position", std::to_string(view->position()));
                        return res;
                      });
}

}  // namespace

std::vector<Route> marketing_routes() {
  return {
      {Method::post, "/v1/campaigns", nullptr, create_campaign, Produces::json, true,
       "Create a campaign (a draft)"},
      {Method::get, "/v1/campaigns", nullptr, list_campaigns, Produces::json, false,
       "List campaigns"},
      {Method::get, "/v1/campaigns/{id}", nullptr, get_campaign, Produces::json, false,
       "A campaign with its costs and tracking links"},
      {Method::post, "/v1/campaigns/{id}/basics", nullptr, set_basics, Produces::json, true,
       "Wizard step 1: name, channel, objective"},
      {Method::post, "/v1/campaigns/{id}/audience", nullptr, set_audience, Produces::json, true,
       "Wizard step 2: the target segment"},
      {Method::post, "/v1/campaigns/{id}/budget", nullptr, set_budget, Produces::json, true,
       "Wizard step 3: budget and period"},
      {Method::post, "/v1/campaigns/{id}/tracking", nullptr, set_tracking, Produces::json, true,
       "Wizard step 4: landing URL and UTM tags"},
      {Method::post, "/v1/campaigns/{id}/review", nullptr, plain_action<campaign::Review>,
       Produces::json, true, "Wizard step 5: check the whole draft"},
      {Method::post, "/v1/campaigns/{id}/launch", nullptr, plain_action<campaign::Launch>,
       Produces::json, true, "Launch a complete draft (scheduled or active)"},
      {Method::post, "/v1/campaigns/{id}/start", nullptr, plain_action<campaign::Start>,
       Produces::json, true, "Start a scheduled campaign"},
      {Method::post, "/v1/campaigns/{id}/complete", nullptr, plain_action<campaign::Complete>,
       Produces::json, true, "Complete an active campaign"},
      {Method::post, "/v1/campaigns/{id}/cancel", nullptr, cancel_campaign, Produces::json, true,
       "Cancel a campaign"},
      {Method::post, "/v1/campaigns/{id}/costs", nullptr, record_cost, Produces::json, true,
       "Record a cost entry"},
      {Method::post, "/v1/campaigns/{id}/tracking-links", nullptr, create_tracking_link,
       Produces::json, true, "Create a tracking link (short code → target URL)"},
      {Method::post, "/v1/campaigns/{id}/impressions", nullptr, record_impressions, Produces::json,
       true, "Record impressions in bulk"},
      {Method::post, "/v1/campaigns/{id}/responses", nullptr, record_responses, Produces::json,
       true, "Record responses in bulk"},
      {Method::get, "/v1/campaigns/{id}/segment-preview", nullptr, segment_preview, Produces::json,
       false, "The target segment's size and first members"},
      {Method::get, "/v1/reports/campaign-roi", nullptr, report<false>, Produces::json, false,
       "Campaign ROI"},
      {Method::get, "/v1/reports/funnel", nullptr, report<true>, Produces::json, false,
       "Campaign funnel"},
      {Method::get, "/t/{code}", follow_link, nullptr, Produces::any, false,
       "Follow a tracking link (public)"},
  };
}

}  // namespace eventcrm::api
