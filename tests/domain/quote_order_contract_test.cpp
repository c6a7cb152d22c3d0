// Quotes (totals in Decimal), orders from accepted quotes, contracts with documents.
#include "domain/contract.hpp"
#include "domain/order.hpp"
#include "domain/quote.hpp"

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
std::vector<quote::Line> lines() {
  return {{"p-1", std::string("Licence"), dec("3"), dec("1000000"), dec("10"), dec("10")},
          {"p-2", {}, dec("1.5"), dec("333.33"), dec("0"), dec("8")}};
}
quote::Totals totals() {
  // p-1: gross 3,000,000; discount 300,000; tax 270,000. p-2: gross 499.995; tax 39.9996.
  return {vnd("3000499.995"), vnd("300000"), vnd("270039.9996"), vnd("2970539.9946")};
}
quote::Created created() {
  return {"r-1",   "a-1",    std::string("o-1"), {},      "VND",
          lines(), totals(), day("2026-03-31"),  "u-ann", kNow};
}
quote::Sent sent() {
  return {"r-1", "a-1", kNow};
}
}  // namespace

TEST(Quote, TotalsAreExactDecimals) {
  auto t = quote::compute_totals(lines(), "VND");
  ASSERT_TRUE(t);
  EXPECT_TRUE(*t == totals());
  EXPECT_FALSE(quote::compute_totals(
      {{"p", {}, dec("900000000000"), dec("900000000000"), dec("0"), dec("0")}}, "VND"));
}

TEST(Quote, Lifecycle) {
  using A = quote::Aggregate;
  using E = std::vector<quote::Event>;
  quote::Create create{"a-1", std::string("o-1"), {}, "VND", lines(), day("2026-03-31")};
  quote::Create bad{
      "", {}, {}, "vnd", {{"", {}, dec("0"), dec("-1"), dec("101"), dec("-1")}}, day("2026-03-01")};
  std::vector<quote::Line> one = {lines()[1]};
  auto one_totals = *quote::compute_totals(one, "VND");
  auto expired_ctx = fixed_context();
  expired_ctx.now = at("2026-04-01T00:00:00Z");
  run_cases<A>({
      {"create", {}, create, E{created()}},
      {"create invalid",
       {},
       bad,
       Fails{errc::validation,
             {},
             {"account_id", "currency", "lines[0].product_id", "lines[0].quantity",
              "lines[0].unit_price", "lines[0].discount_percent", "lines[0].tax_percent",
              "valid_until"}}},
      {"replace lines of a draft",
       {created()},
       quote::ReplaceLines{one},
       E{quote::LinesReplaced{"r-1", "a-1", one, one_totals}}},
      {"replace lines when sent",
       {created(), sent()},
       quote::ReplaceLines{one},
       Fails{errc::invalid_transition, {"accept", "reject"}}},
      {"send", {created()}, quote::Send{}, E{sent()}},
      {"accept before sending",
       {created()},
       quote::Accept{"ord-1"},
       Fails{errc::invalid_transition, {"replace-lines", "send"}}},
      {"accept",
       {created(), sent()},
       quote::Accept{"ord-1"},
       E{quote::Accepted{"r-1", "a-1", "ord-1", kNow}}},
      {"reject",
       {created(), sent()},
       quote::Reject{std::string("too expensive")},
       E{quote::Rejected{"r-1", "a-1", std::string("too expensive")}}},
      {"reject after accepting",
       {created(), sent(), quote::Accepted{"r-1", "a-1", "ord-1", kNow}},
       quote::Reject{},
       Fails{errc::invalid_transition}},
  });
  run_cases<A>({{"accept after valid_until",
                 {created(), sent()},
                 quote::Accept{"ord-1"},
                 Fails{errc::invalid_transition, {"reject"}}}},
               expired_ctx);
}

