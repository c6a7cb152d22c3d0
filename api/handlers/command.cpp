// Command plumbing shared by the collection handlers; see command.hpp.
#include "api/handlers/command.hpp"

#include <charconv>

#include "api/workers.hpp"
#include "eventstore/store.hpp"

namespace eventcrm::api::command {

Fields::Fields(const json::Value& root, std::initializer_list<std::string_view> allowed)
    : root_(root) {
  for (const json::Member& m : root.members) {
    bool known = m.first == "reason";
    for (std::string_view a : allowed)
      known = known || m.first == a;
    if (!known)
      fail(m.first, "unknown field");
  }
}

std::string Fields::path(std::string_view name) const {
  return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
}

void Fields::fail(std::string field, std::string message) {
  errors_.push_back({std::move(field), std::move(message)});
}

Response Fields::problem() const {
  return api::problem(errc::validation_failed, "the request is invalid", errors_);
}

bool Fields::has(std::string_view name) const {
  const json::Value* v = root_.find(name);
  return v != nullptr && v->kind != json::Value::Kind::null;
}

const json::Value* Fields::find(std::string_view name, bool required) {
  const json::Value* v = root_.find(name);
  if (v == nullptr || v->kind == json::Value::Kind::null) {
    if (required)
      fail(path(name), "is required");
    return nullptr;
  }
  return v;
}

std::optional<std::string> Fields::text(std::string_view name, bool required, std::size_t max) {
  const json::Value* v = find(name, required);
  if (v == nullptr)
    return std::nullopt;
  if (!v->is_string()) {
    fail(path(name), "must be a string");
    return std::nullopt;
  }
  if (v->text.size() > max) {
    fail(path(name), "must be at most " + std::to_string(max) + " bytes");
    return std::nullopt;
  }
  return v->text;
}

std::optional<std::int64_t> Fields::integer(std::string_view name, bool required, std::int64_t min,
                                            std::int64_t max) {
  const json::Value* v = find(name, required);
  if (v == nullptr)
    return std::nullopt;
  std::int64_t n = 0;
  if (!v->is_number() || !v->as_int64(n)) {
    fail(path(name), "must be an integer");
    return std::nullopt;
  }
  if (n < min || n > max) {
    fail(path(name), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> Fields::flag(std::string_view name) {
  const json::Value* v = find(name, false);
  if (v == nullptr)
    return std::nullopt;
  if (v->kind != json::Value::Kind::boolean) {
    fail(path(name), "must be true or false");
    return std::nullopt;
  }
  return v->boolean;
}

std::optional<domain::Decimal> Fields::decimal(std::string_view name, bool required) {
  const json::Value* v = find(name, required);
  if (v == nullptr)
    return std::nullopt;
  if (!v->is_string()) {
    fail(path(name), "must be a decimal string, e.g. \"12.50\"");
    return std::nullopt;
  }
  auto d = domain::Decimal::parse(v->text);
  if (!d) {
    fail(path(name), "must be a decimal string, e.g. \"12.50\"");
    return std::nullopt;
  }
  return d;
}

std::optional<domain::Money> Fields::money(std::string_view name, bool required) {
  const json::Value* v = find(name, required);
  if (v == nullptr)
    return std::nullopt;
  const json::Value* amount = v->is_object() ? v->find("amount") : nullptr;
  const json::Value* currency = v->is_object() ? v->find("currency") : nullptr;
  if (amount == nullptr || currency == nullptr || v->members.size() != 2) {
    fail(path(name), "must be {\"amount\": \"<decimal>\", \"currency\": \"<ISO 4217>\"}");
    return std::nullopt;
  }
  std::optional<domain::Decimal> d;
  if (amount->is_string())
    d = domain::Decimal::parse(amount->text);
  if (!d) {
    fail(path(name) + ".amount", "must be a decimal string, e.g. \"1250.00\"");
    return std::nullopt;
  }
  if (!currency->is_string() || !domain::valid_currency(currency->text)) {
    fail(path(name) + ".currency", "must be an ISO 4217 code, e.g. \"VND\"");
    return std::nullopt;
  }
  return domain::Money{*d, currency->text};
}

std::optional<domain::Date> Fields::date(std::string_view name, bool required) {
  const json::Value* v = find(name, required);
  if (v == nullptr)
    return std::nullopt;
  std::optional<domain::Date> d;
  if (v->is_string())
    d = domain::Date::parse(v->text);
  if (!d)
    fail(path(name), "must be a date, YYYY-MM-DD");
  return d;
}

std::optional<domain::Timestamp> Fields::time(std::string_view name, bool required) {
  const json::Value* v = find(name, required);
  if (v == nullptr)
    return std::nullopt;
  std::optional<domain::Timestamp> t;
  if (v->is_string())
    t = domain::Timestamp::parse(v->text);
  if (!t)
    fail(path(name), "must be an RFC 3339 time, e.g. 2026-11-25T09:00:00Z");
  return t;
}

const json::Value* Fields::object(std::string_view name, bool required) {
  const json::Value* v = find(name, required);
  if (v != nullptr && !v->is_object()) {
    fail(path(name), "must be an object");
    return nullptr;
  }
  return v;
}

const json::Value* Fields::array(std::string_view name, bool required) {
  const json::Value* v = find(name, required);
  if (v != nullptr && !v->is_array()) {
    fail(path(name), "must be an array");
    return nullptr;
  }
  return v;
}

std::vector<std::string> Fields::texts(std::string_view name, std::size_t max_items) {
  std::vector<std::string> out;
  const json::Value* v = array(name, false);
  if (v == nullptr)
    return out;
  if (v->items.size() > max_items) {
    fail(path(name), "must have at most " + std::to_string(max_items) + " items");
    return out;
  }
  for (std::size_t i = 0; i < v->items.size(); ++i) {
    if (!v->items[i].is_string()) {
      fail(path(name) + "[" + std::to_string(i) + "]", "must be a string");
      continue;
    }
    out.push_back(v->items[i].text);
  }
  return out;
}

std::optional<Response> parse_object(const Request& req, json::Value& out) {
  std::string_view body = req.body;
  if (body.empty())
    body = "{}";
  auto root = json::decode(body);
  if (!root)
    return problem(errc::malformed_json, root.error().message);
  if (!root->is_object())
    return problem(errc::validation_failed, "the body must be a JSON object",
                   {{"body", "must be a JSON object"}});
  out = std::move(*root);
  return std::nullopt;
}

std::optional<Response> read_envelope(const Request& req, const json::Value* body,
                                      app::CommandOptions& out) {
  out.metadata.actor = req.principal.empty() ? "anonymous" : std::string(req.principal);
  std::string_view if_match = req.header("If-Match");
  if (!if_match.empty()) {
    std::string_view v = if_match;
    if (v.starts_with("W/"))
      v.remove_prefix(2);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
      v = v.substr(1, v.size() - 2);
    std::int64_t n = -1;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size() || n < 0)
      return problem(errc::bad_request, "If-Match must be the record's version, e.g. \"3\"",
                     {{"If-Match", "must be a quoted record version"}});
    out.expected_version = n;
  }
  std::string_view key = req.header("Idempotency-Key");
  if (req.has_header("Idempotency-Key")) {
    if (key.empty() || key.size() > 255)
      return problem(errc::bad_request, "Idempotency-Key must be 1 to 255 characters",
                     {{"Idempotency-Key", "must be 1 to 255 characters"}});
    out.idempotency_key = out.metadata.actor + "\n" + std::string(key);
    std::string request;
    request += to_string(req.method);
    request += ' ';
    request += req.path;
    request += '\n';
    request += req.body;
    out.request_digest = app::digest_of(request);
  }
  std::string_view reason = req.header("X-Reason");
  if (body != nullptr) {
    if (const json::Value* r = body->find("reason"); r != nullptr && r->is_string())
      reason = r->text;
  }
  if (reason.size() > 1000)
    return problem(errc::bad_request, "the reason must be at most 1000 bytes",
                   {{"reason", "must be at most 1000 bytes"}});
  out.metadata.reason = std::string(reason);
  std::string_view correlation = req.header("X-Correlation-Id");
  if (correlation.size() > 200)
    return problem(errc::bad_request, "X-Correlation-Id must be at most 200 bytes");
  out.metadata.correlation_id =
      correlation.empty() ? std::string(req.request_id) : std::string(correlation);
  return std::nullopt;
}

Response from_app_error(const app::Error& e) {
  Problem p;
  p.detail = e.message;
  switch (e.code) {
    case app::errc::not_found:
      p.code = errc::not_found;
      break;
    case app::errc::already_exists:
      p.code = errc::already_exists;
      p.existing_id = e.existing_id;
      break;
    case app::errc::invalid_transition:
      p.code = errc::invalid_transition;
      p.allowed = e.allowed;
      break;
    case app::errc::validation:
      p.code = errc::validation_failed;
      for (const auto& f : e.fields)
        p.errors.push_back({f.field, f.message});
      break;
    case app::errc::conflict:
      p.code = errc::conflict;
      p.current_version = e.current_version;
      break;
    case app::errc::idempotency_mismatch:
      p.code = errc::idempotency_key_reused;
      break;
    case app::errc::store_failure:
      p.code = errc::unavailable;
      break;
    case app::errc::corrupted:
      p.code = errc::internal;
      break;
  }
  Response res = to_response(p);
  if (e.code == app::errc::conflict && e.current_version && *e.current_version >= 0)
    res.set_header("ETag", "\"" + std::to_string(*e.current_version) + "\"");
  return res;
}

Response result(const app::CommandResult& r, std::string_view collection, bool created) {
  Response res;
  res.status = created ? 201 : 200;
  res.content_type = "application/json";
  std::string& b = res.body;
  b += "{\"id\":";
  json::write_string(b, r.id);
  b += ",\"version\":" + std::to_string(r.version);
  b += ",\"position\":" + std::to_string(r.position);
  b += '}';
  res.set_header("ETag", "\"" + std::to_string(r.version) + "\"");
  if (r.position > 0)
    res.set_header("X-Position", std::to_string(r.position));
  if (created)
    res.set_header("Location", "/v1/" + std::string(collection) + "/" + r.id);
  return res;
}

void submit(const Context& ctx, Completion done, std::function<Response()> job) {
  if (ctx.commands == nullptr || ctx.workers == nullptr)
    return done(problem(errc::unavailable, "this server does not accept commands"));
  // The completion is shared so it can still answer if the queue refuses the job.
  auto shared = std::make_shared<Completion>(std::move(done));
  bool queued = ctx.workers->submit([shared, job = std::move(job)] {
    Response res;
    try {
      res = job();
    } catch (const std::exception& e) {
      res = problem(errc::internal, std::string("the command failed: ") + e.what());
    }
    (*shared)(std::move(res));
  });
  if (!queued)
    (*shared)(problem(errc::rate_limited, "too many commands queued; retry shortly"));
}

std::shared_ptr<InFlight> InFlight::begin(const Context& ctx, Completion& done) {
  if (ctx.commands == nullptr || ctx.workers == nullptr) {
    done(problem(errc::unavailable, "this server does not accept commands"));
    return nullptr;
  }
  if (ctx.inflight_appends != nullptr &&
      ctx.inflight_appends->fetch_add(1) >= ctx.limits.max_inflight_appends) {
    ctx.inflight_appends->fetch_sub(1);
    done(problem(errc::rate_limited, "too many commands in flight; retry shortly"));
    return nullptr;
  }
  return std::make_shared<InFlight>(std::move(done), ctx.inflight_appends, ctx.workers);
}

InFlight::InFlight(Completion done, std::atomic<std::size_t>* counter, Workers* workers)
    : done_(std::move(done)), counter_(counter), workers_(workers) {}

InFlight::~InFlight() {
  // Every path answers; this is the guard for one that would not (the client is not left
  // waiting, and the drain is not held up).
  try {
    answer(problem(errc::internal, "the command ended without an answer"));
  } catch (...) {
  }
}

void InFlight::answer(Response r) {
  if (answered_.exchange(true))
    return;
  if (counter_ != nullptr)
    counter_->fetch_sub(1);
  done_(std::move(r));
}

void InFlight::failed(const std::exception& e) {
  answer(problem(errc::internal, std::string("the command failed: ") + e.what()));
}

std::function<void(app::CommandRunner::Job)> InFlight::later() {
  return [self = shared_from_this()](app::CommandRunner::Job job) {
    bool queued = self->workers_->submit([self, job = std::move(job)] {
      try {
        job();
      } catch (const std::exception& e) {
        self->failed(e);
      }
    });
    if (!queued)
      self->answer(problem(errc::rate_limited, "too many commands queued; retry shortly"));
  };
}

bool exists(const Context& ctx, std::string_view category, std::string_view id) {
  std::string stream = domain::stream_name(category, id);
  if (!store::valid_stream_name(stream))
    return false;
  auto v = ctx.store->stream_exists(stream);
  return v && *v;
}

}  // namespace eventcrm::api::command
