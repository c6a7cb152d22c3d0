// The sales dashboard read model: won and lost opportunities per close day (won revenue by month,
// win rate, average deal size and cycle time), activities per rep per day, open tasks by due date
// and scheduled appointments by start time. Built from the opportunity, activity, task and
// appointment events themselves (decoded with their aggregates), not from other read models.
// Serves GET /v1/dashboards/sales together with the pipeline read model (open pipeline).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"
#include "projections/pipeline.hpp"
#include "projections/projection.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kSalesDashboard = "sales_dashboard";
std::unique_ptr<Projection> make_sales_dashboard();

struct DashboardQuery {
  domain::Date from;  // the period of the won/lost figures, inclusive (close dates)
  domain::Date to;
  domain::Date today;    // "this week" (Monday to Sunday), overdue tasks, today's appointments
  std::string currency;  // the reporting currency
  std::size_t list_limit = 20;  // items listed per list (the counts cover all)
  // Record-level reach: only the deals of these owners, the activities of these reps, the tasks
  // of these assignees and the appointments of these owners count (empty: everyone's).
  OwnerFilter owners = nullptr;
};

struct WonMonth {
  std::string month;  // YYYY-MM
  std::uint64_t count = 0;
  std::string amount = "0.00";
};

struct WonInOtherCurrency {
  std::string currency;
  std::uint64_t count = 0;
  std::string amount;
};

struct RepActivities {
  std::string rep;  // who logged them
  std::uint64_t count = 0;
};

struct DashboardTask {
  std::string id;
  std::string title;
  std::string assignee_id;
  std::string due_date;
  std::optional<std::string> account_id;
};

struct DashboardAppointment {
  std::string id;
  std::string subject;
  std::string owner_id;
  std::string account_id;
  std::string starts_at;
  std::string ends_at;
};

struct Dashboard {
  std::vector<WonMonth> won_by_month;  // every month of the period, in order (reporting currency)
  std::uint64_t won = 0;               // won in the period, every currency
  std::uint64_t lost = 0;
  std::string win_rate_percent = "0.00";  // won / (won + lost) × 100, 2 decimals
  std::uint64_t won_in_currency = 0;
  std::string won_revenue = "0.00";         // reporting currency
  std::string average_deal_size = "0.00";   // reporting currency
  std::string average_cycle_days = "0.00";  // created → won, every currency
  std::vector<WonInOtherCurrency> won_excluded;
  domain::Date week_from;                           // Monday
  domain::Date week_to;                             // Sunday
  std::vector<RepActivities> activities_this_week;  // by rep
  std::uint64_t activities_this_week_total = 0;
  std::uint64_t overdue_tasks = 0;  // open, due before today
  std::vector<DashboardTask> overdue;
  std::uint64_t appointments_today = 0;  // scheduled, starting today (UTC)
  std::vector<DashboardAppointment> today;
};

Dashboard sales_dashboard(const View& view, const DashboardQuery& q);

}  // namespace eventcrm::projections