TEST(Quote, FreeTextLinesNeedADescription) {
  using A = quote::Aggregate;
  using E = std::vector<quote::Event>;
  std::vector<quote::Line> free_text = {
      {{}, std::string("On-site training, 2 days"), dec("2"), dec("4500000"), dec("0"), dec("10")}};
  auto free_totals = *quote::compute_totals(free_text, "VND");
  EXPECT_TRUE(free_totals.total == vnd("9900000"));
  std::vector<quote::Line> neither = {
      {{}, {}, dec("1"), dec("1"), dec("0"), dec("0")},
      {std::string(""), std::string(""), dec("1"), dec("1"), dec("0"), dec("0")}};
  quote::Create create{"a-1", {}, {}, "VND", free_text, {}};
  quote::Created created_free{"r-1",     "a-1",       {}, {},      "VND",
                              free_text, free_totals, {}, "u-ann", kNow};
  run_cases<A>({
      {"create with a free-text line", {}, create, E{created_free}},
      {"a line with neither product nor description",
       {},
       quote::Create{"a-1", {}, {}, "VND", neither, {}},
       Fails{errc::validation, {}, {"lines[0].product_id", "lines[1].product_id"}}},
      {"replace with no lines",
       {created_free},
       quote::ReplaceLines{{}},
       Fails{errc::validation, {}, {"lines"}}},
      {"send twice",
       {created_free, quote::Sent{"r-1", "a-1", kNow}},
       quote::Send{},
       Fails{errc::invalid_transition, {"accept", "reject"}}},
      {"accept twice",
       {created_free, quote::Sent{"r-1", "a-1", kNow}, quote::Accepted{"r-1", "a-1", "o-1", kNow}},
       quote::Accept{"o-2"},
       Fails{errc::invalid_transition}},
      {"missing quote", {}, quote::Send{}, Fails{errc::not_found}},
  });
}

TEST(Order, FromAnAcceptedQuote) {
  quote::State q;
  for (const quote::Event& e : std::vector<quote::Event>{created(), sent()}) {
    quote::Aggregate::apply(q, e);
  }
  auto ctx = fixed_context();
  EXPECT_EQ(order::from_quote(q, ctx).error().code, errc::invalid_transition);
  quote::Aggregate::apply(q, quote::Accepted{"r-1", "a-1", "ord-1", kNow});
  auto o = order::from_quote(q, ctx);
  ASSERT_TRUE(o);
  EXPECT_TRUE(*o == (order::Created{"ord-1", "a-1", "r-1", std::string("o-1"), "VND", lines(),
                                    totals(), "u-ann", kNow}));
  using E = std::vector<order::Event>;
  run_cases<order::Aggregate>({
      {"cancel",
       {*o},
       order::Cancel{"customer withdrew"},
       E{order::Cancelled{"ord-1", "a-1", "customer withdrew"}}},
      {"cancel without a reason", {*o}, order::Cancel{""}, Fails{errc::validation, {}, {"reason"}}},
      {"cancel twice",
       {*o, order::Cancelled{"ord-1", "a-1", "x"}},
       order::Cancel{"y"},
       Fails{errc::invalid_transition}},
      {"missing", {}, order::Cancel{"x"}, Fails{errc::not_found}},
  });
}

TEST(Contract, Lifecycle) {
  using A = contract::Aggregate;
  using E = std::vector<contract::Event>;
  const std::string hash(64, 'a');
  contract::Created c{"r-1",
                      "a-1",
                      std::string("ord-1"),
                      "Support 2026",
                      day("2026-04-01"),
                      day("2027-03-31"),
                      day("2027-02-28"),
                      vnd("120000000"),
                      "u-ann",
                      kNow};
  contract::Create create{"a-1",
                          std::string("ord-1"),
                          "Support 2026",
                          day("2026-04-01"),
                          day("2027-03-31"),
                          day("2027-02-28"),
                          vnd("120000000")};
  contract::Create backwards = create;
  backwards.end_date = day("2026-03-01");
  contract::DocumentAttached doc{"r-1", "a-1", "id-1", "contract.pdf", "application/pdf",
                                 2048,  hash};
  run_cases<A>({
      {"create", {}, create, E{c}},
      {"ends before it starts",
       {},
       backwards,
       Fails{errc::validation, {}, {"end_date", "renewal_date"}}},
      {"attach a document",
       {c},
       contract::AttachDocument{"contract.pdf", "application/pdf", 2048, hash},
       E{doc}},
      {"attach the same content twice",
       {c, doc},
       contract::AttachDocument{"copy.pdf", "application/pdf", 2048, hash},
       Fails{errc::already_exists}},
      {"attach with a bad hash",
       {c},
       contract::AttachDocument{"x.pdf", "application/pdf", 1, "AB"},
       Fails{errc::validation, {}, {"sha256"}}},
      {"renew",
       {c},
       contract::Renew{day("2028-03-31"), day("2028-02-29")},
       E{contract::Renewed{"r-1", "a-1", day("2027-03-31"), day("2028-03-31"), day("2028-02-29")}}},
      {"renew backwards",
       {c},
       contract::Renew{day("2027-01-01"), {}},
       Fails{errc::validation, {}, {"end_date"}}},
      {"terminate",
       {c},
       contract::Terminate{"breach"},
       E{contract::Terminated{"r-1", "a-1", "breach", day("2026-03-02")}}},
      {"renew a terminated one",
       {c, contract::Terminated{"r-1", "a-1", "x", day("2026-03-02")}},
       contract::Renew{day("2028-03-31"), {}},
       Fails{errc::invalid_transition}},
  });
}
