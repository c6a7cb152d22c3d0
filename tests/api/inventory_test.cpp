// The warehouse through the real server: products and warehouses (unique SKU / code), stock
// documents and their balances, ledger, documents and the stock-movement report, bad input that
// writes nothing, vouchers with order payment status and daily cash, and many clients issuing
// the same stock at once without any balance ever going negative.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "crm_client.hpp"

namespace eventcrm::test {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

const api::json::Value& at(const api::json::Value& v, std::string_view key) {
  static const api::json::Value none;
  const api::json::Value* m = v.find(key);
  return m != nullptr ? *m : none;
}
// Decimal strings as integers of 1/10,000 (the tests use exact quantities).
std::int64_t units(const std::string& text) {
  bool negative = !text.empty() && text[0] == '-';
  std::size_t i = negative ? 1 : 0;
  std::int64_t whole = 0, frac = 0;
  int digits = 0;
  for (; i < text.size() && text[i] != '.'; ++i)
    whole = whole * 10 + (text[i] - '0');
  if (i < text.size())
    ++i;
  for (; i < text.size() && digits < 4; ++i, ++digits)
    frac = frac * 10 + (text[i] - '0');
  for (; digits < 4; ++digits)
    frac *= 10;
  return (negative ? -1 : 1) * (whole * 10'000 + frac);
}

class InventoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("inventory");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  std::uint64_t head(CrmClient& c) {
    return std::stoull(c.get("/v1/events?limit=1").header("x-position"));
  }
  std::string product(CrmClient& c, const std::string& sku, const std::string& extra = "") {
    return c.create("products", R"({"sku":")" + sku + R"(","name":"Item )" + sku +
                                    R"(","unit":"pcs")" + extra + "}");
  }
  std::string warehouse(CrmClient& c, const std::string& code) {
    return c.create("warehouses", R"({"code":")" + code + R"(","name":"Kho )" + code + R"("})");
  }
  static std::string line(const std::string& product, const std::string& qty,
                          const std::string& cost = "") {
    std::string l = R"({"product_id":")" + product + R"(","quantity":")" + qty + "\"";
    if (!cost.empty())
      l += R"(,"unit_cost":")" + cost + "\"";
    return l + "}";
  }
  Reply receipt(CrmClient& c, const std::string& wh, const std::string& lines) {
    return c.post("/v1/stock/receipts",
                  R"({"warehouse_id":")" + wh + R"(","supplier":"ACME","lines":[)" + lines + "]}");
  }
  Reply issue(CrmClient& c, const std::string& wh, const std::string& lines,
              const std::string& extra = "") {
    return c.post("/v1/stock/issues",
                  R"({"warehouse_id":")" + wh + "\"" + extra + R"(,"lines":[)" + lines + "]}");
  }
  Reply transfer(CrmClient& c, const std::string& from, const std::string& to,
                 const std::string& lines) {
    return c.post("/v1/stock/transfers", R"({"from_warehouse_id":")" + from +
                                             R"(","to_warehouse_id":")" + to + R"(","lines":[)" +
                                             lines + "]}");
  }
  // The one balance of a product in a warehouse, as of `position`.
  api::json::Value balance(CrmClient& c, const std::string& p, const std::string& w,
                           std::int64_t position) {
    Reply r = c.get("/v1/inventory/balances?product=" + p + "&warehouse=" + w +
                    "&min_position=" + std::to_string(position));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.items().items.size(), 1u) << r.body;
    return r.items().items.empty() ? api::json::Value{} : r.items().items[0];
  }
  std::filesystem::path dir_;
  ServerProcess server_;
};

