// Products, warehouses, stock (movements, moving-average cost, reservations) and vouchers:
// given events, when a command, then events or an error.
#include "domain/product.hpp"
#include "domain/reservation.hpp"
#include "domain/stock.hpp"
#include "domain/voucher.hpp"
#include "domain/warehouse.hpp"

#include "given_when_then.hpp"

using namespace eventcrm::domain;
using eventcrm::testing::at;
using eventcrm::testing::day;
using eventcrm::testing::Fails;
using eventcrm::testing::fixed_context;
using eventcrm::testing::run_cases;
using eventcrm::testing::vnd;

namespace {
const Timestamp kNow = at("2026-03-02T10:00:00Z");
Decimal dec(const char* s) {
  return *Decimal::parse(s);
}
}  // namespace

TEST(Product, CreateAndUpdate) {
  using A = product::Aggregate;
  using E = std::vector<product::Event>;
  product::Created created{"r-1",      "AB-1",    "Widget", "pcs", 0,       "VND",
                           dec("120"), dec("80"), dec("5"), true,  "u-ann", kNow};
  run_cases<A>({
      {"create normalises the SKU",
       {},
       product::Create{" ab-1 ", "Widget", "pcs", 0, vnd("120"), vnd("80"), dec("5"), {}},
       E{created}},
      {"create twice",
       {created},
       product::Create{"AB-1", "W", "pcs", {}, {}, {}, {}, {}},
       Fails{errc::already_exists}},
      {"create invalid",
       {},
       product::Create{
           "a b", "", "", 7, Money{dec("-1"), "VND"}, Money{dec("1"), "USD"}, dec("-1"), {}},
       Fails{errc::validation,
             {},
             {"sku", "name", "unit", "decimals", "sale_price", "cost", "reorder_level"}}},
      {"reorder level finer than the product's precision",
       {},
       product::Create{"AB-2", "W", "pcs", 0, {}, {}, dec("1.5"), {}},
       Fails{errc::validation, {}, {"reorder_level"}}},
      {"update",
       {created},
       product::Update{std::string("Widget 2"), {}, {}, {}, dec("10"), false},
       E{product::Updated{"r-1", std::string("Widget 2"), {}, {}, {}, dec("10"), false}}},
      {"update to another currency",
       {created},
       product::Update{{}, {}, Money{dec("1"), "USD"}, {}, {}, {}},
       Fails{errc::validation, {}, {"sale_price"}}},
      {"update nothing", {created}, product::Update{}, E{}},
      {"update unknown",
       {},
       product::Update{std::string("x"), {}, {}, {}, {}, {}},
       Fails{errc::not_found}},
  });
  EXPECT_TRUE(product::fits_precision(dec("2"), 0));
  EXPECT_FALSE(product::fits_precision(dec("2.5"), 0));
  EXPECT_TRUE(product::fits_precision(dec("2.125"), 3));
}

TEST(Warehouse, CreateAndNegativeStock) {
  using A = warehouse::Aggregate;
  using E = std::vector<warehouse::Event>;
  warehouse::Created created{"r-1", "HN-1", "Hà Nội", "u-ann", kNow};
  run_cases<A>({
      {"create", {}, warehouse::Create{"hn-1", "Hà Nội"}, E{created}},
      {"create invalid",
       {},
       warehouse::Create{"H N", ""},
       Fails{errc::validation, {}, {"code", "name"}}},
      {"allow negative",
       {created},
       warehouse::SetNegativeStock{true},
       E{warehouse::NegativeStockSet{"r-1", true}}},
      {"allow again changes nothing",
       {created, warehouse::NegativeStockSet{"r-1", true}},
       warehouse::SetNegativeStock{true},
       E{}},
      {"unknown warehouse", {}, warehouse::SetNegativeStock{true}, Fails{errc::not_found}},
  });
}

