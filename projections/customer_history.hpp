// Customer history (R-AUD 1): every event touching a customer (account), in log order, with who,
// when, why and a one-line summary. An event belongs to account A when its stream is
// `account-A`, its data has a top-level `"account_id": "A"`, its stream was linked to A by an
// earlier event, or it names (`<category>_id`) a record already linked to A.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/store.hpp"
#include "projections/projection.hpp"
#include "projections/runtime.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kCustomerHistory = "customer_history";

std::unique_ptr<Projection> make_customer_history();

inline constexpr std::size_t kHistoryMaxLimit = 1000;

struct HistoryQuery {
  std::string account_id;
  std::uint64_t after = 0;                   // cursor: items after this log position
  std::size_t limit = 100;                   // 1..kHistoryMaxLimit
  std::optional<std::int64_t> from_time_ms;  // inclusive, ms since epoch UTC
  std::optional<std::int64_t> to_time_ms;    // exclusive
  std::vector<std::string> types;            // empty: every type
  std::string actor;                         // empty: every actor
  bool include_data = true;                  // fetch each event's data from the log
  // At most this many index rows are read per page; past it the page ends early with a cursor.
  std::size_t scan_limit = 100'000;
};

struct HistoryItem {
  std::uint64_t position = 0;
  std::string id;  // the event id (only with include_data)
  std::string type;
  std::int64_t time_ms = 0;
  std::string actor;
  std::string reason;
  std::string stream;
  std::string summary;
  std::string data;  // the event's JSON data (only with include_data)
};

struct HistoryPage {
  std::vector<HistoryItem> items;
  std::optional<std::uint64_t> next_cursor;  // pass as `after` for the next page
  std::uint64_t position = 0;                // the log position the page reflects (X-Position)
};

// Pages one customer's history from a view of the customer_history projection. `store` supplies
// the events' data when asked for.
Result<HistoryPage> history(const View& view, store::EventStore& store, const HistoryQuery& q);

// The same through the runtime's served view.
Result<HistoryPage> history(const Runtime& runtime, store::EventStore& store,
                            const HistoryQuery& q);

// The account an event's stream is linked to in the view (empty when none).
std::string linked_account(const View& view, std::string_view stream);

// The one-line summary of an event, as the history shows it (exposed for tests and exports).
std::string summarize(const store::RecordedEvent& e);

}  // namespace eventcrm::projections
