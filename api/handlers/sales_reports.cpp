// Sales reports over HTTP: the pipeline report, the sales dashboard and account 360. Each reads
// its own read model (projections/pipeline.cpp, sales_dashboard.cpp, account_360.cpp); every
// figure that sums records comes with a list URL whose filters reproduce it. For a caller whose
// reach is not `all`, the pipeline and the dashboard count only the records of owners within it
// ("scope": "reach"), as their lists (the drill-down URLs) show only those records.
#include <chrono>
#include <map>
#include <memory>

#include "api/handlers/command.hpp"
#include "api/handlers/query.hpp"
#include "api/json.hpp"
#include "api/problem.hpp"
#include "api/security.hpp"
#include "app/command_runner.hpp"
#include "domain/money.hpp"
#include "domain/time.hpp"
#include "projections/account_360.hpp"
#include "projections/accounts.hpp"
#include "projections/pipeline.hpp"
#include "projections/sales_dashboard.hpp"

namespace eventcrm::api {
namespace {

using projections::PipelineGroupBy;
using projections::PipelineSums;

constexpr std::size_t kListedPerSection = 10;

// ---- small writers ----

// Percent-encodes a query value (RFC 3986 unreserved characters stay).
std::string encode(std::string_view v) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

class Url {
 public:
  explicit Url(std::string path) : url_(std::move(path)) {}
  Url& with(std::string_view name, std::string_view value) {
    url_ += first_ ? '?' : '&';
    first_ = false;
    url_ += name;
    url_ += '=';
    url_ += encode(value);
    return *this;
  }
  const std::string& str() const { return url_; }