TEST_F(InventoryTest, ProductsAndWarehouses) {
  CrmClient c(server_.port());
  Reply created = c.post("/v1/products", R"({"sku":"ab-100","name":"Bút bi","unit":"pcs",)"
                                         R"("decimals":0,"reorder_level":"10",)"
                                         R"("sale_price":{"amount":"5000","currency":"VND"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string p = created.str("id");
  EXPECT_EQ(created.header("location"), "/v1/products/" + p);
  // The SKU is unique whatever its case or surrounding spaces: 409 naming the holder.
  Reply dup = c.post("/v1/products", R"({"sku":" AB-100 ","name":"Other","unit":"pcs"})");
  EXPECT_EQ(dup.status, 409) << dup.body;
  EXPECT_EQ(dup.str("existing_id"), p);
  // Bad input writes nothing.
  const auto before = head(c);
  EXPECT_EQ(c.post("/v1/products", R"({"sku":"x y","name":"","unit":"pcs"})").status, 422);
  EXPECT_EQ(
      c.post("/v1/products", R"({"sku":"OK-1","name":"n","unit":"pcs","colour":"red"})").status,
      422);
  EXPECT_EQ(
      c.post("/v1/products", R"({"sku":"OK-1","name":"n","unit":"pcs","reorder_level":-1})").status,
      422);
  EXPECT_EQ(c.post("/v1/products", R"({"sku":"OK-1",)").status, 400);
  EXPECT_EQ(head(c), before);

  Reply got =
      c.get("/v1/products/" + p + "?min_position=" + std::to_string(created.num("position")));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.str("sku"), "AB-100");
  EXPECT_EQ(amount(got.json, "sale_price"), "5000.00");
  EXPECT_EQ(got.str("reorder_level"), "10.00");
  Reply patched = c.send("PATCH", "/v1/products/" + p, R"({"reorder_level":"3","active":false})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  Reply listed =
      c.get("/v1/products?sku=AB-100&min_position=" + std::to_string(patched.num("position")));
  ASSERT_EQ(listed.items().items.size(), 1u) << listed.body;
  EXPECT_EQ(Reply::text_of(listed.items().items[0], "reorder_level"), "3.00");
  EXPECT_EQ(c.send("PATCH", "/v1/products/nope", R"({"name":"x"})").status, 404);

  const std::string w = warehouse(c, "hn-01");
  EXPECT_EQ(c.post("/v1/warehouses", R"({"code":"HN-01","name":"again"})").status, 409);
  EXPECT_EQ(c.post("/v1/warehouses", R"({"code":"","name":"x"})").status, 422);
  Reply neg = c.post("/v1/warehouses/" + w + "/negative-stock", R"({"allowed":true})");
  EXPECT_EQ(neg.status, 200) << neg.body;
  EXPECT_EQ(c.post("/v1/warehouses/" + w + "/negative-stock", R"({"allowed":"yes"})").status, 422);
  EXPECT_EQ(c.post("/v1/warehouses/nope/negative-stock", R"({"allowed":true})").status, 404);
  // An inactive product takes no receipts.
  Reply inactive = receipt(c, w, line(p, "1", "10"));
  EXPECT_EQ(inactive.status, 422) << inactive.body;
  EXPECT_NE(inactive.body.find("inactive"), std::string::npos) << inactive.body;
  Reply wh = c.get("/v1/warehouses/" + w + "?min_position=" + std::to_string(neg.num("position")));
  EXPECT_EQ(wh.str("code"), "HN-01");
  EXPECT_EQ(wh.body.find("\"negative_stock_allowed\":true") != std::string::npos, true) << wh.body;
}

TEST_F(InventoryTest, MovementsBalancesLedgerAndReport) {
  CrmClient c(server_.port());
  const std::string pen = product(c, "PEN", R"(,"reorder_level":"5","decimals":0)");
  const std::string ink = product(c, "INK", R"(,"reorder_level":"2")");
  const std::string hn = warehouse(c, "HN");
  const std::string sg = warehouse(c, "SG");

  // Receipts: moving average cost (10 at 50, then 10 at 80 → 65).
  Reply r1 = receipt(c, hn, line(pen, "10", "50") + "," + line(ink, "2.5", "1000"));
  ASSERT_EQ(r1.status, 201) << r1.body;
  EXPECT_EQ(r1.header("location"), "/v1/stock/documents/" + r1.str("id"));
  Reply r2 = c.post("/v1/stock/receipts",
                    R"({"warehouse_id":")" + hn + R"(","lines":[{"product_id":")" + pen +
                        R"(","quantity":"10","unit_cost":{"amount":"80","currency":"VND"}}]})");
  ASSERT_EQ(r2.status, 201) << r2.body;
  auto b = balance(c, pen, hn, r2.num("position"));
  EXPECT_EQ(Reply::text_of(b, "on_hand"), "20.00");
  EXPECT_EQ(amount(b, "average_cost"), "65.00");
  EXPECT_EQ(amount(b, "value"), "1300.00");
  EXPECT_EQ(Reply::text_of(b, "available"), "20.00");

  // Over-issue: 409 naming the product and what is available, and nothing is written, not even
  // the document's other line.
  auto before = head(c);
  Reply over = issue(c, hn, line(ink, "1") + "," + line(pen, "21"));
  EXPECT_EQ(over.status, 409) << over.body;
  EXPECT_EQ(over.header("content-type"), "application/problem+json");
  EXPECT_TRUE(over.str("type").ends_with("/insufficient-stock")) << over.body;
  EXPECT_EQ(over.str("product_id"), pen);
  EXPECT_EQ(over.str("warehouse_id"), hn);
  EXPECT_EQ(over.str("available"), "20.00");
  EXPECT_EQ(over.str("requested"), "21.00");
  // Bad input: 422 (or 400 for broken JSON), nothing written.
  EXPECT_EQ(issue(c, hn, line(pen, "0")).status, 422);
  EXPECT_EQ(issue(c, hn, line(pen, "-3")).status, 422);
  EXPECT_EQ(issue(c, hn, line(pen, "1.5")).status, 422);  // PEN has no fractions
  EXPECT_EQ(issue(c, hn, line("no-such-product", "1")).status, 422);
  EXPECT_EQ(issue(c, "no-such-warehouse", line(pen, "1")).status, 422);
  EXPECT_EQ(issue(c, hn, "").status, 422);
  EXPECT_EQ(issue(c, hn, R"({"product_id":")" + pen + R"(","quantity":2})").status, 422);
  EXPECT_EQ(issue(c, hn, line(pen, "1"), R"(,"account_id":"nobody")").status, 422);
  EXPECT_EQ(receipt(c, hn, line(pen, "1")).status, 422);  // no unit cost
  EXPECT_EQ(transfer(c, hn, hn, line(pen, "1")).status, 422);
  EXPECT_EQ(c.post("/v1/stock/adjustments", R"({"warehouse_id":")" + hn +
                                                R"(","lines":[{"product_id":")" + pen +
                                                R"(","counted":"3"}]})")
                .status,
            422);  // no reason
  EXPECT_EQ(c.post("/v1/stock/issues", R"({"warehouse_id":)").status, 400);
  EXPECT_EQ(head(c), before);

  // Issue, transfer (both halves in one write, value moves at the source's average cost),
  // and a count.
  const std::string account = c.create("accounts", R"({"name":"Công ty Mai"})");
  Reply out = issue(c, hn, line(pen, "6"), R"(,"account_id":")" + account + "\"");
  ASSERT_EQ(out.status, 201) << out.body;
  Reply moved = transfer(c, hn, sg, line(pen, "4"));
  ASSERT_EQ(moved.status, 201) << moved.body;
  EXPECT_EQ(moved.num("movements"), 2);
  Reply counted = c.post("/v1/stock/adjustments", R"({"warehouse_id":")" + sg +
                                                      R"(","reason":"stock count","lines":[)"
                                                      R"({"product_id":")" +
                                                      pen + R"(","counted":"3"}]})");
  ASSERT_EQ(counted.status, 201) << counted.body;
  const auto pos = counted.num("position");
  b = balance(c, pen, hn, pos);
  EXPECT_EQ(Reply::text_of(b, "on_hand"), "10.00");
  EXPECT_EQ(amount(b, "average_cost"), "65.00");
  EXPECT_EQ(Reply::text_of(b, "below_reorder"), "");  // a boolean, not text
  auto s = balance(c, pen, sg, pos);
  EXPECT_EQ(Reply::text_of(s, "on_hand"), "3.00");
  EXPECT_EQ(amount(s, "average_cost"), "65.00");
  EXPECT_EQ(amount(s, "value"), "195.00");

  // Filters: by warehouse, below the reorder level (SG has 3 PEN, level 5).
  Reply in_sg = c.get("/v1/inventory/balances?warehouse=" + sg);
  EXPECT_EQ(in_sg.items().items.size(), 1u) << in_sg.body;
  Reply low = c.get("/v1/inventory/balances?below_reorder=true");
  ASSERT_EQ(low.items().items.size(), 1u) << low.body;
  EXPECT_EQ(Reply::text_of(low.items().items[0], "warehouse_id"), sg);
  EXPECT_EQ(c.get("/v1/inventory/low-stock?warehouse=" + hn).items().items.size(), 0u);
  EXPECT_EQ(c.get("/v1/inventory/balances?below_reorder=maybe").status, 400);
  EXPECT_EQ(c.get("/v1/inventory/balances?color=red").status, 400);
  Reply page = c.get("/v1/inventory/balances?limit=1");
  ASSERT_EQ(page.items().items.size(), 1u);
  ASSERT_NE(page.str("next_cursor"), "null");
  Reply next = c.get("/v1/inventory/balances?limit=5&cursor=" + page.str("next_cursor"));
  EXPECT_EQ(next.items().items.size(), 2u) << next.body;  // PEN@HN, PEN@SG, INK@HN in all
  EXPECT_EQ(c.get("/v1/inventory/balances?cursor=zz").status, 400);

  // The ledger of PEN, each line with its document; a document's lines.
  Reply ledger = c.get("/v1/stock-movements?product_id=" + pen);
  ASSERT_EQ(ledger.status, 200) << ledger.body;
  std::vector<std::string> types, on_hand;
  for (const auto& m : ledger.items().items) {
    types.push_back(Reply::text_of(m, "type"));
    on_hand.push_back(Reply::text_of(m, "on_hand"));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"receipt", "receipt", "issue", "transfer_out",
                                             "transfer_in", "adjustment"}));
  EXPECT_EQ(on_hand,
            (std::vector<std::string>{"10.00", "20.00", "14.00", "10.00", "4.00", "3.00"}));
  EXPECT_EQ(Reply::text_of(ledger.items().items[2], "account_id"), account);
  Reply doc = c.get("/v1/stock/documents/" + moved.str("id"));
  ASSERT_EQ(doc.status, 200) << doc.body;
  EXPECT_EQ(at(doc.json, "lines").items.size(), 2u);
  EXPECT_EQ(c.get("/v1/stock/documents/nope").status, 404);
  EXPECT_EQ(c.get("/v1/stock-movements?document_id=" + r1.str("id")).items().items.size(), 2u);
  EXPECT_EQ(c.get("/v1/stock-movements").status, 400);

  // The issue joined the customer's history.
  Reply history = c.get("/v1/customers/" + account + "/history");
  EXPECT_NE(history.body.find("stock.issued.v1"), std::string::npos) << history.body;
  EXPECT_EQ(history.body.find("stock.received.v1"), std::string::npos) << history.body;

  // The report: everything so far happened today.
  Reply report = c.get("/v1/reports/stock-movement?from=2020-01-01&to=2100-12-31&warehouse=" + hn);
  ASSERT_EQ(report.status, 200) << report.body;
  std::map<std::string, std::vector<std::string>> rows;
  for (const auto& it : report.items().items) {
    rows[Reply::text_of(it, "product_id")] = {Reply::text_of(it, "opening"),
                                              Reply::text_of(it, "in"), Reply::text_of(it, "out"),
                                              Reply::text_of(it, "closing")};
  }
  EXPECT_EQ(rows[pen], (std::vector<std::string>{"0.00", "20.00", "10.00", "10.00"}));
  EXPECT_EQ(rows[ink], (std::vector<std::string>{"0.00", "2.50", "0.00", "2.50"}));
  // Each line drills down to the movements behind it.
  for (const auto& it : report.items().items) {
    if (Reply::text_of(it, "product_id") != pen)
      continue;
    Reply behind = c.get(Reply::text_of(it, "movements_url"));
    ASSERT_EQ(behind.status, 200) << behind.body;
    std::int64_t in = 0, out_q = 0;
    for (const auto& m : behind.items().items) {
      const std::int64_t q = units(Reply::text_of(m, "quantity"));
      (q > 0 ? in : out_q) += q > 0 ? q : -q;
    }
    EXPECT_EQ(in, units("20"));
    EXPECT_EQ(out_q, units("10"));
  }
  // A period after today opens with today's closing and moves nothing; one before opens at 0.
  Reply later = c.get("/v1/reports/stock-movement?from=2100-01-01&to=2100-01-31");
  EXPECT_EQ(later.items().items.size(), 3u) << later.body;
  for (const auto& it : later.items().items)
    EXPECT_EQ(Reply::text_of(it, "opening"), Reply::text_of(it, "closing"));
  EXPECT_EQ(c.get("/v1/reports/stock-movement?from=2000-01-01&to=2000-12-31").items().items.size(),
            0u);
  EXPECT_EQ(c.get("/v1/reports/stock-movement?from=2026-02-30").status, 400);
  EXPECT_EQ(c.get("/v1/reports/stock-movement?from=2026-05-01&to=2026-04-01").status, 400);

  // Idempotency: the same key and body answers the first document again, writing nothing.
  Headers key{{"Idempotency-Key", "rcpt-1"}};
  const std::string body =
      R"({"warehouse_id":")" + hn + R"(","lines":[)" + line(ink, "1", "900") + "]}";
  Reply first = c.post("/v1/stock/receipts", body, key);
  ASSERT_EQ(first.status, 201) << first.body;
  auto after_first = head(c);
  Reply again = c.post("/v1/stock/receipts", body, key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.str("id"), first.str("id"));
  EXPECT_EQ(head(c), after_first);
  EXPECT_EQ(c.post("/v1/stock/receipts", body + " ", key).status, 422);

  // Negative stock where an administrator allows it.
  Reply allow = c.post("/v1/warehouses/" + sg + "/negative-stock", R"({"allowed":true})");
  ASSERT_EQ(allow.status, 200);
  Reply below = issue(c, sg, line(pen, "5"));
  ASSERT_EQ(below.status, 201) << below.body;
  EXPECT_EQ(Reply::text_of(balance(c, pen, sg, below.num("position")), "on_hand"), "-2.00");
}

