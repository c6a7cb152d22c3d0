// The command side shared by the HTTP API and the Kafka consumers: load a record's stream, fold
// it, let the domain decide, append the decided events with the expected version, and decide
// again on fresh state when a concurrent write got there first (bounded).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "domain/aggregate.hpp"
#include "domain/settings.hpp"
#include "eventstore/fold.hpp"
#include "eventstore/store.hpp"

namespace eventcrm::app {

enum class errc {
  not_found = 1,         // 404
  already_exists,        // 409
  invalid_transition,    // 409, with `allowed`
  validation,            // 422, with `fields`
  conflict,              // 409, with `current_version` (stale If-Match or retries exhausted)
  store_failure,         // 503: the log could not be read or written
  corrupted,             // 500: a stored event of ours does not decode
  idempotency_mismatch,  // 422: the idempotency key was used for another request
};

const char* to_string(errc e) noexcept;

struct Error {
  Error() = default;
  Error(errc c, std::string m, std::vector<std::string> a = {},
        std::vector<domain::FieldError> f = {}, std::optional<std::int64_t> v = {},
        std::string existing = {})
      : code(c),
        message(std::move(m)),
        allowed(std::move(a)),
        fields(std::move(f)),
        current_version(v),
        existing_id(std::move(existing)) {}

  errc code{};
  std::string message;
  std::vector<std::string> allowed;             // invalid_transition
  std::vector<domain::FieldError> fields;       // validation
  std::optional<std::int64_t> current_version;  // conflict: the stream's version now (-1: none)
  std::string existing_id;                      // already_exists: the record already there
};

template <class T>
using Result = eventcrm::Result<T, Error>;

// The answer to a command: the record, its stream version after the command and the global
// log position of the last event written (0 when the command changed nothing).
struct CommandResult {
  std::string id;
  std::int64_t version = -1;
  std::uint64_t position = 0;
};

struct CommandOptions {
  // The version the caller saw (If-Match). When set, a different current version is a conflict
  // and the command is never retried.
  std::optional<std::int64_t> expected_version;
  store::Metadata metadata;  // actor (the principal), reason, correlation and causation ids
  // Idempotency: a client's key, already scoped by the caller (e.g. principal and route), and a
  // digest of the request. The events a keyed command writes get ids derived from the key, so
  // the log itself remembers it: the same key again returns the first result and writes
  // nothing; the same key with another request digest is errc::idempotency_mismatch. Records a
  // keyed command creates get ids derived from the key as well (new_id(options)).
  std::string idempotency_key;
  std::string request_digest;
};

// The events a keyed command wrote the first time, in append order.
using Replay = std::vector<store::RecordedEvent>;

// A hex SHA-256 of a request, for CommandOptions::request_digest.
std::string digest_of(std::string_view bytes);

// A stable id (UUID-shaped, version 8) from a key and a purpose: the same inputs, the same id.
std::string derived_id(std::string_view key, std::string_view purpose);

// Fresh ids for new records.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string next() = 0;
};

class RandomIdGenerator final : public IdGenerator {
 public:
  RandomIdGenerator();
  // UUID version 7, lowercase: time-ordered, random below the millisecond, and strictly
  // increasing from one generator, so record ids sort in creation order.
  std::string next() override;

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
  std::uint64_t last_ms_ = 0, rand_a_ = 0, rand_b_ = 0;
};

struct RunnerOptions {
  int max_attempts = 4;              // decide + append attempts for a retryable command
  std::size_t snapshot_every = 200;  // snapshot a state after folding this many events
  domain::Pipeline pipeline = domain::Pipeline::standard();
};

template <class State>
struct Loaded {
  State state{};
  std::int64_t version = -1;  // -1: no such stream
};

class CommandRunner {
 public:
  CommandRunner(store::EventStore& store, Clock& clock, IdGenerator& ids,
                RunnerOptions options = {});

  // A fresh id for a record to be created (derived from the idempotency key when there is one,
  // so a retried create names the same record).
  std::string new_id() { return ids_.next(); }
  std::string new_id(const CommandOptions& options, std::string_view purpose = "record");

  // What a keyed command wrote the first time: nullopt when the key is unused (or absent),
  // errc::idempotency_mismatch when it was used for another request.
  Result<std::optional<Replay>> replay(const CommandOptions& options);
  // Gives the events of a keyed command their derived ids and records the key's digest and
  // event count in their metadata. No-op without a key.
  static void stamp(std::vector<store::StreamAppend>& parts, const CommandOptions& options);
  store::EventStore& store() { return store_; }