 private:
  std::string url_;
  bool first_ = true;
};

void key(std::string& b, std::string_view k) {
  json::write_string(b, k);
  b += ':';
}
void text(std::string& b, std::string_view k, std::string_view v) {
  key(b, k);
  json::write_string(b, v);
}
void number(std::string& b, std::string_view k, std::uint64_t v) {
  key(b, k);
  b += std::to_string(v);
}
void money(std::string& b, std::string_view k, std::string_view amount, std::string_view currency) {
  key(b, k);
  b += "{\"amount\":";
  json::write_string(b, amount);
  b += ",\"currency\":";
  json::write_string(b, currency);
  b += '}';
}

domain::Date today_utc() {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return domain::Timestamp{ms}.date();
}

domain::Date first_of_month(domain::Date d) {
  auto s = d.to_string();
  return domain::Date::from_ymd(std::stoi(s.substr(0, 4)),
                                static_cast<unsigned>(std::stoi(s.substr(5, 2))), 1);
}

domain::Date add_months(domain::Date first, int months) {
  auto s = first.to_string();
  int index = std::stoi(s.substr(0, 4)) * 12 + std::stoi(s.substr(5, 2)) - 1 + months;
  return domain::Date::from_ymd(index / 12, static_cast<unsigned>(index % 12 + 1), 1);
}

// The open opportunities' list URL (the pipeline's figures are over open ones only).
Url open_opportunities(std::string_view currency) {
  Url u("/v1/opportunities");
  u.with("status", "open").with("currency", currency);
  return u;
}

void pipeline_sums(std::string& b, const PipelineSums& s, std::string_view currency) {
  number(b, "count", s.count);
  b += ',';
  money(b, "unweighted", s.unweighted, currency);
  b += ',';
  money(b, "weighted", s.weighted, currency);
}

std::vector<std::string> stage_order(const Context& ctx) {
  return ctx.commands != nullptr ? ctx.commands->options().pipeline.names()
                                 : domain::Pipeline::standard().names();
}

// ---- record-level reach ----

// The caller, when the figures must be narrowed to their reach; null when they see every record.
std::shared_ptr<const Principal> narrowed_to(const Request& req, const Context& ctx) {
  if (ctx.security != nullptr && req.auth != nullptr && req.auth->reach != perm::Reach::all)
    return req.auth;
  return nullptr;
}

// Which owners' records count: those within the caller's reach (records without an owner never),
// or every record's (an empty filter) when `caller` is null. Answers are kept per owner for one
// report, so each owner is looked up in the directory once.
projections::OwnerFilter owners_in_reach(const Context& ctx,
                                         std::shared_ptr<const Principal> caller) {
  if (!caller)
    return nullptr;
  const Security* security = ctx.security;
  return [security, caller,
          seen = std::map<std::string, bool, std::less<>>{}](std::string_view owner) mutable {
    if (owner.empty())
      return false;
    auto it = seen.find(owner);
    if (it == seen.end())
      it = seen.emplace(std::string(owner), security->owner_in_reach(*caller, owner)).first;
    return it->second;
  };
}

void scope(std::string& b, const std::shared_ptr<const Principal>& caller) {
  text(b, "scope", caller ? "reach" : "all");
}

// ---- GET /v1/reports/pipeline ----

void pipeline(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"group_by", "currency", "min_position"});
  auto min = query::min_position(req, q);
  PipelineGroupBy by = PipelineGroupBy::stage;
  std::string by_name = "stage";
  if (auto g = q.get("group_by")) {
    by_name = std::string(*g);
    if (*g == "owner")
      by = PipelineGroupBy::owner;
    else if (*g == "close_month")
      by = PipelineGroupBy::close_month;
    else if (*g != "stage")
      q.fail("group_by", "must be one of: stage, owner, close_month");
  }
  std::string currency;
  if (auto c = q.get("currency")) {
    currency = std::string(*c);
    if (!domain::valid_currency(currency))
      q.fail("currency", "must be an ISO 4217 code, e.g. VND");
  }
  if (!q.ok())
    return done(q.problem());
  const Context* context = &ctx;
  auto caller = narrowed_to(req, ctx);
  query::when_applied(
      ctx, std::move(done), {std::string(projections::kPipeline)}, min,
      [context, by, by_name, currency, caller]() -> Response {
        Response error;
        auto view = query::open_view(*context, projections::kPipeline, error);
        if (!view)
          return error;
        std::string cur =
            currency.empty() ? projections::pipeline_reporting_currency(*view) : currency;
        auto report = projections::pipeline_report(
            *view, by, cur,
            by == PipelineGroupBy::stage ? stage_order(*context) : std::vector<std::string>{},
            owners_in_reach(*context, caller));
        std::string b = "{";
        text(b, "group_by", by_name);
        b += ',';
        text(b, "currency", cur);
        b += ',';
        scope(b, caller);
        b += ",\"groups\":[";
        for (std::size_t i = 0; i < report.groups.size(); ++i) {
          const auto& g = report.groups[i];
          Url items = open_opportunities(cur);
          if (by == PipelineGroupBy::stage) {
            items.with("stage", g.key);
          } else if (by == PipelineGroupBy::owner) {
            items.with("owner_id", g.key);
          } else {
            auto first = domain::Date::parse(g.key + "-01");
            if (first) {
              domain::Date last{add_months(*first, 1).days - 1};
              items.with("expected_close_date_from", first->to_string())
                  .with("expected_close_date_to", last.to_string());
            }
          }
          b += i ? ",{" : "{";
          text(b, "key", g.key);
          b += ',';
          pipeline_sums(b, g.sums, cur);
          b += ',';
          text(b, "items_url", items.str());
          b += '}';
        }
        b += "],\"total\":{";
        pipeline_sums(b, report.total, cur);
        b += ',';
        text(b, "items_url", open_opportunities(cur).str());
        b += "},\"excluded\":{";
        std::uint64_t excluded = 0;
        for (const auto& e : report.excluded)
          excluded += e.sums.count;
        number(b, "count", excluded);
        b += ",\"currencies\":[";
        for (std::size_t i = 0; i < report.excluded.size(); ++i) {
          if (i)
            b += ',';
          json::write_string(b, report.excluded[i].currency);
        }
        b += "],\"groups\":[";
        for (std::size_t i = 0; i < report.excluded.size(); ++i) {
          const auto& e = report.excluded[i];
          b += i ? ",{" : "{";
          text(b, "currency", e.currency);
          b += ',';
          pipeline_sums(b, e.sums, e.currency);
          b += ',';
          text(b, "items_url", open_opportunities(e.currency).str());
          b += ',';
          text(b, "report_url",
               Url("/v1/reports/pipeline")
                   .with("group_by", by_name)
                   .with("currency", e.currency)
                   .str());
          b += '}';
        }
        b += "]}}";
        Response res = json_response(200, std::move(b));
        res.set_header("X-Position", std::to_string(view->position()));
        return res;
      });
}

