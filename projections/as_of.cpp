// Bounded stream reads for "as of" queries.
#include "projections/as_of.hpp"

namespace eventcrm::projections {

store::Result<std::vector<store::RecordedEvent>> state_as_of(store::EventStore& store,
                                                             std::string_view stream, AsOf as_of,
                                                             std::size_t max_events) {
  constexpr std::size_t kPage = 512;
  std::vector<store::RecordedEvent> out;
  std::int64_t from = 0;
  for (;;) {
    auto page = store.read_stream(stream, from, store::Direction::forward, kPage);
    if (!page)
      return unexpected(std::move(page).error());
    for (auto& e : *page) {
      if ((as_of.position && e.position > *as_of.position) ||
          (as_of.time_ms && e.time_ms > *as_of.time_ms)) {
        return out;
      }
      if (out.size() == max_events) {
        return unexpected(store::Error{store::errc::batch_too_large,
                                       "the stream has more events than an as-of read returns",
                                       std::string(stream),
                                       {}});
      }
      out.push_back(std::move(e));
    }
    if (page->size() < kPage)
      return out;
    from = out.back().stream_version + 1;
  }
}

store::Result<std::uint64_t> position_at_time(store::EventStore& store, std::int64_t time_ms) {
  std::uint64_t lo = 0, hi = store.head();  // answer in [lo, hi]
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    auto e = store.get_at(mid);
    if (!e)
      return unexpected(std::move(e).error());
    if (e->time_ms <= time_ms) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

}  // namespace eventcrm::projections
