// "As of" (R-AUD 2): a stream as it was at a past log position or time: its events up to that
// point, ready for the domain's fold. Positions and commit times grow together along the log,
// so a time maps to the last position committed at or before it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "eventstore/store.hpp"

namespace eventcrm::projections {

struct AsOf {
  std::optional<std::uint64_t> position;  // include events at positions <= this
  std::optional<std::int64_t> time_ms;    // include events committed at or before this time
};

// The stream's events up to the as-of point, in stream order (all of them when `as_of` is empty).
// More than `max_events` matching events is an error (batch_too_large), not a silent cut.
store::Result<std::vector<store::RecordedEvent>> state_as_of(store::EventStore& store,
                                                             std::string_view stream, AsOf as_of,
                                                             std::size_t max_events = 100'000);

// The last log position committed at or before `time_ms` (0 when none): a binary search over
// the log's commit times.
store::Result<std::uint64_t> position_at_time(store::EventStore& store, std::int64_t time_ms);

}  // namespace eventcrm::projections