namespace {
// Stock of product p-1 in warehouse w-1 (the context's record id is the stock id).
eventcrm::domain::Context stock_ctx() {
  return fixed_context("p-1.w-1");
}
stock::Received received(const char* qty, const char* cost, const char* on_hand, const char* avg,
                         const char* doc = "d-0") {
  return {"p-1", "w-1", doc, dec(qty), dec(cost), {}, dec(on_hand), dec(avg)};
}
}  // namespace

TEST(Stock, ReceiptsKeepAMovingAverageCost) {
  using A = stock::Aggregate;
  using E = std::vector<stock::Event>;
  run_cases<A>(
      {
          {"first receipt sets the cost",
           {},
           stock::Receive{"d-1", dec("10"), dec("50"), std::string("ACME")},
           E{stock::Received{"p-1", "w-1", "d-1", dec("10"), dec("50"), std::string("ACME"),
                             dec("10"), dec("50")}}},
          {"second receipt averages by value: (10×50 + 10×80) / 20 = 65",
           {received("10", "50", "10", "50")},
           stock::Receive{"d-2", dec("10"), dec("80"), {}},
           E{received("10", "80", "20", "65", "d-2")}},
          {"rounded half away from zero: (3×1 + 1×2) / 4 ... (1×1 + 2×2) / 3 = 1.6667",
           {received("1", "1", "1", "1")},
           stock::Receive{"d-2", dec("2"), dec("2"), {}},
           E{received("2", "2", "3", "1.6667", "d-2")}},
          {"zero quantity",
           {},
           stock::Receive{"d-1", dec("0"), dec("1"), {}},
           Fails{errc::validation, {}, {"quantity"}}},
          {"negative quantity and cost",
           {},
           stock::Receive{"d-1", dec("-1"), dec("-1"), {}},
           Fails{errc::validation, {}, {"quantity", "unit_cost"}}},
      },
      stock_ctx());
}

TEST(Stock, IssuesNeverDriveOnHandNegative) {
  using A = stock::Aggregate;
  using E = std::vector<stock::Event>;
  const stock::Received ten = received("10", "50", "10", "50");
  run_cases<A>(
      {
          {"issue what is there",
           {ten},
           stock::Issue{"d-2", dec("10"), std::string("a-1"), {}, false},
           E{stock::Issued{"p-1",
                           "w-1",
                           "d-2",
                           dec("10"),
                           dec("50"),
                           std::string("a-1"),
                           {},
                           dec("0"),
                           dec("0"),
                           dec("50")}}},
          {"over-issue",
           {ten},
           stock::Issue{"d-2", dec("10.0001"), {}, {}, false},
           Fails{errc::conflict}},
          {"issue from nothing",
           {},
           stock::Issue{"d-2", dec("1"), {}, {}, false},
           Fails{errc::conflict}},
          {"over-issue where negative stock is allowed",
           {ten},
           stock::Issue{"d-2", dec("12"), {}, {}, true},
           E{stock::Issued{
               "p-1", "w-1", "d-2", dec("12"), dec("50"), {}, {}, dec("0"), dec("-2"), dec("50")}}},
          {"zero quantity",
           {ten},
           stock::Issue{"d-2", dec("0"), {}, {}, false},
           Fails{errc::validation, {}, {"quantity"}}},
          {"negative quantity",
           {ten},
           stock::Issue{"d-2", dec("-3"), {}, {}, false},
           Fails{errc::validation, {}, {"quantity"}}},
          {"receipt after negative stock takes the arriving cost",
           {stock::Issued{
               "p-1", "w-1", "d-2", dec("2"), dec("0"), {}, {}, dec("0"), dec("-2"), dec("0")}},
           stock::Receive{"d-3", dec("5"), dec("40"), {}},
           E{received("5", "40", "3", "40", "d-3")}},
      },
      stock_ctx());
}

