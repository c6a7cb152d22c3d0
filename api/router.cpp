// Route matching and the request path around handlers (405/406/415, X-Position, ETag/304).
#include "api/router.hpp"

#include <algorithm>
#include <condition_variable>
#include <iterator>
#include <mutex>

#include "api/problem.hpp"
#include "api/security.hpp"
#include "eventstore/store.hpp"

namespace eventcrm::api {

namespace {

// Splits "/a/b/c" into {"a","b","c"}; false for an empty segment (e.g. "//" or trailing "/").
bool next_segment(std::string_view& rest, std::string_view& seg) {
  if (rest.empty())
    return false;
  if (rest.front() == '/')
    rest.remove_prefix(1);
  std::size_t slash = rest.find('/');
  seg = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  return true;
}

// Matches `path` against `pattern`; appends decoded parameters to `params` on success.
bool match_pattern(std::string_view pattern, std::string_view path,
                   std::vector<std::string>& params) {
  std::size_t start = params.size();
  std::string_view p = pattern, q = path;
  while (true) {
    std::string_view ps, qs;
    bool hp = next_segment(p, ps);
    bool hq = next_segment(q, qs);
    if (!hp && !hq)
      return true;
    if (hp != hq)
      break;
    if (ps.size() >= 2 && ps.front() == '{' && ps.back() == '}') {
      std::string decoded;
      if (qs.empty() || !percent_decode(qs, decoded, false))
        break;
      params.push_back(std::move(decoded));
    } else if (ps != qs) {
      break;
    }
  }
  params.resize(start);
  return false;
}

// The routing key of a path or pattern: its first segment, or "v1/<second>" under /v1/ (the
// collection). Empty when that segment is a parameter (the route is a candidate for any path).
std::string_view route_key(std::string_view path) {
  std::string_view rest = path, first, second;
  if (!next_segment(rest, first))
    return {};
  std::size_t end = first.size() + 1;  // "/" + first
  if (first == "v1" && next_segment(rest, second))
    end += 1 + second.size();
  std::string_view key = path.substr(1, end - 1);
  return key.find('{') == std::string_view::npos ? key : std::string_view{};
}

bool media_accepted(std::string_view accept, Produces produces) {
  if (accept.empty())
    return true;
  while (!accept.empty()) {
    std::size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    std::size_t semi = item.find(';');
    std::string_view params =
        semi == std::string_view::npos ? std::string_view{} : item.substr(semi);
    item = item.substr(0, semi);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    // q=0 means "not acceptable".
    if (params.find("q=0") != std::string_view::npos &&
        params.find("q=0.") == std::string_view::npos)
      continue;
    if (item == "*/*" || produces == Produces::any)
      return true;
    switch (produces) {
      case Produces::json:
        if (iequals(item, "application/json") || iequals(item, "application/*") ||
            iequals(item, "application/problem+json"))
          return true;
        break;
      case Produces::text:
        if (iequals(item, "text/plain") || iequals(item, "text/*"))
          return true;
        break;
      case Produces::event_stream:
        if (iequals(item, "text/event-stream") || iequals(item, "text/*"))
          return true;
        break;
      case Produces::any:
        return true;
    }
  }
  return false;
}

bool is_json_content_type(std::string_view ct) {
  std::size_t semi = ct.find(';');
  std::string_view type = ct.substr(0, semi);
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  if (!iequals(type, "application/json"))
    return false;
  if (semi == std::string_view::npos)
    return true;
  std::string_view rest = ct.substr(semi + 1);
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  // Only UTF-8 bodies are accepted.
  if (rest.size() >= 8 && iequals(rest.substr(0, 8), "charset=")) {
    std::string_view cs = rest.substr(8);
    if (!cs.empty() && cs.front() == '"')
      cs = cs.substr(1, cs.size() >= 2 ? cs.size() - 2 : 0);
    return iequals(cs, "utf-8") || iequals(cs, "utf8");
  }
  return true;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    std::size_t comma = if_none_match.find(',');
    std::string_view item = if_none_match.substr(0, comma);
    if_none_match =
        comma == std::string_view::npos ? std::string_view{} : if_none_match.substr(comma + 1);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item.starts_with("W/"))
      item.remove_prefix(2);
    if (item == "*" || item == etag)
      return true;
  }
  return false;
}

void add_position(const Context& ctx, Response& res) {
  if (ctx.store != nullptr && res.header("X-Position").empty())
    res.set_header("X-Position", std::to_string(ctx.store->head()));
}

}  // namespace

std::uint64_t next_context_id() noexcept {
  static std::atomic<std::uint64_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) + 1;
}

Router::Router(std::vector<Route> routes) : routes_(std::move(routes)) {
  // Candidates per routing key, in table order, each bucket followed by the routes whose key
  // is a parameter (merged by index, so the first matching route of the table still wins).
  std::vector<int> wildcard;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    std::string_view key = route_key(routes_[i].pattern);
    if (key.empty())
      wildcard.push_back(static_cast<int>(i));
    else
      by_key_[std::string(key)].push_back(static_cast<int>(i));
  }
  for (auto& [key, list] : by_key_) {
    std::vector<int> merged;
    std::merge(list.begin(), list.end(), wildcard.begin(), wildcard.end(),
               std::back_inserter(merged));
    list = std::move(merged);
  }
  wildcard_ = std::move(wildcard);
}