  // Folds a record's stream into its state.
  template <domain::Aggregate A>
  Result<Loaded<typename A::State>> load(std::string_view id);

  // Runs one command against the record `id` (for a create: a fresh id from new_id()).
  template <domain::Aggregate A>
  Result<CommandResult> run(std::string_view id, const typename A::Command& command,
                            const CommandOptions& options = {});

  using Done = std::function<void(Result<CommandResult>)>;
  using Job = std::function<void()>;
  // As run(), without waiting for the log's group commit on the calling thread: the command is
  // decided there (reads, no waiting), its events are appended asynchronously, and `done` runs
  // once they are durable, on the store's syncer thread (so it must not block). When the append
  // fails in a way that calls for deciding again (a concurrent writer moved the record of a
  // retryable command, or a keyed command may have raced its own retry), the command is run
  // again with run() by `later`, a job runner where blocking is allowed. `done` runs exactly once.
  template <domain::Aggregate A>
  void run_async(std::string id, typename A::Command command, CommandOptions options, Done done,
                 std::function<void(Job)> later);

  // The context a decision sees: now, actor, a fresh-id source and the current settings.
  Result<domain::Context> context(std::string_view id, const CommandOptions& options);

  // Appends events decided for several streams at once, all or nothing. Exposed for the
  // multi-record commands (lead conversion, quote acceptance). Stamps keyed commands.
  Result<store::AppendResult> append_parts(std::vector<store::StreamAppend> parts,
                                           const CommandOptions& options = {});

  static Error from_domain(domain::Error e);
  static Error from_store(store::Error e);

  // Encodes decided events for the store, with the command's metadata.
  template <domain::Aggregate A>
  std::vector<store::NewEvent> to_new_events(const std::vector<typename A::Event>& events,
                                             const CommandOptions& options) const;
  const RunnerOptions& options() const { return options_; }

 private:
  // One decision: the answer when there is nothing to append (or an error), else what to append.
  struct Decision {
    std::optional<CommandResult> answer;
    std::vector<store::StreamAppend> parts;
  };
  template <domain::Aggregate A>
  Result<Decision> decide(std::string_view id, const typename A::Command& command,
                          const CommandOptions& options);
  // A keyed command's first result, when its key was used already.
  Result<std::optional<CommandResult>> replayed(std::string_view id, const CommandOptions& options);

  store::EventStore& store_;
  Clock& clock_;
  IdGenerator& ids_;
  RunnerOptions options_;
  // The settings every decision sees, folded once per settings version, not once per command.
  std::mutex settings_mu_;
  std::int64_t settings_version_ = -2;  // -2: not loaded yet
  domain::settings::State settings_;
};

// ---- implementation of the templates ----

namespace detail {
template <class A>
concept Snapshotted = requires(const typename A::State& s, typename A::State& out,
                               std::string_view bytes) {
  { A::encode_state(s) } -> std::same_as<std::string>;
  { A::decode_state(bytes, out) } -> std::same_as<bool>;
};
}  // namespace detail

template <domain::Aggregate A>
Result<Loaded<typename A::State>> CommandRunner::load(std::string_view id) {
  using State = typename A::State;
  std::string stream = domain::stream_name(A::category, id);
  if (!store::valid_stream_name(stream)) {
    return unexpected(Error{errc::not_found, "invalid id", {}, {}, {}});
  }
  // A record that does not exist yet (every create) costs one point read, not a stream scan.
  if (auto v = store_.stream_version(stream); v && *v < 0)
    return Loaded<State>{State{}, -1};
  std::optional<Error> broken;
  auto apply = [&broken](State& s, const store::RecordedEvent& e) {
    if (broken)
      return;
    auto event = A::decode(e.type, e.data);
    if (!event) {
      broken =
          Error{errc::corrupted,
                "event " + e.id + " (" + e.type + ") does not decode: " + event.error().message,
                {},
                {},
                {}};
      return;
    }
    A::apply(s, *event);
  };
  store::Result<store::Folded<State>> folded = [&] {
    if constexpr (detail::Snapshotted<A>) {
      store::SnapshotPolicy<State> policy;
      policy.every = options_.snapshot_every;
      policy.encode = [](const State& s) { return A::encode_state(s); };
      policy.decode = [](std::string_view b, State& s) { return A::decode_state(b, s); };
      return store::fold_stream<State>(store_, stream, apply, &policy);
    } else {
      return store::fold_stream<State>(store_, stream, apply);
    }
  }();
  if (!folded)
    return unexpected(from_store(std::move(folded).error()));
  if (broken)
    return unexpected(std::move(*broken));
  return Loaded<State>{std::move(folded->state), folded->version};
}

