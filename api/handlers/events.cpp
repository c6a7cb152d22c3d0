// The event-log collection: streams and the global log (reads, raw appends, live SSE).
// Handlers turn HTTP into a store call and back, nothing more.
#include <functional>
#include <memory>
#include <unordered_map>

#include "api/handlers/params.hpp"
#include "api/json.hpp"
#include "api/metrics.hpp"
#include "api/problem.hpp"
#include "api/router.hpp"
#include "common/string_map.hpp"
#include "domain/registry.hpp"
#include "eventstore/cloudevents.hpp"
#include "eventstore/store.hpp"

namespace eventcrm::api {

namespace {

void append_items(std::string& out, const std::vector<store::RecordedEvent>& events) {
  out += "{\"items\":[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i)
      out.push_back(',');
    store::append_cloudevent_json(out, events[i]);
  }
  out += "],\"next_cursor\":";
}

Response store_failure(const store::Error& e) {
  return to_response(from_store_error(e));
}

// A read is a function of the request target and the log up to head(): rendered pages are
// kept per I/O thread (no locks) and dropped as soon as the head moves.
class ReadCache {
 public:
  // The cached response for `target`, or nullptr. `head` receives the head to remember with
  // a new entry; it is read before the store is, so an entry is never older than its head.
  const Response* find(const Context& ctx, std::string_view target, std::uint64_t& head) {
    head = ctx.store->head();
    if (head != head_ || ctx.id != context_) {
      entries_.clear();
      head_ = head;
      context_ = ctx.id;
      return nullptr;
    }
    auto it = entries_.find(target);
    return it == entries_.end() ? nullptr : &it->second;
  }
  void remember(std::uint64_t head, std::string_view target, Response& res) {
    if (res.status != 200 || head != head_ || res.body.size() > kMaxBody)
      return;
    if (entries_.size() >= kMaxEntries)
      entries_.clear();
    res.set_header("ETag", make_etag(res.body));
    entries_.emplace(std::string(target), res);
  }