TEST_F(InventoryTest, VouchersOrderPaymentsAndCash) {
  CrmClient c(server_.port());
  const std::string account = c.create("accounts", R"({"name":"Công ty Bình Minh"})");
  std::string quote = c.create("quotes", R"({"account_id":")" + account +
                                             R"(","currency":"VND","lines":[{"product_id":"p-1",)"
                                             R"("quantity":"2","unit_price":"500000"}]})");
  ASSERT_EQ(c.post("/v1/quotes/" + quote + "/send", "{}").status, 200);
  Reply accepted = c.post("/v1/quotes/" + quote + "/accept", "{}");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  const std::string order = accepted.str("order_id");

  auto voucher = [&](const std::string& kind, const std::string& amt, const std::string& extra) {
    return c.post("/v1/vouchers", R"({"kind":")" + kind + R"(","amount":{"amount":")" + amt +
                                      R"(","currency":"VND"},"method":"bank_transfer",)"
                                      R"("date":"2026-03-02")" +
                                      extra + "}");
  };
  Reply v1 = voucher("receipt", "400000", R"(,"order_id":")" + order + "\"");
  ASSERT_EQ(v1.status, 201) << v1.body;
  Reply status =
      c.get("/v1/orders/" + order + "/payments?min_position=" + std::to_string(v1.num("position")));
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(amount(status.json, "total"), "1000000.00");
  EXPECT_EQ(amount(status.json, "paid"), "400000.00");
  EXPECT_EQ(amount(status.json, "outstanding"), "600000.00");
  EXPECT_EQ(status.str("payment_status"), "partially_paid");
  EXPECT_EQ(status.str("account_id"), account);

  Reply v2 = voucher("receipt", "600000", R"(,"order_id":")" + order + "\"");
  ASSERT_EQ(v2.status, 201);
  status =
      c.get("/v1/orders/" + order + "/payments?min_position=" + std::to_string(v2.num("position")));
  EXPECT_EQ(status.str("payment_status"), "paid");
  EXPECT_EQ(amount(status.json, "outstanding"), "0.00");
  // Voiding a voucher takes it back.
  Reply voided = c.post("/v1/vouchers/" + v1.str("id") + "/void", R"({"reason":"bounced"})");
  ASSERT_EQ(voided.status, 200) << voided.body;
  EXPECT_EQ(c.post("/v1/vouchers/" + v1.str("id") + "/void", R"({"reason":"again"})").status, 409);
  status = c.get("/v1/orders/" + order +
                 "/payments?min_position=" + std::to_string(voided.num("position")));
  EXPECT_EQ(amount(status.json, "paid"), "600000.00");
  EXPECT_EQ(status.str("payment_status"), "partially_paid");
  Reply listed = c.get("/v1/reports/order-payments?payment_status=partially_paid");
  EXPECT_EQ(listed.items().items.size(), 1u) << listed.body;

  // Money out to a supplier, and bad vouchers.
  Reply paid_out = voucher("payment", "250000", R"(,"supplier":"Văn phòng phẩm Hồng Hà")");
  ASSERT_EQ(paid_out.status, 201) << paid_out.body;
  auto before = head(c);
  EXPECT_EQ(voucher("receipt", "0", R"(,"account_id":")" + account + "\"").status, 422);
  EXPECT_EQ(voucher("refund", "1", R"(,"account_id":")" + account + "\"").status, 422);
  EXPECT_EQ(voucher("receipt", "1", "").status, 422);  // names nobody
  EXPECT_EQ(voucher("receipt", "1", R"(,"order_id":"nope")").status, 422);
  EXPECT_EQ(c.post("/v1/vouchers", R"({"kind":"receipt","amount":{"amount":"1","currency":"USD"},)"
                                   R"("method":"cash","order_id":")" +
                                       order + R"("})")
                .status,
            422);  // not the order's currency
  EXPECT_EQ(head(c), before);

  Reply cash = c.get("/v1/reports/cash?from=2026-03-01&to=2026-03-31&min_position=" +
                     std::to_string(paid_out.num("position")));
  ASSERT_EQ(cash.status, 200) << cash.body;
  ASSERT_EQ(cash.items().items.size(), 1u) << cash.body;
  const auto& d = cash.items().items[0];
  EXPECT_EQ(Reply::text_of(d, "date"), "2026-03-02");
  EXPECT_EQ(amount(d, "in"), "600000.00");
  EXPECT_EQ(amount(d, "out"), "250000.00");
  EXPECT_EQ(amount(d, "net"), "350000.00");
  Reply history = c.get("/v1/customers/" + account + "/history");
  EXPECT_NE(history.body.find("voucher.recorded.v1"), std::string::npos);
  EXPECT_EQ(c.get("/v1/vouchers?order_id=" + order).items().items.size(), 2u);
}

