// Leads over HTTP: create by staff (duplicate detection on the normalised email,
// app/duplicates.hpp), partner import in batches, public web-form capture, qualify, disqualify,
// assign, and convert (account + contact + opportunity in one atomic append, app::convert_lead);
// detail and list queries. Decisions are in domain/lead.cpp; the read model is
// projections/leads.cpp.
#include "projections/leads.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "api/handlers/command.hpp"
#include "api/handlers/forget.hpp"
#include "api/handlers/query.hpp"
#include "api/workers.hpp"
#include "app/duplicates.hpp"
#include "app/lead_conversion.hpp"
#include "domain/lead.hpp"

namespace eventcrm::api {
namespace {

namespace lead = domain::lead;
using Aggregate = lead::Aggregate;
constexpr std::string_view kCollection = "leads";
constexpr std::size_t kMaxImport = 1000;
constexpr std::size_t kImportChunk = 50;  // items per worker job: a batch runs in parallel

const query::Collection& collection() {
  static const query::Collection c{kCollection,
                                   projections::kLeads,
                                   &projections::leads_spec(),
                                   {"status", "owner_id", "source", "campaign_id"},
                                   {"created_at"}};
  return c;
}

// ---- reading a lead ----

#define EVENTCRM_LEAD_FIELDS \
  "company", "first_name", "last_name", "email", "phone", "source", "campaign_id", "owner_id"

// The fields a staff create and an import item share ("utm" is an object there).
lead::Create read_lead(command::Fields& f) {
  lead::Create c;
  c.company = f.text("company", true).value_or("");
  c.first_name = f.text("first_name", false).value_or("");
  c.last_name = f.text("last_name", true).value_or("");
  c.email = f.text("email", false, 320);
  c.phone = f.text("phone", false, 50);
  c.source = f.text("source", false, 100);
  c.campaign_id = f.text("campaign_id", false);
  c.owner_id = f.text("owner_id", false);
  if (const json::Value* utm = f.object("utm", false)) {
    for (const json::Member& m : utm->members) {
      std::optional<std::string>* slot = m.first == "source"     ? &c.utm.source
                                         : m.first == "medium"   ? &c.utm.medium
                                         : m.first == "campaign" ? &c.utm.campaign
                                         : m.first == "term"     ? &c.utm.term
                                         : m.first == "content"  ? &c.utm.content
                                                                 : nullptr;
      if (slot == nullptr)
        f.fail("utm." + m.first, "unknown field");
      else if (!m.second.is_string() || m.second.text.size() > 200)
        f.fail("utm." + m.first, "must be a string of at most 200 bytes");
      else
        *slot = m.second.text;
    }
  }
  return c;
}

app::Result<app::CommandResult> create_lead(app::CommandRunner& runner, std::string_view id,
                                            const lead::Create& c, bool force,
                                            const app::CommandOptions& options) {
  auto identities = app::identities_of(c.email, std::nullopt);
  return app::create_unique<Aggregate>(runner, id, lead::Command{c}, identities, force, options);
}

// ---- staff commands ----

void create(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {EVENTCRM_LEAD_FIELDS, "utm", "force"});
  lead::Create c = read_lead(f);
  if (!c.source)
    c.source = "manual";
  bool force = f.flag("force").value_or(false);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = std::move(id), c = std::move(c), force,
                   options = std::move(options)]() -> Response {
                    auto r = create_lead(*runner, id, c, force, options);
                    if (!r)
                      return command::from_app_error(r.error());
                    return command::result(*r, kCollection, true);
                  });
}

void qualify(const Request& req, const Context& ctx, Completion done) {
  command::action<Aggregate>(
      req, ctx, std::move(done), {}, kCollection,
      [](command::Fields&) -> std::optional<lead::Command> { return lead::Qualify{}; });
}

void disqualify(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {});
  f.text("reason", false, 1000);  // type check; read_envelope takes it (or X-Reason)
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  lead::Disqualify c{options.metadata.reason};
  command::run<Aggregate>(ctx, std::move(done), req.params.at(0), std::move(c), std::move(options),
                          kCollection, false);
}