// ---- GET /v1/dashboards/sales ----

struct Period {
  domain::Date from, to, today;
};

// The period asked for: `month`, or `from`/`to`, or the twelve months up to `date` (default
// today, UTC). `date` also sets "this week", "overdue" and "today".
std::optional<Period> read_period(params::Query& q) {
  Period p;
  p.today = today_utc();
  auto date = [&](std::string_view name) -> std::optional<domain::Date> {
    auto v = q.get(name);
    if (!v)
      return std::nullopt;
    auto d = domain::Date::parse(*v);
    if (!d)
      q.fail(std::string(name), "must be a date, YYYY-MM-DD");
    return d;
  };
  if (auto d = date("date"))
    p.today = *d;
  auto from = date("from");
  auto to = date("to");
  if (auto m = q.get("month")) {
    auto first = m->size() == 7 ? domain::Date::parse(std::string(*m) + "-01") : std::nullopt;
    if (!first) {
      q.fail("month", "must be a month, YYYY-MM");
    } else if (from || to) {
      q.fail("month", "give either month or from/to");
    } else {
      from = *first;
      to = domain::Date{add_months(*first, 1).days - 1};
    }
  }
  p.from = from.value_or(add_months(first_of_month(p.today), -11));
  p.to = to.value_or(p.today);
  if (p.from > p.to)
    q.fail("from", "must not be after to");
  else if (p.to.days - p.from.days > 5 * 366)
    q.fail("from", "the period may span at most five years");
  if (!q.ok())
    return std::nullopt;
  return p;
}

Url won_between(domain::Date from, domain::Date to, std::string_view currency = {}) {
  Url u("/v1/opportunities");
  u.with("status", "won");
  if (!currency.empty())
    u.with("currency", currency);
  u.with("closed_on_from", from.to_string()).with("closed_on_to", to.to_string());
  return u;
}

std::string day_start(domain::Date d) {
  return d.to_string() + "T00:00:00.000Z";
}
std::string day_end(domain::Date d) {
  return d.to_string() + "T23:59:59.999Z";
}

