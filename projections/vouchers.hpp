// Vouchers (GET /v1/vouchers) and what follows from them (R-INV 4): each order's paid and
// outstanding amounts, and the daily cash in / out.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/time.hpp"
#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kVouchers = "vouchers";
const records::Spec& vouchers_spec();
std::unique_ptr<Projection> make_vouchers();

inline constexpr std::string_view kPayments = "payments";
std::unique_ptr<Projection> make_payments();

namespace payments {

// {order_id, account_id, status (order), total, paid, outstanding: money, payment_status
// (unpaid | partially_paid | paid | overpaid), vouchers}; nullopt: no such order.
std::optional<std::string> order_payment(const View& view, const std::string& order_id);

struct OrderQuery {
  std::optional<std::string> account_id;
  std::optional<std::string> payment_status;
  std::string cursor;  // the last order id served
  std::size_t limit = 50;
};
struct Page {
  std::vector<std::string> items;
  std::string next_cursor;
};
Page order_payments(const View& view, const OrderQuery& q);

// One item per currency and day with vouchers in [from, to]: {date, currency, in, out, net,
// receipts, payments} (counts of vouchers).
std::vector<std::string> cash_report(const View& view, domain::Date from, domain::Date to,
                                     const std::optional<std::string>& currency);

}  // namespace payments
}  // namespace eventcrm::projections
