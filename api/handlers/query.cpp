// Detail and list queries over collection read models; see query.hpp.
#include "api/handlers/query.hpp"

#include <memory>

#include "api/json.hpp"
#include "api/problem.hpp"
#include "api/security.hpp"
#include "api/server.hpp"
#include "api/workers.hpp"
#include "eventstore/cloudevents.hpp"
#include "projections/as_of.hpp"
#include "projections/registry.hpp"
#include "projections/runtime.hpp"

namespace eventcrm::api::query {

projections::Runtime* runtime_of(const Context& ctx) {
  return ctx.extensions != nullptr ? ctx.extensions->projections() : nullptr;
}

std::optional<std::uint64_t> min_position(const Request& req, params::Query& q) {
  std::optional<std::uint64_t> min = q.u64("min_position");
  if (!min && req.has_header("X-Min-Position")) {
    std::uint64_t v = 0;
    if (!params::parse_u64(req.header("X-Min-Position"), v))
      q.fail("X-Min-Position", "must be a log position");
    else
      min = v;
  }
  return min;
}

std::unique_ptr<projections::View> open_view(const Context& ctx, std::string_view projection,
                                             Response& error) {
  auto* rt = runtime_of(ctx);
  if (rt == nullptr) {
    error = not_ready("the projection workers are not running");
    return nullptr;
  }
  auto view = rt->view(projection);
  if (!view) {
    error = not_ready("the read model " + std::string(projection) +
                      " is not available yet: " + view.error().message);
    return nullptr;
  }
  return std::move(*view);
}

void when_applied(const Context& ctx, Completion done, std::vector<std::string> models,
                  std::optional<std::uint64_t> min, std::function<Response()> answer) {
  auto* rt = runtime_of(ctx);
  if (rt == nullptr)
    return done(not_ready("the projection workers are not running"));
  if (!min || rt->wait_until_applied(models, *min, std::chrono::milliseconds(0)))
    return done(answer());
  if (ctx.workers == nullptr)
    return done(not_ready("the read model has not reached position " + std::to_string(*min)));
  auto shared = std::make_shared<Completion>(std::move(done));
  bool queued = ctx.workers->submit(
      [rt, shared, models = std::move(models), min = *min, answer = std::move(answer)] {
        if (!rt->wait_until_applied(models, min, kConsistencyWait)) {
          return (*shared)(not_ready("the read model has not reached position " +
                                     std::to_string(min) + " yet; retry shortly"));
        }
        (*shared)(answer());
      });
  if (!queued)
    (*shared)(problem(errc::rate_limited, "too many requests waiting; retry shortly"));
}

namespace {

// `?as_of=`: a log position (digits) or an RFC 3339 time.
bool parse_as_of(std::string_view v, projections::AsOf& out) {
  std::uint64_t pos = 0;
  if (params::parse_u64(v, pos)) {
    out.position = pos;
    return true;
  }
  std::int64_t ms = 0;
  if (store::parse_rfc3339_ms(v, ms)) {
    out.time_ms = ms;
    return true;
  }
  return false;
}

void set_version_etag(Response& res) {
  auto parsed = json::decode(res.body);
  std::int64_t version = 0;
  if (parsed && parsed->is_object()) {
    if (const json::Value* v = parsed->find("version"); v != nullptr && v->as_int64(version))
      res.set_header("ETag", "\"" + std::to_string(version) + "\"");
  }
}

// The record rebuilt from its own stream up to the as-of point (runs on a worker: it reads the
// log).
Response record_as_of(const Context& ctx, const std::string& projection, const std::string& name,
                      const std::string& id, projections::AsOf as_of) {
  auto p = projections::make_projection(projection);
  if (p == nullptr || p->filter().categories.size() != 1)
    return problem(errc::bad_request, "as_of is not available for " + name,
                   {{"as_of", "not supported by this collection"}});
  std::string stream = p->filter().categories.front() + "-" + id;
  if (!store::valid_stream_name(stream))
    return problem(errc::not_found, "no " + name + " record " + id);
  std::uint64_t at = 0;
  if (as_of.time_ms) {
    auto pos = projections::position_at_time(*ctx.store, *as_of.time_ms);
    if (!pos)
      return to_response(from_store_error(pos.error()));
    at = *pos;
  } else {
    at = *as_of.position;
  }
  auto events = projections::state_as_of(*ctx.store, stream, as_of);
  if (!events)
    return to_response(from_store_error(events.error()));
  std::optional<std::string> doc;
  if (!events->empty())
    doc = projections::records::render(*p, *events, id);
  if (!doc)
    return problem(errc::not_found, "no " + name + " record " + id + " as of that point");
  Response res = json_response(200, std::move(*doc));
  res.set_header("X-Position", std::to_string(at));
  set_version_etag(res);
  return res;
}

}  // namespace

void get(const Request& req, const Context& ctx, Completion done, const Collection& c) {
  params::Query q(req, {"min_position", "as_of"});
  auto min = min_position(req, q);
  projections::AsOf as_of;
  if (auto v = q.get("as_of"); v && !parse_as_of(*v, as_of))
    q.fail("as_of", "must be a log position or an RFC 3339 time");
  if (!q.ok())
    return done(q.problem());
  std::string id = req.params.at(0);
  std::string name(c.name);
  std::string projection(c.projection);
  const Context* context = &ctx;
  if (as_of.position || as_of.time_ms) {
    auto job = [context, projection, name, id, as_of] {
      return record_as_of(*context, projection, name, id, as_of);
    };
    if (ctx.workers == nullptr)
      return done(job());
    auto shared = std::make_shared<Completion>(std::move(done));
    if (!ctx.workers->submit([shared, job] { (*shared)(job()); }))
      (*shared)(problem(errc::rate_limited, "too many requests waiting; retry shortly"));
    return;
  }
  when_applied(ctx, std::move(done), {projection}, min, [context, id, name, projection] {
    Response error;
    auto view = open_view(*context, projection, error);
    if (!view)
      return error;
    auto doc = view->get("d/" + id);
    if (!doc)
      return problem(errc::not_found, "no " + name + " record " + id);
    Response res = json_response(200, std::move(*doc));
    res.set_header("X-Position", std::to_string(view->position()));
    // The record's version is its ETag, so a client can send it back as If-Match.
    set_version_etag(res);
    return res;
  });
}

void list(const Request& req, const Context& ctx, Completion done, const Collection& c) {
  std::vector<std::string_view> allowed = {"q", "sort", "limit", "cursor", "min_position"};
  allowed.insert(allowed.end(), c.filters.begin(), c.filters.end());
  std::vector<std::string> range_names;
  for (std::string_view r : c.ranges) {
    range_names.push_back(std::string(r) + "_from");
    range_names.push_back(std::string(r) + "_to");
  }
  for (const std::string& r : range_names)
    allowed.push_back(r);
  params::Query q(req, allowed);
  auto min = min_position(req, q);
  projections::records::ListQuery lq;
  lq.limit = q.limit(kDefaultLimit, kMaxLimit);
  if (auto s = q.get("sort"))
    lq.sort = std::string(*s);
  if (auto t = q.get("q"))
    lq.text = std::string(*t);
  if (auto cur = q.get("cursor"))
    lq.cursor = std::string(*cur);
  for (std::string_view f : c.filters) {
    if (auto v = q.get(f))
      lq.equals.emplace_back(std::string(f), std::string(*v));
  }
  for (std::string_view r : c.ranges) {
    projections::records::Range range{std::string(r), "", ""};
    if (auto v = q.get(std::string(r) + "_from"))
      range.from = std::string(*v);
    if (auto v = q.get(std::string(r) + "_to"))
      range.to = std::string(*v);
    if (!range.from.empty() || !range.to.empty())
      lq.ranges.push_back(std::move(range));
  }
  if (!q.ok())
    return done(q.problem());
  const Context* context = &ctx;
  std::string projection(c.projection);
  const projections::records::Spec* spec = c.spec;
  // Record-level reach: records out of it are left out of the page.
  std::shared_ptr<const Principal> reach;
  if (ctx.security != nullptr && req.auth != nullptr && req.auth->reach != perm::Reach::all &&
      Security::reach_applies(c.name))
    reach = req.auth;
  when_applied(ctx, std::move(done), {projection}, min, [context, projection, spec, lq, reach] {
    Response error;
    auto view = open_view(*context, projection, error);
    if (!view)
      return error;
    auto page = projections::records::list(*view, *spec, lq);
    if (!page) {
      if (page.error() == projections::records::ListError::bad_sort) {
        std::string sorts;
        for (const std::string& s : spec->sorts)
          sorts += (sorts.empty() ? "" : ", ") + s;
        return problem(errc::bad_request, "unknown sort order",
                       {{"sort", "must be one of: " + sorts}});
      }
      return problem(errc::bad_request, "invalid cursor",
                     {{"cursor", "must be a next_cursor from a previous page"}});
    }
    Response res;
    res.status = 200;
    res.content_type = "application/json";
    std::string& b = res.body;
    b += "{\"items\":[";
    bool first = true;
    for (const std::string& doc : page->docs) {
      if (reach && !context->security->in_reach(*reach, doc))
        continue;
      if (!first)
        b.push_back(',');
      first = false;
      b += doc;
    }
    b += "],\"next_cursor\":";
    if (page->next_cursor.empty())
      b += "null";
    else
      json::write_string(b, page->next_cursor);
    b += '}';
    res.set_header("X-Position", std::to_string(view->position()));
    return res;
  });
}

}  // namespace eventcrm::api::query