TEST(Stock, TransfersAndAdjustments) {
  using A = stock::Aggregate;
  using E = std::vector<stock::Event>;
  const stock::Received ten = received("10", "50", "10", "50");
  run_cases<A>(
      {
          {"transfer out",
           {ten},
           stock::TransferOut{"d-2", "w-2", dec("4"), false},
           E{stock::TransferredOut{"p-1", "w-1", "d-2", "w-2", dec("4"), dec("50"), dec("6"),
                                   dec("50")}}},
          {"transfer to the same warehouse",
           {ten},
           stock::TransferOut{"d-2", "w-1", dec("4"), false},
           Fails{errc::validation, {}, {"to_warehouse_id"}}},
          {"transfer more than on hand",
           {ten},
           stock::TransferOut{"d-2", "w-2", dec("11"), false},
           Fails{errc::conflict}},
          {"transfer in at the source's cost",
           {ten},
           stock::TransferIn{"d-2", "w-2", dec("10"), dec("70")},
           E{stock::TransferredIn{"p-1", "w-1", "d-2", "w-2", dec("10"), dec("70"), dec("20"),
                                  dec("60")}}},
          {"transfer in from itself",
           {},
           stock::TransferIn{"d-2", "w-1", dec("1"), dec("1")},
           Fails{errc::validation, {}, {"from_warehouse_id"}}},
          {"count found less",
           {ten},
           stock::Adjust{"d-2", dec("7"), {}, "broken in storage", false},
           E{stock::Adjusted{"p-1", "w-1", "d-2", dec("-3"), dec("7"), "broken in storage",
                             dec("50"), dec("7"), dec("50")}}},
          {"correction by a difference",
           {ten},
           stock::Adjust{"d-2", {}, dec("2"), "found on a shelf", false},
           E{stock::Adjusted{"p-1",
                             "w-1",
                             "d-2",
                             dec("2"),
                             {},
                             "found on a shelf",
                             dec("50"),
                             dec("12"),
                             dec("50")}}},
          {"adjustment without a reason",
           {ten},
           stock::Adjust{"d-2", dec("7"), {}, "", false},
           Fails{errc::validation, {}, {"reason"}}},
          {"adjustment with both counted and difference",
           {ten},
           stock::Adjust{"d-2", dec("7"), dec("1"), "x", false},
           Fails{errc::validation, {}, {"quantity"}}},
          {"a correction below zero",
           {ten},
           stock::Adjust{"d-2", {}, dec("-11"), "x", false},
           Fails{errc::conflict}},
      },
      stock_ctx());
}

TEST(Stock, ReservationsHoldStockForTheirOrder) {
  using A = stock::Aggregate;
  using E = std::vector<stock::Event>;
  const stock::Received ten = received("10", "50", "10", "50");
  const stock::Reserved held{"p-1", "w-1", "o-1", std::string("a-1"), dec("6"), dec("6")};
  run_cases<A>(
      {
          {"reserve", {ten}, stock::Reserve{"o-1", std::string("a-1"), dec("6"), false}, E{held}},
          {"reserve more than available",
           {ten, held},
           stock::Reserve{"o-2", {}, dec("5"), false},
           Fails{errc::conflict}},
          {"others cannot issue what is reserved",
           {ten, held},
           stock::Issue{"d-2", dec("5"), {}, {}, false},
           Fails{errc::conflict}},
          {"the order's issue consumes its reservation",
           {ten, held},
           stock::Issue{"d-2", dec("8"), std::string("a-1"), std::string("o-1"), false},
           E{stock::Issued{"p-1", "w-1", "d-2", dec("8"), dec("50"), std::string("a-1"),
                           std::string("o-1"), dec("6"), dec("2"), dec("50")}}},
          {"release",
           {ten, held},
           stock::Release{"o-1", std::string("a-1"), std::string("cancelled")},
           E{stock::Released{"p-1", "w-1", "o-1", std::string("a-1"), dec("6"), dec("0"),
                             std::string("cancelled")}}},
          {"release what was never reserved", {ten}, stock::Release{"o-1", {}, {}}, E{}},
      },
      stock_ctx());
  stock::State s;
  for (const stock::Event& e : std::vector<stock::Event>{ten, held})
    A::apply(s, e);
  EXPECT_EQ(stock::available(s), dec("4"));
  EXPECT_EQ(stock::available(s, std::string("o-1")), dec("10"));
  stock::State back;
  ASSERT_TRUE(A::decode_state(A::encode_state(s), back));
  EXPECT_EQ(back.reservations, s.reservations);
  EXPECT_EQ(back.on_hand, s.on_hand);
}