// An order reserves its catalogue products (available = on hand − reserved), other issues
// cannot take them, cancellation releases them in the same write, fulfilment issues them.
TEST_F(InventoryTest, OrdersReserveFulfilAndCancelReleases) {
  CrmClient c(server_.port());
  const std::string pen = product(c, "PEN", R"(,"decimals":0)");
  const std::string hn = warehouse(c, "HN");
  ASSERT_EQ(receipt(c, hn, line(pen, "10", "50")).status, 201);
  const std::string account = c.create("accounts", R"({"name":"Công ty Sao Mai"})");
  auto order_of = [&](const std::string& qty) {
    std::string quote =
        c.create("quotes", R"({"account_id":")" + account +
                               R"(","currency":"VND","lines":[{"product_id":")" + pen +
                               R"(","quantity":")" + qty +
                               R"(","unit_price":"100"},{"description":"Lắp đặt","quantity":"1",)"
                               R"("unit_price":"20"}]})");
    EXPECT_EQ(c.post("/v1/quotes/" + quote + "/send", "{}").status, 200);
    Reply accepted = c.post("/v1/quotes/" + quote + "/accept", "{}");
    EXPECT_EQ(accepted.status, 200) << accepted.body;
    return accepted.str("order_id");
  };
  const std::string first = order_of("6");
  Reply reserved = c.post("/v1/orders/" + first + "/reserve", R"({"warehouse_id":")" + hn + "\"}");
  ASSERT_EQ(reserved.status, 200) << reserved.body;
  auto b = balance(c, pen, hn, reserved.num("position"));
  EXPECT_EQ(Reply::text_of(b, "on_hand"), "10.00");
  EXPECT_EQ(Reply::text_of(b, "reserved"), "6.00");
  EXPECT_EQ(Reply::text_of(b, "available"), "4.00");
  EXPECT_EQ(c.post("/v1/orders/" + first + "/reserve", R"({"warehouse_id":")" + hn + "\"}").status,
            409);
  EXPECT_EQ(c.post("/v1/orders/" + first + "/reserve", R"({"warehouse_id":"nope"})").status, 422);
  EXPECT_EQ(c.post("/v1/orders/nope/reserve", R"({"warehouse_id":")" + hn + "\"}").status, 404);
  // Nobody else can take the reserved goods; a second order cannot reserve them either.
  Reply taken = issue(c, hn, line(pen, "5"));
  EXPECT_EQ(taken.status, 409) << taken.body;
  EXPECT_EQ(taken.str("available"), "4.00");
  const std::string second = order_of("5");
  EXPECT_EQ(c.post("/v1/orders/" + second + "/reserve", R"({"warehouse_id":")" + hn + "\"}").status,
            409);
  // Cancelling the first order releases its reservation in the same write.
  Reply cancelled = c.post("/v1/orders/" + first + "/cancel", R"({"reason":"changed mind"})");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.str("id"), first);
  b = balance(c, pen, hn, cancelled.num("position"));
  EXPECT_EQ(Reply::text_of(b, "reserved"), "0.00");
  EXPECT_EQ(Reply::text_of(b, "available"), "10.00");
  EXPECT_EQ(c.post("/v1/orders/" + first + "/reserve", R"({"warehouse_id":")" + hn + "\"}").status,
            409);
  // The second order reserves, then fulfilment issues exactly what it reserved.
  EXPECT_EQ(c.post("/v1/orders/" + second + "/fulfil", "{}").status, 409);  // nothing reserved
  ASSERT_EQ(c.post("/v1/orders/" + second + "/reserve", R"({"warehouse_id":")" + hn + "\"}").status,
            200);
  Reply fulfilled = c.post("/v1/orders/" + second + "/fulfil", "{}");
  ASSERT_EQ(fulfilled.status, 201) << fulfilled.body;
  b = balance(c, pen, hn, fulfilled.num("position"));
  EXPECT_EQ(Reply::text_of(b, "on_hand"), "5.00");
  EXPECT_EQ(Reply::text_of(b, "reserved"), "0.00");
  EXPECT_EQ(c.post("/v1/orders/" + second + "/fulfil", "{}").status, 409);
  Reply doc = c.get("/v1/stock/documents/" + fulfilled.str("id"));
  ASSERT_EQ(at(doc.json, "lines").items.size(), 1u) << doc.body;
  EXPECT_EQ(Reply::text_of(at(doc.json, "lines").items[0], "order_id"), second);
  EXPECT_EQ(Reply::text_of(at(doc.json, "lines").items[0], "account_id"), account);
  // An order without a reservation cancels as before.
  const std::string third = order_of("1");
  EXPECT_EQ(c.post("/v1/orders/" + third + "/cancel", R"({"reason":"duplicate"})").status, 200);
  EXPECT_EQ(c.post("/v1/orders/" + third + "/cancel", R"({"reason":"again"})").status, 409);
}

