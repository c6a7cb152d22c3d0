// The inventory read model (R-INV 3): balances per product × warehouse (on hand, reserved,
// available, moving-average cost and value, below the reorder level or not), the movement
// ledger per product with each line's document, and the in/out/on-hand (nhập-xuất-tồn) report
// for any past date range, all folded from the stock, product and warehouse streams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"
#include "projections/projection.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kInventory = "inventory";
std::unique_ptr<Projection> make_inventory();

namespace inventory {

// A page of JSON objects and the cursor of the next page (empty: no more).
struct Page {
  std::vector<std::string> items;
  std::string next_cursor;
};

struct BalanceQuery {
  std::optional<std::string> warehouse_id;
  std::optional<std::string> product_id;
  bool below_reorder = false;  // only balances whose available quantity is at or below the
                               // product's reorder level (a level of 0 never triggers)
  std::string cursor;
  std::size_t limit = 50;
};
// Items: {product_id, sku, name, unit, warehouse_id, warehouse_code, on_hand, reserved,
// available, average_cost: money, value: money, reorder_level, below_reorder, version}.
// nullopt: a malformed cursor.
std::optional<Page> balances(const View& view, const BalanceQuery& q);

struct LedgerQuery {
  std::optional<std::string> product_id;  // one of product_id and document_id is required
  std::optional<std::string> document_id;
  std::optional<std::string> warehouse_id;
  std::optional<std::int64_t> from_ms;  // commit time, inclusive
  std::optional<std::int64_t> to_ms;    // exclusive
  std::string cursor;
  std::size_t limit = 50;
};
// Movements in log order: {position, time, type, document_id, product_id, warehouse_id,
// quantity (signed change of on hand), on_hand, unit_cost, average_cost, supplier, account_id,
// order_id, from_warehouse_id, to_warehouse_id, counted, reason, actor}.
std::optional<Page> ledger(const View& view, const LedgerQuery& q);

// One line of the stock-movement report: quantities over [from, to] (UTC dates, inclusive).
struct ReportLine {
  std::string product_id;
  std::string warehouse_id;
  std::string json;  // {product_id, sku, name, unit, warehouse_id, opening, in, out, closing}
};
std::vector<ReportLine> stock_movement_report(const View& view, domain::Date from, domain::Date to,
                                              const std::optional<std::string>& warehouse_id);

}  // namespace inventory
}  // namespace eventcrm::projections
