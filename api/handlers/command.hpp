// The write side over HTTP, shared by every collection's handlers: reading a command's body and
// envelope (If-Match, Idempotency-Key, reason, actor), running it (decided where it arrives, its
// events appended without a thread waiting for the group commit; commands that must wait run on
// the command workers, never on an I/O thread), and the answer: 201/200 with
// {"id","version","position"}, ETag, Location and X-Position, or the problem.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http.hpp"
#include "api/json.hpp"
#include "api/problem.hpp"
#include "api/router.hpp"
#include "app/command_runner.hpp"
#include "domain/money.hpp"
#include "domain/time.hpp"

namespace eventcrm::api::command {

// Typed, strict access to a JSON object body: members outside `allowed` (plus "reason") are
// errors, every getter records what is wrong with its field, and `problem()` answers 422 with
// all of them at once.
class Fields {
 public:
  Fields(const json::Value& root, std::initializer_list<std::string_view> allowed);

  bool has(std::string_view name) const;
  std::optional<std::string> text(std::string_view name, bool required, std::size_t max = 200);
  std::optional<std::int64_t> integer(std::string_view name, bool required, std::int64_t min,
                                      std::int64_t max);
  std::optional<bool> flag(std::string_view name);
  std::optional<domain::Decimal> decimal(std::string_view name, bool required);
  std::optional<domain::Money> money(std::string_view name, bool required);
  std::optional<domain::Date> date(std::string_view name, bool required);
  std::optional<domain::Timestamp> time(std::string_view name, bool required);
  // A nested object or array, or null when absent (required: an error when absent).
  const json::Value* object(std::string_view name, bool required);
  const json::Value* array(std::string_view name, bool required);
  std::vector<std::string> texts(std::string_view name, std::size_t max_items = 100);

  void fail(std::string field, std::string message);
  bool ok() const noexcept { return errors_.empty(); }
  Response problem() const;
  const json::Value& root() const noexcept { return root_; }
  // The field name as reported: `prefix.name`.
  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }

 private:
  const json::Value* find(std::string_view name, bool required);
  std::string path(std::string_view name) const;

  const json::Value& root_;
  std::string prefix_;
  std::vector<FieldError> errors_;
};

// Parses the body as one JSON object; else the 400/422 answer.
std::optional<Response> parse_object(const Request& req, json::Value& out);

// Fills `out` from the request: If-Match → expected version, Idempotency-Key (scoped by the
// principal; the digest covers method, path and body), X-Reason or the body's "reason",
// X-Correlation-Id, and the principal as actor. Else the 400 answer.
std::optional<Response> read_envelope(const Request& req, const json::Value* body,
                                      app::CommandOptions& out);

// The one mapping from a command failure to its problem.
Response from_app_error(const app::Error& e);

// `{"id","version","position"}` with ETag, X-Position; 201 + Location
// `/v1/<collection>/<id>` when `created`.
Response result(const app::CommandResult& r, std::string_view collection, bool created);

// Runs `job` on the command workers and completes `done` with its answer (429 when the queue
// is full, 503 when the server has no command side).
void submit(const Context& ctx, Completion done, std::function<Response()> job);

// True when the record's stream has events (a reference to it may be recorded).
bool exists(const Context& ctx, std::string_view category, std::string_view id);

// A command between its arrival and its answer, run with CommandRunner::run_async: it counts
// among the appends in flight (Limits::max_inflight_appends, which the server's drain waits
// for), and it is answered exactly once, whichever thread gets there.
class InFlight : public std::enable_shared_from_this<InFlight> {
 public:
  // Null when the command cannot start (no command side, or too many appends in flight): `done`
  // is answered then.
  static std::shared_ptr<InFlight> begin(const Context& ctx, Completion& done);
  InFlight(Completion done, std::atomic<std::size_t>* counter, Workers* workers);
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight();

  void answer(Response r);
  // Runs the steps of `fn` that happen on the calling thread; an exception thrown there answers
  // the internal-error problem.
  template <class Fn>
  void start(Fn&& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      failed(e);
    }
  }
  // For the runner's decisions taken again: runs a job on the command workers (an exception
  // answers the internal-error problem; a full queue, 429).
  std::function<void(app::CommandRunner::Job)> later();

 private:
  void failed(const std::exception& e);  // answers the internal-error problem

  Completion done_;
  std::atomic<std::size_t>* counter_;
  Workers* workers_;
  std::atomic<bool> answered_{false};
};

// Runs one command against one record of aggregate A for `flight` (call from InFlight::start).
template <class A>
void run_in(const std::shared_ptr<InFlight>& flight, const Context& ctx, std::string id,
            typename A::Command cmd, app::CommandOptions options, std::string_view collection,
            bool created) {
  ctx.commands->run_async<A>(
      std::move(id), std::move(cmd), std::move(options),
      [flight, collection, created](app::Result<app::CommandResult> r) {
        flight->answer(r ? result(*r, collection, created) : from_app_error(r.error()));
      },
      flight->later());
}

// The common case: one command against one record of aggregate A.
template <class A>
void run(const Context& ctx, Completion done, std::string id, typename A::Command cmd,
         app::CommandOptions options, std::string_view collection, bool created) {
  auto flight = InFlight::begin(ctx, done);
  if (!flight)
    return;
  flight->start([&] {
    run_in<A>(flight, ctx, std::move(id), std::move(cmd), std::move(options), collection, created);
  });
}

// A record a command names in a field (nullopt: the optional field was not given).
struct Reference {
  std::string_view field;
  std::string_view category;
  std::optional<std::string> id;
};

// Runs a command once the records it names exist (one point read each), else 422 naming the
// fields.
template <class A>
void run_with_references(const Context& ctx, Completion done, std::string id,
                         typename A::Command cmd, std::vector<Reference> refs,
                         app::CommandOptions options, std::string_view collection, bool created) {
  auto flight = InFlight::begin(ctx, done);
  if (!flight)
    return;
  flight->start([&] {
    std::vector<FieldError> missing;
    for (const Reference& r : refs) {
      if (r.id && !exists(ctx, r.category, *r.id))
        missing.push_back({std::string(r.field), "no such " + std::string(r.category)});
    }
    if (!missing.empty()) {
      return flight->answer(
          problem(errc::validation_failed, "the request names records that do not exist", missing));
    }
    run_in<A>(flight, ctx, std::move(id), std::move(cmd), std::move(options), collection, created);
  });
}

// The usual action on an existing record `{id}`: `read` turns the strict body fields into the
// command (recording field errors in `Fields`; nullopt when it cannot), then the envelope is
// read and the command runs on the workers. Field errors answer before envelope errors.
template <class A, class Read>
void action(const Request& req, const Context& ctx, Completion done,
            std::initializer_list<std::string_view> allowed, std::string_view collection,
            Read&& read) {
  json::Value body;
  if (auto bad = parse_object(req, body))
    return done(std::move(*bad));
  Fields f(body, allowed);
  std::optional<typename A::Command> cmd = read(f);
  if (!f.ok() || !cmd)
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = read_envelope(req, &body, options))
    return done(std::move(*bad));
  run<A>(ctx, std::move(done), req.params.at(0), std::move(*cmd), std::move(options), collection,
         false);
}

}  // namespace eventcrm::api::command
