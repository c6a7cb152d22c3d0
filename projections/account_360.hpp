// Account 360 (R-SALES 1): per account, short lists of its contacts, open opportunities, recent
// activities, upcoming appointments, open tasks, quotes, orders and contracts. Built from those
// records' own events (decoded with their aggregates), keyed by account, so the 360 view is a few
// short range scans. The account's own document comes from the accounts read model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"
#include "projections/projection.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kAccount360 = "account_360";
std::unique_ptr<Projection> make_account_360();

struct Account360Section {
  std::uint64_t count = 0;         // every record in the section
  std::vector<std::string> items;  // the first ones, each a JSON object with "id" and "url"
};

struct Account360 {
  Account360Section contacts;               // active contacts, by name
  Account360Section open_opportunities;     // by expected close date
  Account360Section recent_activities;      // newest first
  Account360Section upcoming_appointments;  // scheduled, starting at or after `now`, soonest first
  Account360Section open_tasks;             // by due date, undated last
  Account360Section quotes;                 // newest first
  Account360Section orders;                 // newest first
  Account360Section contracts;              // newest first
};

Account360 account_360(const View& view, std::string_view account_id, domain::Timestamp now,
                       std::size_t limit);

}  // namespace eventcrm::projections
