// Rebuilding state from a stream: load (from a snapshot if there is one), fold every later
// event into the state. Used by every command handler to decide on fresh state.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "eventstore/store.hpp"

namespace eventcrm::store {

template <class State>
struct Folded {
  State state{};
  std::int64_t version = -1;    // the stream version folded up to (-1: no stream)
  std::size_t events_read = 0;  // events folded after the snapshot (0 when fully snapshotted)
};

// How to snapshot a state: after a load that folded at least `every` events, the state is saved
// so the next load starts from it. `encode`/`decode` are the state's serialisation; a snapshot
// that fails to decode is ignored (the stream is folded from the start).
template <class State>
struct SnapshotPolicy {
  std::size_t every = 200;
  std::function<std::string(const State&)> encode;
  std::function<bool(std::string_view, State&)> decode;
};

// `apply(State&, const RecordedEvent&)` folds one event.
template <class State, class Apply>
Result<Folded<State>> fold_stream(EventStore& store, std::string_view stream, Apply&& apply,
                                  const SnapshotPolicy<State>* snapshots = nullptr,
                                  std::size_t page = 512) {
  Folded<State> out;
  if (snapshots) {
    auto snap = store.load_snapshot(stream);
    if (!snap)
      return unexpected(std::move(snap).error());
    if (snap->version >= 0) {
      State s{};
      if (snapshots->decode(snap->bytes, s)) {
        out.state = std::move(s);
        out.version = snap->version;
      }
    }
  }
  for (;;) {
    auto events = store.read_stream(stream, out.version + 1, Direction::forward, page);
    if (!events)
      return unexpected(std::move(events).error());
    for (const auto& e : *events) {
      apply(out.state, e);
      out.version = e.stream_version;
      ++out.events_read;
    }
    if (events->size() < page)
      break;
  }
  if (snapshots && out.events_read >= snapshots->every && out.version >= 0) {
    // A failed snapshot write only costs the next load time; the log stays the truth.
    (void)store.save_snapshot(stream, out.version, snapshots->encode(out.state));
  }
  return out;
}

}  // namespace eventcrm::store