void assign(const Request& req, const Context& ctx, Completion done) {
  command::action<Aggregate>(req, ctx, std::move(done), {"owner_id"}, kCollection,
                             [](command::Fields& f) -> std::optional<lead::Command> {
                               auto owner = f.text("owner_id", true);
                               if (!owner)
                                 return std::nullopt;
                               return lead::Assign{*owner};
                             });
}

Response conversion_result(const app::ConversionResult& r) {
  Response res;
  res.status = 200;
  res.content_type = "application/json";
  std::string& b = res.body;
  b += "{\"id\":";
  json::write_string(b, r.lead.id);
  b += ",\"version\":" + std::to_string(r.lead.version);
  b += ",\"account_id\":";
  json::write_string(b, r.account_id);
  b += ",\"account_created\":";
  b += r.account_created ? "true" : "false";
  b += ",\"contact_id\":";
  json::write_string(b, r.contact_id);
  b += ",\"opportunity_id\":";
  json::write_string(b, r.opportunity_id);
  b += ",\"position\":" + std::to_string(r.lead.position);
  b += '}';
  res.set_header("ETag", "\"" + std::to_string(r.lead.version) + "\"");
  if (r.lead.position > 0)
    res.set_header("X-Position", std::to_string(r.lead.position));
  return res;
}

void convert(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"opportunity", "account_id", "owner_id"});
  lead::Convert c;
  c.account_id = f.text("account_id", false);
  c.owner_id = f.text("owner_id", false);
  if (const json::Value* opp = f.object("opportunity", true)) {
    command::Fields o(*opp, {"name", "amount", "expected_close_date", "stage"});
    o.set_prefix("opportunity");
    c.opportunity_name = o.text("name", false);
    if (auto amount = o.money("amount", true))
      c.amount = *amount;
    c.expected_close_date = o.date("expected_close_date", true);
    c.stage = o.text("stage", false, 100);
    if (!o.ok())
      return done(o.problem());
  }
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = req.params.at(0), c = std::move(c),
                   options = std::move(options)]() -> Response {
                    auto r = app::convert_lead(*runner, id, c, options);
                    if (!r)
                      return command::from_app_error(r.error());
                    return conversion_result(*r);
                  });
}

// ---- partner import ----

// One batch: every item is its own create; the answer lists each item's outcome in order.
struct Import {
  const Context* ctx = nullptr;
  json::Value body;  // owns the items
  app::CommandOptions options;
  std::string request_path;
  std::vector<std::string> results;  // one JSON object per item
  std::atomic<std::size_t> chunks_left{0};
  std::atomic<std::uint64_t> position{0};
  std::atomic<std::size_t> created{0};
  Completion done;

  const std::vector<json::Value>& items() const { return body.find("leads")->items; }

  void run_item(std::size_t i) {
    const json::Value& item = items()[i];
    std::string& out = results[i];
    out = "{\"index\":" + std::to_string(i);
    auto fail = [&out](const Response& problem) {
      out += ",\"status\":" + std::to_string(problem.status) + ",\"problem\":" + problem.body + "}";
    };
    if (!item.is_object()) {
      return fail(problem(errc::validation_failed, "an import item must be a JSON object",
                          {{"leads[" + std::to_string(i) + "]", "must be an object"}}));
    }
    command::Fields f(item, {EVENTCRM_LEAD_FIELDS, "utm", "force"});
    lead::Create c = read_lead(f);
    if (!c.source)
      c.source = "partner";
    bool force = f.flag("force").value_or(false);
    if (!f.ok())
      return fail(f.problem());
    // Each item is idempotent on its own: the request's key + "#" + index, digest of the item.
    app::CommandOptions item_options = options;
    if (!options.idempotency_key.empty()) {
      item_options.idempotency_key = options.idempotency_key + "#" + std::to_string(i);
      item_options.request_digest = app::digest_of(
          "POST " + request_path + "#" + std::to_string(i) + "\n" + json::to_string(item));
    }
    std::string id = ctx->commands->new_id(item_options);
    auto r = create_lead(*ctx->commands, id, c, force, item_options);
    if (!r)
      return fail(command::from_app_error(r.error()));
    std::uint64_t seen = position.load();
    while (r->position > seen && !position.compare_exchange_weak(seen, r->position)) {
    }
    ++created;
    out += ",\"status\":201,\"id\":";
    json::write_string(out, r->id);
    out += ",\"version\":" + std::to_string(r->version);
    out += ",\"position\":" + std::to_string(r->position) + "}";
  }