 private:
  static constexpr std::size_t kMaxEntries = 512;
  static constexpr std::size_t kMaxBody = 256u << 10;
  std::uint64_t head_ = ~std::uint64_t{0};
  std::uint64_t context_ = 0;
  StringMap<Response> entries_;
};

thread_local ReadCache read_cache;

Response read_stream_uncached(const Request& req, const Context& ctx);

Response read_stream(const Request& req, const Context& ctx) {
  std::uint64_t head = 0;
  if (const Response* hit = read_cache.find(ctx, req.target, head))
    return *hit;
  Response res = read_stream_uncached(req, ctx);
  read_cache.remember(head, req.target, res);
  return res;
}

Response read_stream_uncached(const Request& req, const Context& ctx) {
  const std::string& stream = req.params[0];
  params::Query q(req, {"from", "limit", "direction"});
  store::Direction dir = store::Direction::forward;
  if (auto d = q.get("direction")) {
    if (*d == "backward")
      dir = store::Direction::backward;
    else if (*d != "forward")
      q.fail("direction", "must be \"forward\" or \"backward\"");
  }
  auto from = q.i64("from", 0);
  std::size_t limit = q.limit(ctx.limits.default_page_size, ctx.limits.max_page_size);
  if (!store::valid_stream_name(stream))
    q.fail("stream", "must be <category>-<id>: category [a-z][a-z0-9_]*, id [A-Za-z0-9_.:-]+");
  if (!q.ok())
    return q.problem();

  std::int64_t start = from ? *from : (dir == store::Direction::forward ? 0 : -1);
  auto events = ctx.store->read_stream(stream, start, dir, limit);
  if (!events)
    return store_failure(events.error());
  if (events->empty()) {
    auto version = ctx.store->stream_version(stream);
    if (!version)
      return store_failure(version.error());
    if (*version < 0)
      return problem(errc::not_found, "stream " + stream + " does not exist");
  }
  Response res;
  res.content_type = "application/json";
  std::string& out = res.body;
  out.reserve(events->size() * 640 + 64);
  append_items(out, *events);
  std::int64_t next = -1;
  if (events->size() == limit) {
    std::int64_t last = events->back().stream_version;
    next = dir == store::Direction::forward ? last + 1 : last - 1;
  }
  if (next >= 0) {
    out.push_back('"');
    out += std::to_string(next);
    out.push_back('"');
  } else {
    out += "null";
  }
  out.push_back('}');
  return res;
}

bool read_filter(params::Query& q, store::Filter& filter) {
  filter.types = q.list("type");
  filter.categories = q.list("category");
  for (const std::string& t : filter.types)
    if (!store::valid_event_type(t))
      q.fail("type", "\"" + t + "\" is not a valid event type");
  return q.ok();
}

Response read_log_uncached(const Request& req, const Context& ctx);

Response read_log(const Request& req, const Context& ctx) {
  std::uint64_t head = 0;
  if (const Response* hit = read_cache.find(ctx, req.target, head))
    return *hit;
  Response res = read_log_uncached(req, ctx);
  read_cache.remember(head, req.target, res);
  return res;
}

Response read_log_uncached(const Request& req, const Context& ctx) {
  params::Query q(req, {"after", "cursor", "limit", "type", "category"});
  auto after = q.u64("after");
  auto cursor = q.u64("cursor");
  if (after && cursor)
    q.fail("cursor", "give either after or cursor");
  std::size_t limit = q.limit(ctx.limits.default_page_size, ctx.limits.max_page_size);
  store::Filter filter;
  read_filter(q, filter);
  if (!q.ok())
    return q.problem();

  std::uint64_t from = after ? *after : (cursor ? *cursor : 0);
  auto page = ctx.store->read_all(from, limit, filter);
  if (!page)
    return store_failure(page.error());
  Response res;
  res.content_type = "application/json";
  std::string& out = res.body;
  out.reserve(page->events.size() * 640 + 64);
  append_items(out, page->events);
  std::uint64_t head = ctx.store->head();
  if (page->scanned_to < head) {
    out.push_back('"');
    out += std::to_string(page->scanned_to);
    out.push_back('"');
  } else {
    out += "null";
  }
  out.push_back('}');
  return res;
}

Response get_event(const Request& req, const Context& ctx) {
  const std::string& id = req.params[0];
  params::Query q(req, {});
  if (!q.ok())
    return q.problem();
  if (!store::valid_uuid(id))
    return problem(errc::not_found, "no event with id " + id);
  auto e = ctx.store->get_event(id);
  if (!e)
    return store_failure(e.error());
  Response res;
  res.content_type = "application/json";
  store::append_cloudevent_json(res.body, *e);
  return res;
}

Response live(const Request& req, const Context& ctx) {
  params::Query q(req, {"after", "type", "category"});
  auto after = q.u64("after");
  SseStart start;
  read_filter(q, start.filter);
  std::string_view last_id = req.header("Last-Event-ID");
  if (!last_id.empty()) {
    std::uint64_t v = 0;
    if (!params::parse_u64(last_id, v))
      q.fail("Last-Event-ID", "must be an event position (a non-negative integer)");
    else
      after = v;  // resuming wins over the initial position
  }
  if (!q.ok())
    return q.problem();
  if (ctx.sse_subscribers != nullptr &&
      ctx.sse_subscribers->load(std::memory_order_relaxed) >= ctx.limits.max_sse_subscribers)
    return problem(errc::unavailable, "too many live subscribers");
  start.after = after.value_or(0);
  Response res;
  res.content_type = "text/event-stream";
  res.sse = std::move(start);
  return res;
}

// ---- appends ----

bool read_expected(std::string_view text, store::ExpectedVersion& out) {
  if (text == "any") {
    out = store::ExpectedVersion::any();
  } else if (text == "no_stream") {
    out = store::ExpectedVersion::no_stream();
  } else if (text == "stream_exists" || text == "*") {
    out = store::ExpectedVersion::stream_exists();
  } else {
    std::int64_t v = 0;
    if (!params::parse_i64(text, v) || v < -1)
      return false;
    out = v < 0 ? store::ExpectedVersion::no_stream() : store::ExpectedVersion::exact(v);
  }
  return true;
}

void read_metadata(const json::Value& m, const std::string& path, store::Metadata& out,
                   std::vector<FieldError>& errors) {
  for (const auto& [key, value] : m.members) {
    if (!value.is_string()) {
      errors.push_back({path + "." + key, "must be a string"});
      continue;
    }
    if (key == "actor")
      out.actor = value.text;
    else if (key == "reason")
      out.reason = value.text;
    else if (key == "correlation_id")
      out.correlation_id = value.text;
    else if (key == "causation_id")
      out.causation_id = value.text;
    else
      out.extra.emplace_back(key, value.text);
  }
}

// Decodes {"events":[...], "expected_version"?} into an append; collects every field error.
bool decode_append(const json::Value& root, store::StreamAppend& out,
                   std::optional<store::ExpectedVersion>& body_expected,
                   std::vector<FieldError>& errors) {
  if (!root.is_object()) {
    errors.push_back({"", "the body must be a JSON object"});
    return false;
  }
  const json::Value* events = nullptr;
  for (const auto& [key, value] : root.members) {
    if (key == "events") {
      events = &value;
    } else if (key == "expected_version") {
      store::ExpectedVersion ev;
      if (value.is_string() && read_expected(value.text, ev) && value.text != "*")
        body_expected = ev;
      else if (value.is_number() && read_expected(value.text, ev))
        body_expected = ev;
      else
        errors.push_back(
            {"expected_version",
             "must be a version >= 0, -1, \"no_stream\", \"stream_exists\" or \"any\""});
    } else {
      errors.push_back({key, "unknown field"});
    }
  }
  if (events == nullptr) {
    errors.push_back({"events", "is required"});
    return false;
  }
  if (!events->is_array()) {
    errors.push_back(
        {"events", std::string("must be an array, not ") + json::kind_name(events->kind)});
    return false;
  }
  if (events->items.empty())
    errors.push_back({"events", "must hold at least one event"});
  out.events.reserve(events->items.size());
  for (std::size_t i = 0; i < events->items.size(); ++i) {
    const json::Value& ev = events->items[i];
    std::string path = "events[" + std::to_string(i) + "]";
    if (!ev.is_object()) {
      errors.push_back({path, "must be an object"});
      continue;
    }
    store::NewEvent ne;
    bool has_type = false, has_data = false;
    for (const auto& [key, value] : ev.members) {
      if (key == "id") {
        if (!value.is_string() || !store::valid_uuid(value.text))
          errors.push_back({path + ".id", "must be a lowercase UUID (8-4-4-4-12)"});
        else
          ne.id = value.text;
      } else if (key == "type") {
        has_type = true;
        if (!value.is_string() || !store::valid_event_type(value.text))
          errors.push_back(
              {path + ".type", "must be an event type like category.verb_past_tense.v1"});
        else
          ne.type = value.text;
      } else if (key == "data") {
        has_data = true;
        if (!value.is_object())
          errors.push_back({path + ".data", "must be a JSON object"});
        else
          json::write(ne.data, value);
      } else if (key == "metadata") {
        if (!value.is_object())
          errors.push_back({path + ".metadata", "must be an object of strings"});
        else
          read_metadata(value, path + ".metadata", ne.metadata, errors);
      } else {
        errors.push_back({path + "." + key, "unknown field"});
      }
    }
    if (!has_type)
      errors.push_back({path + ".type", "is required"});
    if (!has_data)
      errors.push_back({path + ".data", "is required"});
    out.events.push_back(std::move(ne));
  }
  return errors.empty();
}

// Raw appends to a CRM record's stream (account-…, opportunity-…) must be events its module
// knows, with payloads its codec accepts: the read models fold them and would stop on anything
// else. Streams of other categories take any event.
void check_domain_events(const store::StreamAppend& part, std::vector<FieldError>& errors) {
  std::string_view category = std::string_view(part.stream).substr(0, part.stream.find('-'));
  bool domain_category = false;
  for (const auto& t : domain::event_types())
    domain_category = domain_category || t.category == category;
  for (std::size_t i = 0; i < part.events.size(); ++i) {
    const store::NewEvent& e = part.events[i];
    std::string path = "events[" + std::to_string(i) + "]";
    const domain::EventTypeInfo* info = domain::find_event_type(e.type);
    if (info == nullptr) {
      if (domain_category)
        errors.push_back(
            {path + ".type", "not an event type of " + std::string(category) + " records"});
      continue;
    }
    if (info->category != category && domain_category && e.type.rfind("notification.", 0) != 0) {
      errors.push_back(
          {path + ".type", e.type + " belongs to " + std::string(info->category) + " records"});
      continue;
    }
    if (auto ok = info->check(e.type, e.data); !ok)
      errors.push_back({path + ".data", ok.error().message});
  }
}

void append(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {});
  if (!q.ok())
    return done(q.problem());
  const std::string& stream = req.params[0];
  if (!store::valid_stream_name(stream))
    return done(problem(errc::validation_failed, "invalid stream name",
                        {{"stream",
                          "must be <category>-<id>: category [a-z][a-z0-9_]*, "
                          "id [A-Za-z0-9_.:-]+, at most 200 bytes"}}));
  auto root = json::decode(req.body);
  if (!root)
    return done(problem(errc::malformed_json, root.error().message));

