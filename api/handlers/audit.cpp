// Auditors' endpoints (R-AUD): a customer's history, the projections' status and the hash-chain
// check. Handlers turn HTTP into a projections/store query and back, nothing more.
#include <chrono>

#include "api/handlers/params.hpp"
#include "api/handlers/query.hpp"
#include "api/problem.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "eventstore/cloudevents.hpp"
#include "eventstore/store.hpp"
#include "projections/customer_history.hpp"
#include "projections/runtime.hpp"

namespace eventcrm::api {
namespace {

enum class Format : std::uint8_t { json, ndjson, csv };

// `?format=` wins over Accept; JSON by default.
bool pick_format(const Request& req, std::optional<std::string_view> asked, Format& out) {
  std::string_view f = asked ? *asked : std::string_view{};
  if (f.empty()) {
    std::string_view accept = req.header("Accept");
    if (accept.find("application/x-ndjson") != std::string_view::npos)
      f = "ndjson";
    else if (accept.find("text/csv") != std::string_view::npos)
      f = "csv";
    else
      f = "json";
  }
  if (f == "json")
    out = Format::json;
  else if (f == "ndjson")
    out = Format::ndjson;
  else if (f == "csv")
    out = Format::csv;
  else
    return false;
  return true;
}

void csv_field(std::string& out, std::string_view v) {
  out.push_back('"');
  for (char c : v) {
    if (c == '"')
      out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// Read-your-writes: `min_position` (or X-Min-Position) waits, bounded, for the read model.
std::optional<Response> wait_for_position(const Request& req, params::Query& q,
                                          const projections::Runtime& rt,
                                          const std::vector<std::string>& models) {
  std::optional<std::uint64_t> min = q.u64("min_position");
  if (!min && req.has_header("X-Min-Position")) {
    std::uint64_t v = 0;
    if (!params::parse_u64(req.header("X-Min-Position"), v))
      return problem(errc::bad_request, "X-Min-Position must be a log position");
    min = v;
  }
  if (min && !rt.wait_until_applied(models, *min, query::kConsistencyWait))
    return not_ready("the read model has not reached position " + std::to_string(*min) +
                     " yet; retry shortly");
  return std::nullopt;
}

Response customer_history(const Request& req, const Context& ctx) {
  params::Query q(
      req, {"after", "cursor", "limit", "from", "to", "type", "actor", "format", "min_position"});
  auto* rt = query::runtime_of(ctx);
  if (rt == nullptr)
    return not_ready("the projection workers are not running");
  projections::HistoryQuery hq;
  hq.account_id = req.params.at(0);
  if (auto after = q.u64("after"))
    hq.after = *after;
  if (auto cursor = q.u64("cursor"))
    hq.after = *cursor;
  hq.limit = q.limit(100, projections::kHistoryMaxLimit);
  for (const char* bound : {"from", "to"}) {
    if (auto t = q.get(bound)) {
      std::int64_t ms = 0;
      if (!store::parse_rfc3339_ms(*t, ms)) {
        q.fail(bound, "must be an RFC 3339 time, e.g. 2026-11-25T09:00:00Z");
        continue;
      }
      (std::string_view(bound) == "from" ? hq.from_time_ms : hq.to_time_ms) = ms;
    }
  }
  hq.types = q.list("type");
  if (auto a = q.get("actor"))
    hq.actor = std::string(*a);
  Format format = Format::json;
  if (!pick_format(req, q.get("format"), format))
    q.fail("format", "must be json, ndjson or csv");
  if (!q.ok())
    return q.problem();
  if (auto wait = wait_for_position(req, q, *rt, {std::string(projections::kCustomerHistory)}))
    return *wait;
  if (!q.ok())
    return q.problem();
  auto page = projections::history(*rt, *ctx.store, hq);
  if (!page) {
    if (page.error().code == projections::errc::not_ready)
      return not_ready("the customer history is still being built");
    return problem(errc::unavailable, page.error().message);
  }
  Response res;
  std::string& out = res.body;
  if (format == Format::json) {
    res.content_type = "application/json";
    out += "{\"items\":[";
    for (std::size_t i = 0; i < page->items.size(); ++i) {
      const auto& it = page->items[i];
      if (i)
        out.push_back(',');
      out += "{\"position\":" + std::to_string(it.position) + ",\"id\":";
      store::append_json_string(out, it.id);
      out += ",\"type\":";
      store::append_json_string(out, it.type);
      out += ",\"time\":\"" + store::format_rfc3339_ms(it.time_ms) + "\",\"actor\":";
      store::append_json_string(out, it.actor);
      out += ",\"reason\":";
      store::append_json_string(out, it.reason);
      out += ",\"stream\":";
      store::append_json_string(out, it.stream);
      out += ",\"summary\":";
      store::append_json_string(out, it.summary);
      out += ",\"data\":";
      out += it.data.empty() ? std::string_view("null") : std::string_view(it.data);
      out.push_back('}');
    }
    out += "],\"next_cursor\":";
    out += page->next_cursor ? "\"" + std::to_string(*page->next_cursor) + "\"" : "null";
    out.push_back('}');
  } else if (format == Format::ndjson) {
    res.content_type = "application/x-ndjson";
    for (const auto& it : page->items) {
      auto e = ctx.store->get_at(it.position);
      if (!e)
        return to_response(from_store_error(e.error()));
      store::append_cloudevent_json(out, *e);
      out.push_back('\n');
    }
  } else {
    res.content_type = "text/csv; charset=utf-8";
    out += "position,time,type,stream,actor,reason,summary,data\r\n";
    for (const auto& it : page->items) {
      out += std::to_string(it.position) + "," + store::format_rfc3339_ms(it.time_ms) + ",";
      csv_field(out, it.type);
      out.push_back(',');
      csv_field(out, it.stream);
      out.push_back(',');
      csv_field(out, it.actor);
      out.push_back(',');
      csv_field(out, it.reason);
      out.push_back(',');
      csv_field(out, it.summary);
      out.push_back(',');
      csv_field(out, it.data);
      out += "\r\n";
    }
  }
  if (page->next_cursor && format != Format::json)
    res.set_header("X-Next-Cursor", std::to_string(*page->next_cursor));
  res.set_header("X-Position", std::to_string(page->position));
  return res;
}

Response list_projections(const Request& req, const Context& ctx) {
  params::Query q(req, {});
  if (!q.ok())
    return q.problem();
  auto* rt = query::runtime_of(ctx);
  if (rt == nullptr)
    return not_ready("the projection workers are not running");
  std::string out = "{\"items\":[";
  bool first = true;
  for (const auto& s : rt->status()) {
    if (!first)
      out.push_back(',');
    first = false;
    out += "{\"name\":";
    store::append_json_string(out, s.name);
    out += ",\"version\":" + std::to_string(s.version) +
           ",\"serving_version\":" + std::to_string(s.serving_version) +
           ",\"checkpoint\":" + std::to_string(s.checkpoint) +
           ",\"head\":" + std::to_string(s.head) +
           ",\"lag\":{\"events\":" + std::to_string(s.lag_events) +
           ",\"seconds\":" + std::to_string(s.lag_seconds) + "},\"state\":\"" +
           projections::to_string(s.state) + "\"";
    if (s.failed_position) {
      out += ",\"failed_position\":" + std::to_string(*s.failed_position) + ",\"error\":";
      store::append_json_string(out, s.error);
    }
    out += ",\"events_applied\":" + std::to_string(s.events_applied) + "}";
  }
  out += "],\"next_cursor\":null}";
  return json_response(200, std::move(out));
}

Response audit_verify(const Request& req, const Context& ctx) {
  params::Query q(req, {"from", "to"});
  std::uint64_t from = q.u64("from").value_or(1);
  std::uint64_t to = q.u64("to").value_or(0);
  if (from == 0)
    q.fail("from", "positions start at 1");
  if (to != 0 && to < from)
    q.fail("to", "must not be before from");
  if (!q.ok())
    return q.problem();
  auto rep = ctx.store->verify(from, to);
  std::string out = "{\"ok\":" + std::string(rep.ok ? "true" : "false") +
                    ",\"checked\":" + std::to_string(rep.checked) + ",\"first_broken_position\":" +
                    (rep.first_broken_position ? std::to_string(*rep.first_broken_position)
                                               : std::string("null"));
  if (!rep.ok) {
    out += ",\"problem\":";
    store::append_json_string(out, rep.problem);
  }
  out.push_back('}');
  return json_response(200, std::move(out));
}

}  // namespace

std::vector<Route> audit_routes() {
  return {
      {Method::get, "/v1/customers/{account_id}/history", customer_history, nullptr, Produces::any,
       false, "A customer's full history (JSON, NDJSON or CSV)"},
      {Method::get, "/v1/projections", list_projections, nullptr, Produces::json, false,
       "The projections: version, checkpoint, lag and state"},
      {Method::get, "/v1/audit/verify", audit_verify, nullptr, Produces::json, false,
       "Recompute the tamper-evidence hash chain"},
  };
}

}  // namespace eventcrm::api