  void finish_chunk() {
    if (chunks_left.fetch_sub(1) != 1)
      return;
    std::string b = "{\"results\":[";
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (i)
        b.push_back(',');
      b += results[i];
    }
    b += "],\"created\":" + std::to_string(created.load());
    b += ",\"failed\":" + std::to_string(results.size() - created.load());
    b += ",\"position\":" + std::to_string(position.load()) + "}";
    Response res = json_response(200, std::move(b));
    if (position.load() > 0)
      res.set_header("X-Position", std::to_string(position.load()));
    done(std::move(res));
  }
};

void import(const Request& req, const Context& ctx, Completion done) {
  auto batch = std::make_shared<Import>();
  if (auto bad = command::parse_object(req, batch->body))
    return done(std::move(*bad));
  command::Fields f(batch->body, {"leads"});
  const json::Value* leads = f.array("leads", true);
  if (leads != nullptr && (leads->items.empty() || leads->items.size() > kMaxImport))
    f.fail("leads", "must have 1 to " + std::to_string(kMaxImport) + " items");
  if (!f.ok())
    return done(f.problem());
  if (auto bad = command::read_envelope(req, &batch->body, batch->options))
    return done(std::move(*bad));
  if (ctx.commands == nullptr || ctx.workers == nullptr)
    return done(problem(errc::unavailable, "this server does not accept commands"));
  batch->ctx = &ctx;
  batch->request_path = std::string(req.path);
  batch->done = std::move(done);
  std::size_t n = leads->items.size();
  batch->results.resize(n);
  std::size_t chunks = (n + kImportChunk - 1) / kImportChunk;
  batch->chunks_left = chunks;
  for (std::size_t k = 0; k < chunks; ++k) {
    std::size_t from = k * kImportChunk, to = std::min(n, from + kImportChunk);
    auto job = [batch, from, to] {
      for (std::size_t i = from; i < to; ++i) {
        try {
          batch->run_item(i);
        } catch (const std::exception& e) {
          Response p = problem(errc::internal, std::string("the item failed: ") + e.what());
          batch->results[i] = "{\"index\":" + std::to_string(i) +
                              ",\"status\":" + std::to_string(p.status) + ",\"problem\":" + p.body +
                              "}";
        }
      }
      batch->finish_chunk();
    };
    if (!ctx.workers->submit(job)) {
      Response busy = problem(errc::rate_limited, "too many commands queued; retry shortly");
      for (std::size_t i = from; i < to; ++i) {
        batch->results[i] =
            "{\"index\":" + std::to_string(i) + ",\"status\":429,\"problem\":" + busy.body + "}";
      }
      batch->finish_chunk();
    }
  }
}

// ---- web-form capture ----

bool valid_form_key(std::string_view key) {
  if (key.empty() || key.size() > 64)
    return false;
  return std::all_of(key.begin(), key.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
  });
}

// The media type without parameters, and whether its charset (if any) is UTF-8.
std::string_view media_type(std::string_view ct, bool& utf8) {
  std::size_t semi = ct.find(';');
  std::string_view type = ct.substr(0, semi);
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  utf8 = true;
  if (semi != std::string_view::npos) {
    std::string_view rest = ct.substr(semi + 1);
    while (!rest.empty() && rest.front() == ' ')
      rest.remove_prefix(1);
    if (rest.size() >= 8 && iequals(rest.substr(0, 8), "charset=")) {
      std::string_view cs = rest.substr(8);
      if (cs.size() >= 2 && cs.front() == '"' && cs.back() == '"')
        cs = cs.substr(1, cs.size() - 2);
      utf8 = iequals(cs, "utf-8") || iequals(cs, "utf8");
    }
  }
  return type;
}