Router::Match Router::match(Request& req) const {
  Match m;
  Method want = req.method == Method::head ? Method::get : req.method;
  req.params.clear();
  req.route = -1;
  auto bucket = by_key_.find(route_key(req.path));
  const std::vector<int>& candidates = bucket == by_key_.end() ? wildcard_ : bucket->second;
  for (int index : candidates) {
    const auto i = static_cast<std::size_t>(index);
    const Route& r = routes_[i];
    if (!match_pattern(r.pattern, req.path, req.params))
      continue;
    if (r.method == want) {
      m.route = &r;
      m.index = static_cast<int>(i);
      req.route = m.index;
      m.allow.clear();
      return m;
    }
    req.params.clear();
    if (m.allow.find(to_string(r.method)) == std::string::npos) {
      if (!m.allow.empty())
        m.allow += ", ";
      m.allow += to_string(r.method);
      if (r.method == Method::get)
        m.allow += ", HEAD";
    }
  }
  return m;
}

void Router::finish(const Request& req, const Context& ctx, Response& res) {
  if (req.path.starts_with("/v1/"))
    add_position(ctx, res);
  bool get = req.method == Method::get || req.method == Method::head;
  if (!get || res.status != 200 || res.sse)
    return;
  std::string_view etag = res.header("ETag");
  if (etag.empty()) {
    res.set_header("ETag", make_etag(res.body));
    etag = res.header("ETag");
  }
  std::string_view inm = req.header("If-None-Match");
  if (!inm.empty() && etag_matches(inm, etag)) {
    res.status = 304;
    res.body.clear();
    res.content_type.clear();
  }
}

std::optional<Response> Router::dispatch(Request& req, const Context& ctx,
                                         const std::function<Completion()>& make_async) const {
  if (ctx.security == nullptr)
    return dispatch_checked(req, ctx, make_async);
  // Every answer, whichever way it completes, gets the security headers (and PII masking).
  if (auto pre = ctx.security->preflight(req)) {
    ctx.security->finish(req, *pre);
    return pre;
  }
  Security* sec = ctx.security;
  // The completion may outlive `req`: it keeps what finish() needs.
  auto wrapped = [&]() -> Completion {
    Completion done = make_async();
    auto keep = std::make_shared<Request>();
    keep->method = req.method;
    keep->auth = req.auth;
    std::string origin(req.header("Origin"));
    return [sec, keep, origin = std::move(origin), done = std::move(done)](Response r) mutable {
      HeaderField h{"Origin", origin};
      if (!origin.empty())
        keep->headers = std::span<const HeaderField>(&h, 1);
      sec->finish(*keep, r);
      keep->headers = {};
      done(std::move(r));
    };
  };
  auto res = dispatch_checked(req, ctx, wrapped);
  if (res)
    sec->finish(req, *res);
  return res;
}

std::optional<Response> Router::dispatch_checked(
    Request& req, const Context& ctx, const std::function<Completion()>& make_async) const {
  Match m = match(req);
  if (m.route == nullptr) {
    if (!m.allow.empty()) {
      Response r =
          problem(errc::method_not_allowed, std::string(to_string(req.method)) +
                                                " is not allowed on " + std::string(req.path));
      r.set_header("Allow", m.allow);
      return r;
    }
    return problem(errc::route_not_found, "no resource at " + std::string(req.path));
  }
  const Route& route = *m.route;
  if (ctx.security != nullptr) {
    if (auto refused = ctx.security->check(req, ctx, route))
      return refused;
  }
  if (ctx.read_replica && req.method != Method::get && req.method != Method::head &&
      req.method != Method::options) {
    return problem(errc::misdirected,
                   "this server is a read replica; send commands to the writer" +
                       (ctx.writer_url.empty() ? std::string() : " at " + ctx.writer_url));
  }
  if (!media_accepted(req.header("Accept"), route.produces)) {
    const char* what = route.produces == Produces::event_stream ? "text/event-stream"
                       : route.produces == Produces::text       ? "text/plain"
                                                                : "application/json";
    return problem(errc::not_acceptable, std::string("this resource produces ") + what);
  }
  if (route.consumes_json && !is_json_content_type(req.header("Content-Type"))) {
    return problem(errc::unsupported_media_type,
                   "the body must be application/json (UTF-8); got \"" +
                       std::string(req.header("Content-Type")) + "\"");
  }
  if (route.sync != nullptr) {
    Response res = route.sync(req, ctx);
    finish(req, ctx, res);
    return res;
  }
  const Context* c = &ctx;
  route.async(req, ctx, [c, done = make_async()](Response res) mutable {
    add_position(*c, res);
    done(std::move(res));
  });
  return std::nullopt;
}

Response Router::handle(Request& req, const Context& ctx) const {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Response> out;
  auto inline_res = dispatch(req, ctx, [&] {
    return Completion([&](Response r) {
      std::lock_guard lock(mu);
      out = std::move(r);
      cv.notify_all();
    });
  });
  if (inline_res)
    return std::move(*inline_res);
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return out.has_value(); });
  return std::move(*out);
}

std::string_view Router::label(int index) const noexcept {
  if (index < 0 || static_cast<std::size_t>(index) >= routes_.size())
    return "unmatched";
  return routes_[static_cast<std::size_t>(index)].pattern;
}

Router make_router() {
  std::vector<Route> routes = ops_routes();
  for (Route& r : event_routes())
    routes.push_back(r);
  for (auto* table : {audit_routes, account_routes, contact_routes, lead_routes, opportunity_routes,
                      sales_report_routes, care_routes, commerce_routes, settings_routes,
                      security_routes, marketing_routes, inventory_routes}) {
    for (Route& r : table())
      routes.push_back(r);
  }
  return Router(std::move(routes));
}

}  // namespace eventcrm::api