  store::StreamAppend part;
  part.stream = stream;
  std::optional<store::ExpectedVersion> body_expected;
  std::vector<FieldError> errors;
  decode_append(*root, part, body_expected, errors);

  std::optional<store::ExpectedVersion> header_expected;
  std::string_view if_match = req.header("If-Match");
  if (!if_match.empty()) {
    std::string_view v = if_match;
    if (v.starts_with("W/"))
      v.remove_prefix(2);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
      v = v.substr(1, v.size() - 2);
    store::ExpectedVersion ev;
    if (if_match == "*")
      header_expected = store::ExpectedVersion::stream_exists();
    else if (read_expected(v, ev))
      header_expected = ev;
    else
      return done(problem(errc::bad_request, "If-Match must be \"<version>\" or *",
                          {{"If-Match", "must be a quoted stream version"}}));
  }
  if (header_expected && body_expected)
    errors.push_back({"expected_version", "give either If-Match or expected_version, not both"});
  check_domain_events(part, errors);
  if (!errors.empty())
    return done(
        problem(errc::validation_failed, "the append request is invalid", std::move(errors)));
  part.expected =
      header_expected ? *header_expected : body_expected.value_or(store::ExpectedVersion::any());

  std::string_view reason = req.header("X-Reason");
  std::string_view correlation = req.header("X-Correlation-Id");
  for (store::NewEvent& e : part.events) {
    if (e.metadata.reason.empty())
      e.metadata.reason = std::string(reason);
    if (e.metadata.correlation_id.empty())
      e.metadata.correlation_id = std::string(correlation);
  }