// A token bucket per form key and client: a burst of kBurst submissions, then one every
// kRefill. In memory, per process; buckets idle long enough to be full again are dropped.
class FormRateLimiter {
 public:
  static constexpr double kBurst = 10;
  static constexpr std::chrono::seconds kRefill{6};
  static constexpr std::size_t kMaxBuckets = 50'000;

  // 0 when the submission may go ahead; else the seconds until it may.
  int take(const std::string& key) {
    using namespace std::chrono;
    auto now = steady_clock::now();
    std::lock_guard lock(mu_);
    if (buckets_.size() >= kMaxBuckets)
      prune(now);
    auto [it, fresh] = buckets_.try_emplace(key, Bucket{kBurst, now});
    Bucket& b = it->second;
    if (!fresh) {
      double refill = duration<double>(now - b.at) / duration<double>(kRefill);
      b.tokens = std::min(kBurst, b.tokens + refill);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    double wait = (1 - b.tokens) * duration<double>(kRefill).count();
    return std::max(1, static_cast<int>(std::ceil(wait)));
  }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  void prune(std::chrono::steady_clock::time_point now) {
    auto full = kRefill * static_cast<int>(kBurst);
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = now - it->second.at >= full ? buckets_.erase(it) : std::next(it);
    }
    if (buckets_.size() >= kMaxBuckets)
      buckets_.clear();  // a flood of distinct clients: start over rather than grow
  }
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

FormRateLimiter& form_limiter() {
  static FormRateLimiter limiter;
  return limiter;
}

// An application/x-www-form-urlencoded body as a JSON object of strings, so both media types
// are read by the same strict code (repeated names and invalid UTF-8 are refused by the
// decoder).
std::optional<Response> decode_form(std::string_view body, json::Value& out) {
  std::vector<QueryParam> params;
  if (!parse_query(body, params))
    return problem(errc::bad_request, "the form body is not valid percent-encoding");
  std::string text = "{";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i)
      text.push_back(',');
    json::write_string(text, params[i].name);
    text.push_back(':');
    json::write_string(text, params[i].value);
  }
  text.push_back('}');
  auto parsed = json::decode(text);
  if (!parsed)
    return problem(errc::bad_request, "the form body is invalid: " + parsed.error().message);
  out = std::move(*parsed);
  return std::nullopt;
}