void dashboard(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"from", "to", "month", "date", "currency", "min_position"});
  auto min = query::min_position(req, q);
  std::string currency;
  if (auto c = q.get("currency")) {
    currency = std::string(*c);
    if (!domain::valid_currency(currency))
      q.fail("currency", "must be an ISO 4217 code, e.g. VND");
  }
  auto period = read_period(q);
  if (!q.ok() || !period)
    return done(q.problem());
  const Context* context = &ctx;
  auto caller = narrowed_to(req, ctx);
  query::when_applied(
      ctx, std::move(done),
      {std::string(projections::kSalesDashboard), std::string(projections::kPipeline)}, min,
      [context, p = *period, currency, caller]() -> Response {
        Response error;
        auto view = query::open_view(*context, projections::kSalesDashboard, error);
        if (!view)
          return error;
        auto pipeline_view = query::open_view(*context, projections::kPipeline, error);
        if (!pipeline_view)
          return error;
        std::string cur =
            currency.empty() ? projections::pipeline_reporting_currency(*pipeline_view) : currency;
        projections::DashboardQuery dq{p.from, p.to, p.today, cur};
        dq.owners = owners_in_reach(*context, caller);
        auto d = projections::sales_dashboard(*view, dq);
        auto open = projections::pipeline_report(*pipeline_view, PipelineGroupBy::stage, cur, {},
                                                 dq.owners);

        std::string b = "{\"period\":{";
        text(b, "from", p.from.to_string());
        b += ',';
        text(b, "to", p.to.to_string());
        b += "},";
        text(b, "date", p.today.to_string());
        b += ',';
        text(b, "currency", cur);
        b += ',';
        scope(b, caller);

        // Won revenue by month.
        b += ",\"won_revenue\":{";
        money(b, "total", d.won_revenue, cur);
        b += ',';
        number(b, "count", d.won_in_currency);
        b += ',';
        text(b, "items_url", won_between(p.from, p.to, cur).str());
        b += ",\"by_month\":[";
        for (std::size_t i = 0; i < d.won_by_month.size(); ++i) {
          const auto& m = d.won_by_month[i];
          auto first = *domain::Date::parse(m.month + "-01");
          domain::Date last{add_months(first, 1).days - 1};
          b += i ? ",{" : "{";
          text(b, "month", m.month);
          b += ',';
          number(b, "count", m.count);
          b += ',';
          money(b, "amount", m.amount, cur);
          b += ',';
          text(b, "items_url",
               won_between(std::max(first, p.from), std::min(last, p.to), cur).str());
          b += '}';
        }
        b += "],\"excluded\":[";
        for (std::size_t i = 0; i < d.won_excluded.size(); ++i) {
          const auto& e = d.won_excluded[i];
          b += i ? ",{" : "{";
          number(b, "count", e.count);
          b += ',';
          money(b, "amount", e.amount, e.currency);
          b += ',';
          text(b, "items_url", won_between(p.from, p.to, e.currency).str());
          b += '}';
        }
        b += "]}";

        // Win rate over every currency: it counts deals, not money.
        b += ",\"win_rate\":{";
        number(b, "won", d.won);
        b += ',';
        number(b, "lost", d.lost);
        b += ',';
        text(b, "percent", d.win_rate_percent);
        b += ',';
        text(b, "won_url", won_between(p.from, p.to).str());
        b += ',';
        Url lost("/v1/opportunities");
        lost.with("status", "lost")
            .with("closed_on_from", p.from.to_string())
            .with("closed_on_to", p.to.to_string());
        text(b, "lost_url", lost.str());
        b += '}';

        b += ",\"average_deal_size\":{";
        money(b, "amount", d.average_deal_size, cur);
        b += ',';
        number(b, "count", d.won_in_currency);
        b += ',';
        text(b, "items_url", won_between(p.from, p.to, cur).str());
        b += '}';

        b += ",\"average_cycle_days\":{";
        text(b, "days", d.average_cycle_days);
        b += ',';
        number(b, "count", d.won);
        b += ',';
        text(b, "items_url", won_between(p.from, p.to).str());
        b += '}';

        b += ",\"open_pipeline\":{";
        pipeline_sums(b, open.total, cur);
        b += ',';
        text(b, "items_url", open_opportunities(cur).str());
        b += ',';
        text(b, "report_url", Url("/v1/reports/pipeline").with("currency", cur).str());
        b += '}';

        b += ",\"activities_this_week\":{";
        text(b, "from", d.week_from.to_string());
        b += ',';
        text(b, "to", d.week_to.to_string());
        b += ',';
        number(b, "total", d.activities_this_week_total);
        b += ',';
        text(b, "items_url",
             Url("/v1/activities")
                 .with("occurred_at_from", day_start(d.week_from))
                 .with("occurred_at_to", day_end(d.week_to))
                 .str());
        b += ",\"by_rep\":[";
        for (std::size_t i = 0; i < d.activities_this_week.size(); ++i) {
          const auto& r = d.activities_this_week[i];
          b += i ? ",{" : "{";
          text(b, "rep", r.rep);
          b += ',';
          number(b, "count", r.count);
          b += ',';
          text(b, "items_url",
               Url("/v1/activities")
                   .with("logged_by", r.rep)
                   .with("occurred_at_from", day_start(d.week_from))
                   .with("occurred_at_to", day_end(d.week_to))
                   .str());
          b += '}';
        }
        b += "]}";

        b += ",\"overdue_tasks\":{";
        number(b, "count", d.overdue_tasks);
        b += ',';
        text(b, "items_url",
             Url("/v1/tasks")
                 .with("status", "open")
                 .with("due_to", domain::Date{p.today.days - 1}.to_string())
                 .str());
        b += ",\"items\":[";
        for (std::size_t i = 0; i < d.overdue.size(); ++i) {
          const auto& t = d.overdue[i];
          b += i ? ",{" : "{";
          text(b, "id", t.id);
          b += ',';
          text(b, "title", t.title);
          b += ',';
          text(b, "assignee_id", t.assignee_id);
          b += ',';
          text(b, "due_date", t.due_date);
          if (t.account_id) {
            b += ',';
            text(b, "account_id", *t.account_id);
          }
          b += ',';
          text(b, "url", "/v1/tasks/" + t.id);
          b += '}';
        }
        b += "]}";

        b += ",\"todays_appointments\":{";
        number(b, "count", d.appointments_today);
        b += ',';
        text(b, "items_url",
             Url("/v1/appointments")
                 .with("status", "scheduled")
                 .with("starts_at_from", day_start(p.today))
                 .with("starts_at_to", day_end(p.today))
                 .str());
        b += ",\"items\":[";
        for (std::size_t i = 0; i < d.today.size(); ++i) {
          const auto& a = d.today[i];
          b += i ? ",{" : "{";
          text(b, "id", a.id);
          b += ',';
          text(b, "subject", a.subject);
          b += ',';
          text(b, "owner_id", a.owner_id);
          b += ',';
          text(b, "account_id", a.account_id);
          b += ',';
          text(b, "starts_at", a.starts_at);
          b += ',';
          text(b, "ends_at", a.ends_at);
          b += ',';
          text(b, "url", "/v1/appointments/" + a.id);
          b += '}';
        }
        b += "]}}";
        Response res = json_response(200, std::move(b));
        res.set_header("X-Position",
                       std::to_string(std::min(view->position(), pipeline_view->position())));
        return res;
      });
}