// 16 clients × 500 random receipts, issues and transfers on 3 hot products in 2 warehouses.
// Afterwards: every balance equals the sum of the accepted documents, no balance was ever
// negative (replayed from the log itself), and the report for the whole period agrees.
// EVENTCRM_STOCK_TEST_OPS scales the per-client count.
TEST_F(InventoryTest, ConcurrentMovementsNeverDriveStockNegative) {
  CrmClient setup(server_.port());
  const std::vector<std::string> products{product(setup, "HOT-1"), product(setup, "HOT-2"),
                                          product(setup, "HOT-3")};
  const std::vector<std::string> warehouses{warehouse(setup, "W1"), warehouse(setup, "W2")};
  int per_client = 500;
  if (const char* env = std::getenv("EVENTCRM_STOCK_TEST_OPS"))
    per_client = std::max(1, std::atoi(env));
  constexpr int kClients = 16;

  // Net accepted change per product × warehouse, in 1/10,000 units.
  std::map<std::pair<int, int>, std::int64_t> expected;
  std::mutex mu;
  std::atomic<int> accepted{0}, refused{0}, other{0};
  std::atomic<std::int64_t> max_position{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      CrmClient c(server_.port());
      std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 17u);
      auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
      for (int i = 0; i < per_client; ++i) {
        const int kind = pick(10);  // 0-3 receipt, 4-7 issue, 8-9 transfer
        const int w = pick(2);
        std::vector<std::pair<int, int>> lines;  // product, quantity
        lines.push_back({pick(3), 1 + pick(kind < 4 ? 5 : 8)});
        if (kind >= 4 && kind < 8 && pick(3) == 0)
          lines.push_back({(lines[0].first + 1) % 3, 1 + pick(4)});
        std::string body;
        for (const auto& [p, q] : lines) {
          body += body.empty() ? "" : ",";
          body +=
              line(products[static_cast<std::size_t>(p)], std::to_string(q), kind < 4 ? "100" : "");
        }
        Reply r =
            kind < 4 ? c.post("/v1/stock/receipts", R"({"warehouse_id":")" +
                                                        warehouses[static_cast<std::size_t>(w)] +
                                                        R"(","lines":[)" + body + "]}")
            : kind < 8
                ? c.post("/v1/stock/issues", R"({"warehouse_id":")" +
                                                 warehouses[static_cast<std::size_t>(w)] +
                                                 R"(","lines":[)" + body + "]}")
                : c.post("/v1/stock/transfers", R"({"from_warehouse_id":")" +
                                                    warehouses[static_cast<std::size_t>(w)] +
                                                    R"(","to_warehouse_id":")" +
                                                    warehouses[static_cast<std::size_t>(1 - w)] +
                                                    R"(","lines":[)" + body + "]}");
        if (r.status == 201) {
          ++accepted;
          std::int64_t pos = r.num("position");
          for (std::int64_t seen = max_position.load();
               pos > seen && !max_position.compare_exchange_weak(seen, pos);) {
          }
          std::lock_guard lock(mu);
          for (const auto& [p, q] : lines) {
            const std::int64_t u = std::int64_t{q} * 10'000;
            if (kind < 4) {
              expected[std::make_pair(p, w)] += u;
            } else if (kind < 8) {
              expected[std::make_pair(p, w)] -= u;
            } else {
              expected[std::make_pair(p, w)] -= u;
              expected[{p, 1 - w}] += u;
            }
          }
        } else if (r.status == 409 && !r.str("available").empty()) {
          ++refused;
        } else {
          ++other;
          ADD_FAILURE() << "HTTP " << r.status << " " << r.body;
        }
      }
    });
  }
  for (auto& t : clients)
    t.join();
  EXPECT_EQ(accepted + refused, kClients * per_client);
  EXPECT_EQ(other, 0);
  EXPECT_GT(refused.load(), 0) << "the load never ran out of stock: nothing was proved";

  CrmClient c(server_.port());
  // Balances equal the accepted movements.
  for (int p = 0; p < 3; ++p) {
    for (int w = 0; w < 2; ++w) {
      auto b = balance(c, products[static_cast<std::size_t>(p)],
                       warehouses[static_cast<std::size_t>(w)], max_position.load());
      EXPECT_EQ(units(Reply::text_of(b, "on_hand")), expected[std::make_pair(p, w)])
          << p << "/" << w;
      EXPECT_GE(expected[std::make_pair(p, w)], 0);
    }
  }
  // The log: every stock stream's events, in order, never below zero, each balance following
  // from the one before.
  std::map<std::string, std::int64_t> replayed;
  std::map<std::string, std::int64_t> last_version;
  std::size_t events = 0;
  for (std::uint64_t after = 0;;) {
    Reply page = c.get("/v1/events?category=stock&limit=1000&after=" + std::to_string(after));
    ASSERT_EQ(page.status, 200) << page.body;
    const auto& items = page.items().items;
    for (const auto& e : items) {
      const std::string stream = Reply::text_of(e, "subject");
      const auto& data = at(e, "data");
      const std::string type = Reply::text_of(e, "type");
      std::int64_t q = units(Reply::text_of(data, "quantity"));
      if (type == "stock.issued.v1" || type == "stock.transferred_out.v1")
        q = -q;
      replayed[stream] += q;
      const std::int64_t on_hand = units(Reply::text_of(data, "on_hand"));
      EXPECT_EQ(on_hand, replayed[stream]) << stream;
      EXPECT_GE(on_hand, 0) << stream << " went negative at " << Reply::text_of(e, "position");
      ++events;
    }
    const std::string next = page.str("next_cursor");
    if (items.empty() || next.empty() || next == "null")
      break;
    after = std::stoull(next);
  }
  EXPECT_GT(events, 0u);
  // The report over the whole period agrees with the balances.
  Reply report = c.get("/v1/reports/stock-movement?from=2000-01-01&to=2100-12-31&min_position=" +
                       std::to_string(max_position.load()));
  ASSERT_EQ(report.status, 200) << report.body;
  std::size_t rows = 0;
  for (const auto& it : report.items().items) {
    int p = -1, w = -1;
    for (int i = 0; i < 3; ++i)
      p = Reply::text_of(it, "product_id") == products[static_cast<std::size_t>(i)] ? i : p;
    for (int i = 0; i < 2; ++i)
      w = Reply::text_of(it, "warehouse_id") == warehouses[static_cast<std::size_t>(i)] ? i : w;
    ASSERT_GE(p, 0);
    ASSERT_GE(w, 0);
    ++rows;
    EXPECT_EQ(units(Reply::text_of(it, "opening")), 0);
    EXPECT_EQ(units(Reply::text_of(it, "closing")), expected[std::make_pair(p, w)]);
    EXPECT_EQ(units(Reply::text_of(it, "in")) - units(Reply::text_of(it, "out")),
              expected[std::make_pair(p, w)]);
  }
  EXPECT_EQ(rows, 6u);
  std::printf("%d documents accepted, %d refused for lack of stock, %zu stock events\n",
              accepted.load(), refused.load(), events);
}

}  // namespace
}  // namespace eventcrm::test