void submit_web_form(const Request& req, const Context& ctx, Completion done) {
  const std::string& form_key = req.params.at(0);
  if (!valid_form_key(form_key)) {
    return done(problem(errc::bad_request, "invalid form key",
                        {{"form_key", "must be 1 to 64 of A-Z, a-z, 0-9, _ and -"}}));
  }
  bool utf8 = true;
  std::string_view type = media_type(req.header("Content-Type"), utf8);
  bool form = iequals(type, "application/x-www-form-urlencoded");
  if ((!form && !iequals(type, "application/json")) || !utf8) {
    return done(problem(errc::unsupported_media_type,
                        "the body must be application/x-www-form-urlencoded or application/json "
                        "(UTF-8); got \"" +
                            std::string(req.header("Content-Type")) + "\""));
  }
  std::string bucket = std::to_string(ctx.id) + "\n" + form_key + "\n" + client_address(req);
  if (int wait = form_limiter().take(bucket); wait > 0) {
    Response res = problem(errc::rate_limited, "too many submissions of this form; retry later");
    res.set_header("Retry-After", std::to_string(wait));
    return done(std::move(res));
  }
  json::Value body;
  if (auto bad = form ? decode_form(req.body, body) : command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(
      body, {"company", "first_name", "last_name", "email", "phone", "campaign_id", "utm_source",
             "utm_medium", "utm_campaign", "utm_term", "utm_content", "website_url"});
  // The honeypot: a field people never see. Bots fill it; they get the usual-looking answer.
  auto honeypot = f.text("website_url", false, 2000);
  if (honeypot && !honeypot->empty())
    return done(json_response(202, R"({"status":"accepted"})"));
  lead::Create c;
  c.company = f.text("company", true).value_or("");
  c.first_name = f.text("first_name", false).value_or("");
  c.last_name = f.text("last_name", true).value_or("");
  c.email = f.text("email", false, 320);
  c.phone = f.text("phone", false, 50);
  c.campaign_id = f.text("campaign_id", false);
  c.utm.source = f.text("utm_source", false);
  c.utm.medium = f.text("utm_medium", false);
  c.utm.campaign = f.text("utm_campaign", false);
  c.utm.term = f.text("utm_term", false);
  c.utm.content = f.text("utm_content", false);
  auto blank = [](const std::optional<std::string>& s) { return !s || s->empty(); };
  if (blank(c.email) && blank(c.phone))
    f.fail("email", "an email or a phone number is required");
  // Empty form inputs mean "not given".
  for (auto* o : {&c.email, &c.phone, &c.campaign_id, &c.utm.source, &c.utm.medium, &c.utm.campaign,
                  &c.utm.term, &c.utm.content}) {
    if (blank(*o))
      o->reset();
  }
  if (!f.ok())
    return done(f.problem());
  c.source = "web-form:" + form_key;
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  // The form is the actor (and the owner until someone assigns the lead).
  options.metadata.actor = "web-form:" + form_key;
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  app::CommandRunner* runner = ctx.commands;
  // A public form never answers "already exists" (it would tell strangers who is a lead):
  // forced, so a repeated submission is a new lead, and only unclaimed emails are claimed.
  command::submit(
      ctx, std::move(done),
      [runner, id = std::move(id), c = std::move(c), options = std::move(options)]() -> Response {
        auto r = create_lead(*runner, id, c, true, options);
        if (!r)
          return command::from_app_error(r.error());
        return command::result(*r, kCollection, true);
      });
}

// ---- queries ----

void forget(const Request& req, const Context& ctx, Completion done) {
  command::forget<Aggregate>(req, ctx, std::move(done), lead::Forget{}, kCollection);
}

void get(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), collection());
}

void list(const Request& req, const Context& ctx, Completion done) {
  query::list(req, ctx, std::move(done), collection());
}

}  // namespace

std::vector<Route> lead_routes() {
  return {
      {Method::post, "/v1/leads", nullptr, create, Produces::json, true, "Create a lead"},
      {Method::get, "/v1/leads", nullptr, list, Produces::json, false, "List leads"},
      {Method::post, "/v1/leads/import", nullptr, import, Produces::json, true,
       "Import a batch of partner leads"},
      {Method::get, "/v1/leads/{id}", nullptr, get, Produces::json, false, "A lead"},
      {Method::post, "/v1/leads/{id}/qualify", nullptr, qualify, Produces::json, true,
       "Qualify a lead"},
      {Method::post, "/v1/leads/{id}/disqualify", nullptr, disqualify, Produces::json, true,
       "Disqualify a lead"},
      {Method::post, "/v1/leads/{id}/assign", nullptr, assign, Produces::json, true,
       "Assign a lead's owner"},
      {Method::post, "/v1/leads/{id}/convert", nullptr, convert, Produces::json, true,
       "Convert a qualified lead into an account, a contact and an opportunity"},
      {Method::post, "/v1/leads/{id}/forget", nullptr, forget, Produces::json, true,
       "Erase a lead's personal data (GDPR)"},
      {Method::post, "/v1/web-forms/{form_key}/submissions", nullptr, submit_web_form,
       Produces::json, false, "Submit a public web form (creates a lead)"},
  };
}

}  // namespace eventcrm::api