TEST(Stock, Ids) {
  EXPECT_EQ(stock::stock_id("p", "w"), "p.w");
  EXPECT_EQ(stock::split_id("p.w"), std::make_pair(std::string("p"), std::string("w")));
  EXPECT_EQ(stock::split_id("pw").first, "");
  EXPECT_EQ(stock::split_id("p.w.x").first, "");
  auto r = stock::Aggregate::decide({}, stock::Receive{"d", dec("1"), dec("1"), {}},
                                    fixed_context("not-a-stock-id"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::not_found);
}

TEST(Voucher, RecordAndVoid) {
  using A = voucher::Aggregate;
  using E = std::vector<voucher::Event>;
  voucher::Recorded recorded{
      "r-1", voucher::Kind::receipt, vnd("500"), "cash", day("2026-03-02"), std::string("a-1"),
      {},    std::string("o-1"),     {},         {},     "u-ann",           kNow};
  run_cases<A>({
      {"record (date defaults to today)",
       {},
       voucher::Record{voucher::Kind::receipt,
                       vnd("500"),
                       "cash",
                       {},
                       std::string("a-1"),
                       {},
                       std::string("o-1"),
                       {},
                       {}},
       E{recorded}},
      {"record invalid",
       {},
       voucher::Record{voucher::Kind::payment, vnd("0"), "barter", {}, {}, {}, {}, {}, {}},
       Fails{errc::validation, {}, {"amount", "method", "account_id"}}},
      {"void",
       {recorded},
       voucher::Void{"typo"},
       E{voucher::Voided{"r-1", std::string("a-1"), std::string("o-1"), "typo"}}},
      {"void twice",
       {recorded, voucher::Voided{"r-1", {}, {}, "x"}},
       voucher::Void{"again"},
       Fails{errc::invalid_transition}},
      {"void without a reason",
       {recorded},
       voucher::Void{""},
       Fails{errc::validation, {}, {"reason"}}},
      {"void unknown", {}, voucher::Void{"x"}, Fails{errc::not_found}},
  });
}

TEST(Reservation, Lifecycle) {
  using A = reservation::Aggregate;
  using E = std::vector<reservation::Event>;
  const std::vector<reservation::Line> lines{{"p-1", dec("6")}};
  const reservation::Made made{"r-1", "a-1", "w-1", lines};
  run_cases<A>({
      {"make", {}, reservation::Make{"a-1", "w-1", lines}, E{made}},
      {"make again",
       {made},
       reservation::Make{"a-1", "w-1", lines},
       Fails{errc::invalid_transition, {"fulfil", "cancel"}}},
      {"make nothing",
       {},
       reservation::Make{"a-1", "w-1", {}},
       Fails{errc::validation, {}, {"lines"}}},
      {"fulfil",
       {made},
       reservation::Fulfil{"d-1"},
       E{reservation::Fulfilled{"r-1", "a-1", "d-1"}}},
      {"fulfil unreserved",
       {},
       reservation::Fulfil{"d-1"},
       Fails{errc::invalid_transition, {"reserve"}}},
      {"release",
       {made},
       reservation::Release{"a-1", std::string("cancelled")},
       E{reservation::Released{"r-1", "a-1", std::string("cancelled")}}},
      {"a cancelled order without a reservation closes it too",
       {},
       reservation::Release{"a-1", {}},
       E{reservation::Released{"r-1", "a-1", {}}}},
      {"nothing to release once fulfilled",
       {made, reservation::Fulfilled{"r-1", "a-1", "d-1"}},
       reservation::Release{"a-1", {}},
       E{}},
      {"no reservation after cancellation",
       {reservation::Released{"r-1", "a-1", {}}},
       reservation::Make{"a-1", "w-1", lines},
       Fails{errc::invalid_transition}},
  });
}
