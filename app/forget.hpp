// Erasure of a data subject (GDPR, R-PLAT 4): the record's `<category>.forgotten.v1` event is
// appended, then its data key and snapshot are destroyed (EventStore::forget_subject), so every
// personal field of its events reads as the erasure marker from then on while the log and its
// hash chain stay as they were. Read models replace what they hold when they apply the event.
#pragma once

#include <string>
#include <string_view>

#include "app/command_runner.hpp"

namespace eventcrm::app {

// Forgets record `id` of A (contact, lead, account) with `forget` (A's Forget command).
// invalid_transition (409) when some of its personal values were stored unsealed (written
// before sealing existed: they cannot be erased from the log without breaking it) or the store
// seals nothing. Idempotent: a second call (or one after a crash between the append and the key's
// destruction) completes the destruction and answers with the forgotten event's position.
template <domain::Aggregate A>
Result<CommandResult> forget(CommandRunner& runner, std::string_view id,
                             const typename A::Command& forget, const CommandOptions& options) {
  store::EventStore& store = runner.store();
  const std::string stream = domain::stream_name(A::category, id);
  auto loaded = runner.load<A>(id);
  if (!loaded)
    return unexpected(std::move(loaded).error());
  if (loaded->version < 0)
    return unexpected(Error{errc::not_found, "no such " + std::string(A::category)});
  auto unsealed = store.unsealed_personal_values(stream);
  if (!unsealed) {
    if (unsealed.error().code == store::errc::not_found) {
      return unexpected(Error{errc::invalid_transition,
                              "this server does not seal personal data, so it cannot erase it"});
    }
    return unexpected(CommandRunner::from_store(std::move(unsealed).error()));
  }
  if (*unsealed > 0) {
    return unexpected(Error{errc::invalid_transition,
                            std::to_string(*unsealed) +
                                " personal values of this record were stored in the clear before "
                                "erasure support existed and cannot be erased from the log "
                                "(see the README, \"Erasure\")"});
  }
  auto ran = runner.run<A>(id, forget, options);
  if (!ran)
    return ran;
  if (auto destroyed = store.forget_subject(stream); !destroyed)
    return unexpected(CommandRunner::from_store(std::move(destroyed).error()));
  if (ran->position == 0) {
    // Already forgotten: answer with the event that did it, as the first call did.
    auto tail = store.read_stream(stream, -1, store::Direction::backward, 64);
    if (!tail)
      return unexpected(CommandRunner::from_store(std::move(tail).error()));
    for (const store::RecordedEvent& e : *tail) {
      if (e.type.ends_with(".forgotten.v1")) {
        ran->position = e.position;
        break;
      }
    }
  }
  return ran;
}

}  // namespace eventcrm::app