// ---- GET /v1/accounts/{id}/360 ----

void section(std::string& b, std::string_view name, const projections::Account360Section& s,
             const Url& items_url) {
  b += ',';
  key(b, name);
  b += '{';
  number(b, "count", s.count);
  b += ',';
  text(b, "items_url", items_url.str());
  b += ",\"items\":[";
  for (std::size_t i = 0; i < s.items.size(); ++i) {
    if (i)
      b += ',';
    b += s.items[i];
  }
  b += "]}";
}

void account_360(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"min_position"});
  auto min = query::min_position(req, q);
  if (!q.ok())
    return done(q.problem());
  std::string id = req.params.at(0);
  const Context* context = &ctx;
  query::when_applied(
      ctx, std::move(done),
      {std::string(projections::kAccounts), std::string(projections::kAccount360)}, min,
      [context, id]() -> Response {
        Response error;
        auto accounts = query::open_view(*context, projections::kAccounts, error);
        if (!accounts)
          return error;
        auto view = query::open_view(*context, projections::kAccount360, error);
        if (!view)
          return error;
        auto doc = accounts->get("d/" + id);
        if (!doc)
          return problem(errc::not_found, "no accounts record " + id);
        using namespace std::chrono;
        domain::Timestamp now{
            duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
        auto all = projections::account_360(*view, id, now, kListedPerSection);
        auto of = [&](std::string_view collection) {
          Url u("/v1/" + std::string(collection));
          u.with("account_id", id);
          return u;
        };
        std::string b = "{";
        text(b, "account_id", id);
        b += ",\"account\":";
        b += *doc;
        section(b, "contacts", all.contacts, of("contacts").with("status", "active"));
        section(b, "open_opportunities", all.open_opportunities,
                of("opportunities").with("status", "open"));
        section(b, "recent_activities", all.recent_activities, of("activities"));
        section(
            b, "upcoming_appointments", all.upcoming_appointments,
            of("appointments").with("status", "scheduled").with("starts_at_from", now.to_string()));
        section(b, "open_tasks", all.open_tasks, of("tasks").with("status", "open"));
        section(b, "quotes", all.quotes, of("quotes"));
        section(b, "orders", all.orders, of("orders"));
        section(b, "contracts", all.contracts, of("contracts"));
        b += '}';
        Response res = json_response(200, std::move(b));
        res.set_header("X-Position",
                       std::to_string(std::min(accounts->position(), view->position())));
        return res;
      });
}

}  // namespace

std::vector<Route> sales_report_routes() {
  return {
      {Method::get, "/v1/reports/pipeline", nullptr, pipeline, Produces::json, false,
       "The sales pipeline: open opportunities by stage, owner or close month"},
      {Method::get, "/v1/dashboards/sales", nullptr, dashboard, Produces::json, false,
       "The sales dashboard"},
      {Method::get, "/v1/accounts/{id}/360", nullptr, account_360, Produces::json, false,
       "An account with its contacts, deals, activities, appointments, tasks and documents"},
  };
}

}  // namespace eventcrm::api