template <domain::Aggregate A>
std::vector<store::NewEvent> CommandRunner::to_new_events(
    const std::vector<typename A::Event>& events, const CommandOptions& options) const {
  std::vector<store::NewEvent> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    out.push_back(store::NewEvent{"", std::string(A::type_of(e)), A::encode(e), options.metadata});
  }
  return out;
}

template <domain::Aggregate A>
Result<typename CommandRunner::Decision> CommandRunner::decide(std::string_view id,
                                                               const typename A::Command& command,
                                                               const CommandOptions& options) {
  auto loaded = load<A>(id);
  if (!loaded)
    return unexpected(std::move(loaded).error());
  if (options.expected_version && *options.expected_version != loaded->version) {
    return unexpected(
        Error{errc::conflict, "the record is at another version", {}, {}, loaded->version});
  }
  auto ctx = context(id, options);
  if (!ctx)
    return unexpected(std::move(ctx).error());
  auto decided = A::decide(loaded->state, command, *ctx);
  if (!decided)
    return unexpected(from_domain(std::move(decided).error()));
  Decision d;
  if (decided->empty()) {
    d.answer = CommandResult{std::string(id), loaded->version, 0};
    return d;
  }
  auto expected = loaded->version < 0 ? store::ExpectedVersion::no_stream()
                                      : store::ExpectedVersion::exact(loaded->version);
  d.parts.push_back(
      {domain::stream_name(A::category, id), expected, to_new_events<A>(*decided, options)});
  stamp(d.parts, options);
  return d;
}

template <domain::Aggregate A>
Result<CommandResult> CommandRunner::run(std::string_view id, const typename A::Command& command,
                                         const CommandOptions& options) {
  const bool retry = !options.expected_version && A::retryable(command);
  if (auto first = replayed(id, options); !first || *first) {
    if (!first)
      return unexpected(std::move(first).error());
    return std::move(**first);
  }
  for (int attempt = 1;; ++attempt) {
    auto decision = decide<A>(id, command, options);
    if (!decision)
      return unexpected(std::move(decision).error());
    if (decision->answer)
      return std::move(*decision->answer);
    auto appended = store_.append_multi(std::move(decision->parts));
    if (appended) {
      return CommandResult{std::string(id), appended->streams.front().last_version,
                           appended->last_position};
    }
    if (!options.idempotency_key.empty()) {
      // A concurrent request with the same key may have won the race.
      auto again = replayed(id, options);
      if (!again)
        return unexpected(std::move(again).error());
      if (*again)
        return std::move(**again);
    }
    Error err = from_store(std::move(appended).error());
    if (err.code != errc::conflict || !retry || attempt >= options_.max_attempts) {
      return unexpected(std::move(err));
    }
  }
}

template <domain::Aggregate A>
void CommandRunner::run_async(std::string id, typename A::Command command, CommandOptions options,
                              Done done, std::function<void(Job)> later) {
  if (auto first = replayed(id, options); !first || *first) {
    if (!first)
      return done(unexpected(std::move(first).error()));
    return done(std::move(**first));
  }
  auto decision = decide<A>(id, command, options);
  if (!decision)
    return done(unexpected(std::move(decision).error()));
  if (decision->answer)
    return done(std::move(*decision->answer));
  store_.append_async(
      std::move(decision->parts),
      [this, id = std::move(id), command = std::move(command), options = std::move(options),
       done = std::move(done),
       later = std::move(later)](store::Result<store::AppendResult> appended) mutable {
        if (appended) {
          return done(CommandResult{std::move(id), appended->streams.front().last_version,
                                    appended->last_position});
        }
        Error err = from_store(std::move(appended).error());
        const bool retry = !options.expected_version && A::retryable(command) &&
                           err.code == errc::conflict && options_.max_attempts > 1;
        if (!retry && options.idempotency_key.empty())
          return done(unexpected(std::move(err)));
        // Decided again where blocking is allowed (run() reads the key's first result and the
        // record's fresh state, and waits for its own appends).
        later([this, id = std::move(id), command = std::move(command), options = std::move(options),
               done = std::move(done)] { done(run<A>(id, command, options)); });
      });
}

}  // namespace eventcrm::app