  if (ctx.inflight_appends != nullptr) {
    if (ctx.inflight_appends->fetch_add(1) >= ctx.limits.max_inflight_appends) {
      ctx.inflight_appends->fetch_sub(1);
      return done(problem(errc::rate_limited, "too many appends in flight; retry shortly"));
    }
  }
  std::size_t count = part.events.size();
  std::vector<store::StreamAppend> parts;
  parts.push_back(std::move(part));
  std::atomic<std::size_t>* inflight = ctx.inflight_appends;
  Metrics* metrics = ctx.metrics;
  // Runs on the store's writer thread once durable: build the response and hand it back.
  ctx.store->append_async(std::move(parts), [done = std::move(done), stream, inflight, metrics,
                                             count](store::Result<store::AppendResult> r) {
    if (inflight != nullptr)
      inflight->fetch_sub(1);
    if (!r)
      return done(to_response(from_store_error(r.error())));
    const store::AppendResult& ar = *r;
    std::int64_t first = ar.streams.empty() ? 0 : ar.streams.front().first_version;
    std::int64_t last = ar.streams.empty() ? 0 : ar.streams.front().last_version;
    Response res;
    res.status = ar.replayed ? 200 : 201;
    res.content_type = "application/json";
    std::string& b = res.body;
    b += "{\"stream\":";
    json::write_string(b, stream);
    b += ",\"first_version\":" + std::to_string(first);
    b += ",\"version\":" + std::to_string(last);
    b += ",\"position\":" + std::to_string(ar.last_position);
    b += ",\"event_ids\":[";
    for (std::size_t i = 0; i < ar.event_ids.size(); ++i) {
      if (i)
        b.push_back(',');
      json::write_string(b, ar.event_ids[i]);
    }
    b += "]}";
    res.set_header("ETag", "\"" + std::to_string(last) + "\"");
    res.set_header("Location", "/v1/streams/" + stream);
    res.set_header("X-Position", std::to_string(ar.last_position));
    if (metrics != nullptr && !ar.replayed) {
      metrics->appends.fetch_add(1, std::memory_order_relaxed);
      metrics->appended_events.fetch_add(count, std::memory_order_relaxed);
    }
    done(std::move(res));
  });
}

}  // namespace

std::vector<Route> event_routes() {
  return {
      {Method::get, "/v1/events/live", live, nullptr, Produces::event_stream, false,
       "Live Server-Sent Events from a position"},
      {Method::get, "/v1/events", read_log, nullptr, Produces::json, false,
       "The global ordered log"},
      {Method::get, "/v1/events/{id}", get_event, nullptr, Produces::json, false,
       "One event by id"},
      {Method::get, "/v1/streams/{stream}", read_stream, nullptr, Produces::json, false,
       "One stream's events"},
      {Method::post, "/v1/streams/{stream}", nullptr, append, Produces::json, true,
       "Append events to a stream (operators and tools)"},
  };
}

}  // namespace eventcrm::api
