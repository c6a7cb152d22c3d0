// The inventory read model over a log whose events happened on different days: the
// stock-movement report is right for any past period (from the day-by-day movements, not from
// today's balance), balances follow the last movement, and the ledger lists each stock's moves.
#include <gtest/gtest.h>

#include <chrono>

#include "fixture.hpp"
#include "projections/inventory.hpp"

using namespace std::chrono_literals;

namespace eventcrm {
namespace {

constexpr std::int64_t kDay = 86'400'000;
// 2026-11-01T09:00:00Z
constexpr std::int64_t kNov1 = 1'793'523'600'000;

struct InventoryProjectionTest : testing::ProjectionFixture {
  const std::string stream = "stock-p1.w1";
  void at_day(int day) { clock->ms = kNov1 + (day - 1) * kDay; }
  void move(const std::string& type, const std::string& fields) {
    append(stream, type,
           R"({"product_id":"p1","warehouse_id":"w1","document_id":"d)" + std::to_string(++docs) +
               "\"," + fields + "}");
  }
  std::vector<std::string> line(const std::string& from, const std::string& to) {
    auto view = runtime->view(projections::kInventory);
    EXPECT_TRUE(view);
    auto lines = projections::inventory::stock_movement_report(
        **view, *domain::Date::parse(from), *domain::Date::parse(to), std::nullopt);
    if (lines.empty())
      return {};
    EXPECT_EQ(lines.size(), 1u);
    const std::string& j = lines[0].json;
    std::vector<std::string> out;
    for (const char* key : {"\"opening\":\"", "\"in\":\"", "\"out\":\"", "\"closing\":\""}) {
      auto at = j.find(key);
      if (at == std::string::npos)
        return {"missing"};
      at += std::string(key).size();
      out.push_back(j.substr(at, j.find('"', at) - at));
    }
    return out;
  }
  int docs = 0;
};

TEST_F(InventoryProjectionTest, ReportIsRightForAnyPastPeriod) {
  at_day(1);
  move("stock.received.v1",
       R"("quantity":"10","unit_cost":"50","on_hand":"10","average_cost":"50")");
  at_day(3);
  move(
      "stock.issued.v1",
      R"("quantity":"4","unit_cost":"50","reservation_consumed":"0","on_hand":"6","average_cost":"50")");
  at_day(5);
  move("stock.received.v1",
       R"("quantity":"5","unit_cost":"80","on_hand":"11","average_cost":"60")");
  move(
      "stock.transferred_out.v1",
      R"("to_warehouse_id":"w2","quantity":"2","unit_cost":"60","on_hand":"9","average_cost":"60")");
  at_day(7);
  move(
      "stock.adjusted.v1",
      R"("quantity":"1","counted":"10","reason":"count","unit_cost":"60","on_hand":"10","average_cost":"60")");
  open_runtime();
  ASSERT_TRUE(runtime->add(projections::make_inventory()));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({}, store->head(), 10s));

  using L = std::vector<std::string>;
  EXPECT_EQ(line("2026-11-01", "2026-11-01"), (L{"0.00", "10.00", "0.00", "10.00"}));
  EXPECT_EQ(line("2026-11-02", "2026-11-04"), (L{"10.00", "0.00", "4.00", "6.00"}));
  EXPECT_EQ(line("2026-11-04", "2026-11-06"), (L{"6.00", "5.00", "2.00", "9.00"}));
  EXPECT_EQ(line("2026-11-05", "2026-11-05"), (L{"6.00", "5.00", "2.00", "9.00"}));
  EXPECT_EQ(line("2026-11-01", "2026-11-30"), (L{"0.00", "16.00", "6.00", "10.00"}));
  EXPECT_EQ(line("2026-11-08", "2026-12-31"), (L{"10.00", "0.00", "0.00", "10.00"}));
  EXPECT_EQ(line("2026-10-01", "2026-10-31"), L{});  // before anything happened

  auto view = runtime->view(projections::kInventory);
  ASSERT_TRUE(view);
  auto balances = projections::inventory::balances(**view, {});
  ASSERT_TRUE(balances);
  ASSERT_EQ(balances->items.size(), 1u);
  EXPECT_NE(balances->items[0].find(R"("on_hand":"10.00")"), std::string::npos);
  EXPECT_NE(balances->items[0].find(R"("average_cost":{"amount":"60.00")"), std::string::npos);
  projections::inventory::LedgerQuery q;
  q.product_id = "p1";
  q.from_ms = kNov1 + 2 * kDay - 9 * 3'600'000;  // 2026-11-03T00:00Z
  q.to_ms = kNov1 + 4 * kDay - 9 * 3'600'000;    // 2026-11-05T00:00Z
  auto ledger = projections::inventory::ledger(**view, q);
  ASSERT_TRUE(ledger);
  ASSERT_EQ(ledger->items.size(), 1u);
  EXPECT_NE(ledger->items[0].find(R"("type":"issue")"), std::string::npos);
}

}  // namespace
}  // namespace eventcrm
