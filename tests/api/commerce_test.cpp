// Quotes → orders → contracts through the real server: totals checked against an independent
// computation from the lines, acceptance creating the order atomically (and idempotently),
// invalid transitions, bad input writing nothing, list filters and read-your-writes.
#include <gtest/gtest.h>

#include <set>

#include "crm_client.hpp"

namespace eventcrm::test {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// ---- an independent decimal model: 4 fractional digits, half away from zero ----

__extension__ typedef __int128 Wide;  // products of two 4-digit decimals do not fit 64 bits

Wide units_of(const std::string& text) {
  bool negative = !text.empty() && text[0] == '-';
  std::size_t i = negative ? 1 : 0;
  Wide whole = 0, frac = 0;
  int digits = 0;
  for (; i < text.size() && text[i] != '.'; ++i)
    whole = whole * 10 + (text[i] - '0');
  if (i < text.size())
    ++i;
  for (; i < text.size(); ++i, ++digits)
    frac = frac * 10 + (text[i] - '0');
  for (; digits < 4; ++digits)
    frac *= 10;
  Wide u = whole * 10'000 + frac;
  return negative ? -u : u;
}

Wide divide_rounded(Wide n, Wide d) {
  Wide q = n / d, r = n % d;
  if (2 * (r < 0 ? -r : r) >= d)
    q += n < 0 ? -1 : 1;
  return q;
}

std::string text_of(Wide u) {
  bool negative = u < 0;
  if (negative)
    u = -u;
  std::string whole = std::to_string(static_cast<long long>(u / 10'000));
  std::string frac = std::to_string(static_cast<long long>(u % 10'000 + 10'000)).substr(1);
  while (frac.size() > 2 && frac.back() == '0')
    frac.pop_back();
  return (negative ? "-" : "") + whole + "." + frac;
}

struct LineIn {
  std::string quantity, unit_price, discount_percent = "0", tax_percent = "0";
};
struct Expected {
  std::string subtotal, discount, tax, total;
};

// gross = quantity × unit price; discount = gross × d %; tax = (gross − discount) × t %; each
// product rounded to 4 digits.
Expected expected_totals(const std::vector<LineIn>& lines) {
  Wide subtotal = 0, discount = 0, tax = 0;
  for (const LineIn& l : lines) {
    Wide gross = divide_rounded(units_of(l.quantity) * units_of(l.unit_price), 10'000);
    Wide off = divide_rounded(gross * units_of(l.discount_percent), 1'000'000);
    Wide line_tax = divide_rounded((gross - off) * units_of(l.tax_percent), 1'000'000);
    subtotal += gross, discount += off, tax += line_tax;
  }
  return {text_of(subtotal), text_of(discount), text_of(tax), text_of(subtotal - discount + tax)};
}

const api::json::Value& at(const api::json::Value& v, std::string_view key) {
  static const api::json::Value none;
  const api::json::Value* m = v.find(key);
  return m != nullptr ? *m : none;
}
void expect_totals(const api::json::Value& totals, const Expected& e, const std::string& cur) {
  EXPECT_EQ(amount(totals, "subtotal"), e.subtotal);
  EXPECT_EQ(amount(totals, "discount"), e.discount);
  EXPECT_EQ(amount(totals, "tax"), e.tax);
  EXPECT_EQ(amount(totals, "total"), e.total);
  EXPECT_EQ(Reply::text_of(at(totals, "total"), "currency"), cur);
}
std::vector<std::string> strings(const api::json::Value& arr) {
  std::vector<std::string> out;
  for (const auto& v : arr.items)
    out.push_back(v.text);
  return out;
}

class CommerceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("commerce");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  std::uint64_t head(CrmClient& c) {
    return std::stoull(c.get("/v1/events?limit=1").header("x-position"));
  }
  std::string at_pos(const Reply& r) { return "min_position=" + std::to_string(r.num("position")); }
  // A sent quote of one line for `account`.
  std::string sent_quote(CrmClient& c, const std::string& account, const std::string& price) {
    std::string id =
        c.create("quotes", R"({"account_id":")" + account +
                               R"(","currency":"VND","lines":[{"product_id":"p-1","quantity":"2",)"
                               R"("unit_price":")" +
                               price + R"("}]})");
    Reply r = c.post("/v1/quotes/" + id + "/send", "{}");
    EXPECT_EQ(r.status, 200) << r.body;
    c.last_position = r.num("position");
    return id;
  }
  std::filesystem::path dir_;
  ServerProcess server_;
};

TEST_F(CommerceTest, QuoteTotalsAcceptanceAndTheOrder) {
  CrmClient c(server_.port());
  std::string account = c.create("accounts", R"({"name":"Công ty Bình Minh"})");
  std::string contact = c.create(
      "contacts", R"({"account_id":")" + account + R"(","first_name":"Lan","last_name":"Trần"})");
  ASSERT_FALSE(contact.empty());

  std::vector<LineIn> lines = {{"3", "1250000.00", "10", "8"},
                               {"1.5", "333.33", "0", "10"},
                               {"0.3333", "0.0333", "7.5", "5"}};
  std::string body = R"({"account_id":")" + account + R"(","contact_id":")" + contact +
                     R"(","currency":"VND","valid_until":"2099-12-31","lines":[)"
                     R"({"product_id":"p-100","description":"Licence","quantity":"3",)"
                     R"("unit_price":{"amount":"1250000.00","currency":"VND"},)"
                     R"("discount_percent":"10","tax_percent":"8"},)"
                     R"({"description":"Installation","quantity":"1.5","unit_price":"333.33",)"
                     R"("tax_percent":10},)"
                     R"({"product_id":"p-7","quantity":"0.3333","unit_price":"0.0333",)"
                     R"("discount_percent":"7.5","tax_percent":"5"}]})";
  Reply r = c.post("/v1/quotes", body, {{"X-Reason", "RFQ 2026-114"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  EXPECT_EQ(r.header("location"), "/v1/quotes/" + id);
  EXPECT_EQ(r.header("etag"), "\"0\"");
  Expected e = expected_totals(lines);
  EXPECT_EQ(e.subtotal, "3750500.0061");  // the model itself, by hand: 3,750,000 + 499.995 + 0.0111
  expect_totals(at(r.json, "totals"), e, "VND");

  // Read-your-writes: the detail reflects the create at once.
  r = c.get("/v1/quotes/" + id, {{"X-Min-Position", std::to_string(r.num("position"))}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("status"), "draft");
  EXPECT_EQ(r.str("account_id"), account);
  EXPECT_EQ(r.str("contact_id"), contact);
  EXPECT_EQ(r.str("valid_until"), "2099-12-31");
  expect_totals(at(r.json, "totals"), e, "VND");
  const auto& served = at(r.json, "lines").items;
  ASSERT_EQ(served.size(), 3u);
  EXPECT_EQ(Reply::text_of(served[0], "product_id"), "p-100");
  EXPECT_EQ(amount(served[0], "unit_price"), "1250000.00");
  EXPECT_EQ(amount(served[0], "total"), expected_totals({lines[0]}).total);
  EXPECT_EQ(Reply::text_of(served[1], "description"), "Installation");
  EXPECT_EQ(served[1].find("product_id"), nullptr);
  EXPECT_EQ(amount(served[1], "tax"), expected_totals({lines[1]}).tax);
  EXPECT_EQ(amount(served[2], "discount"), expected_totals({lines[2]}).discount);

  // Lines change while draft; the totals follow.
  std::vector<LineIn> edited = {{"4", "1250000", "12.5", "8"}, {"2", "99.99", "0", "0"}};
  r = c.post(
      "/v1/quotes/" + id + "/replace-lines",
      R"({"lines":[{"product_id":"p-100","quantity":"4","unit_price":"1250000",)"
      R"("discount_percent":"12.5","tax_percent":"8"},)"
      R"({"description":"Cables","quantity":"2","unit_price":{"amount":"99.99","currency":"VND"}}]})",
      {{"If-Match", "\"0\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("version"), 1);
  Expected e2 = expected_totals(edited);
  expect_totals(at(r.json, "totals"), e2, "VND");

  // Stale If-Match: 409 with the current version.
  r = c.post("/v1/quotes/" + id + "/send", "{}", {{"If-Match", "\"0\""}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.num("current_version"), 1);
  r = c.post("/v1/quotes/" + id + "/send", "{}", {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;

  // A sent quote's lines are fixed.
  r = c.post("/v1/quotes/" + id + "/replace-lines",
             R"({"lines":[{"product_id":"p-1","quantity":"1","unit_price":"1"}]})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(strings(at(r.json, "allowed")), (std::vector<std::string>{"accept", "reject"}));

  // Accept: the order exists with the quote's lines and total.
  r = c.post("/v1/quotes/" + id + "/accept", "{}", {{"X-Reason", "signed PO 7781"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("quote_id"), id);
  std::string order = r.str("order_id");
  ASSERT_FALSE(order.empty());
  EXPECT_EQ(r.num("version"), 3);
  EXPECT_EQ(r.header("etag"), "\"3\"");
  std::string pos = at_pos(r);
  Reply o = c.get("/v1/orders/" + order + "?" + pos);
  ASSERT_EQ(o.status, 200) << o.body;
  EXPECT_EQ(o.str("status"), "open");
  EXPECT_EQ(o.str("quote_id"), id);
  EXPECT_EQ(o.str("account_id"), account);
  EXPECT_EQ(o.str("currency"), "VND");
  expect_totals(at(o.json, "totals"), e2, "VND");
  const auto& order_lines = at(o.json, "lines").items;
  ASSERT_EQ(order_lines.size(), 2u);
  EXPECT_EQ(Reply::text_of(order_lines[0], "product_id"), "p-100");
  EXPECT_EQ(Reply::text_of(order_lines[0], "quantity"), "4.00");
  EXPECT_EQ(Reply::text_of(order_lines[0], "discount_percent"), "12.50");
  EXPECT_EQ(Reply::text_of(order_lines[1], "description"), "Cables");
  EXPECT_EQ(amount(order_lines[1], "total"), "199.98");
  EXPECT_EQ(o.header("etag"), "\"0\"");
  Reply q = c.get("/v1/quotes/" + id + "?" + pos);
  EXPECT_EQ(q.str("status"), "accepted");
  EXPECT_EQ(q.str("order_id"), order);
  EXPECT_FALSE(q.str("accepted_at").empty());

  // Both streams were written by one append: consecutive positions, the reason on both.
  Reply qs = c.get("/v1/streams/quote-" + id);
  Reply os = c.get("/v1/streams/order-" + order);
  EXPECT_NE(qs.body.find("signed PO 7781"), std::string::npos);
  EXPECT_NE(os.body.find("signed PO 7781"), std::string::npos);
  EXPECT_NE(os.body.find("order.created.v1"), std::string::npos);

  // Accepting twice: 409 with `allowed` (nothing), nothing written.
  std::uint64_t before = head(c);
  r = c.post("/v1/quotes/" + id + "/accept", "{}");
  EXPECT_EQ(r.status, 409) << r.body;
  ASSERT_NE(r.json.find("allowed"), nullptr) << r.body;
  EXPECT_TRUE(strings(at(r.json, "allowed")).empty());
  r = c.post("/v1/quotes/" + id + "/reject", R"({"reason":"changed mind"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(head(c), before);
  Reply orders = c.get("/v1/orders?quote_id=" + id);
  EXPECT_EQ(orders.items().items.size(), 1u);

  EXPECT_EQ(c.get("/v1/quotes/nope").status, 404);
  EXPECT_EQ(c.get("/v1/orders/nope").status, 404);
  EXPECT_EQ(c.post("/v1/quotes/nope/accept", "{}").status, 404);
  EXPECT_EQ(c.post("/v1/quotes/nope/send", "{}").status, 404);
}

TEST_F(CommerceTest, RejectAndInvalidTransitions) {
  CrmClient c(server_.port());
  std::string account = c.create("accounts", R"({"name":"Rejecting Co"})");
  std::string id = c.create(
      "quotes",
      R"({"account_id":")" + account +
          R"(","currency":"USD","lines":[{"description":"Consulting","quantity":"10","unit_price":"150"}]})");
  // A draft is neither accepted nor rejected.
  Reply r = c.post("/v1/quotes/" + id + "/accept", "{}");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(strings(at(r.json, "allowed")), (std::vector<std::string>{"replace-lines", "send"}));
  r = c.post("/v1/quotes/" + id + "/reject", "{}");
  EXPECT_EQ(r.status, 409);
  ASSERT_EQ(c.post("/v1/quotes/" + id + "/send", "{}").status, 200);
  r = c.post("/v1/quotes/" + id + "/send", "{}");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(strings(at(r.json, "allowed")), (std::vector<std::string>{"accept", "reject"}));
  r = c.post("/v1/quotes/" + id + "/reject", R"({"reason":"over budget"})");
  ASSERT_EQ(r.status, 200) << r.body;
  Reply q = c.get("/v1/quotes/" + id + "?" + at_pos(r));
  EXPECT_EQ(q.str("status"), "rejected");
  EXPECT_EQ(q.str("rejection_reason"), "over budget");
  EXPECT_EQ(amount(at(q.json, "totals"), "total"), "1500.00");
  EXPECT_EQ(Reply::text_of(at(at(q.json, "totals"), "total"), "currency"), "USD");
  r = c.post("/v1/quotes/" + id + "/accept", "{}");
  EXPECT_EQ(r.status, 409);
  EXPECT_TRUE(strings(at(r.json, "allowed")).empty());
  EXPECT_EQ(c.get("/v1/orders?account_id=" + account).items().items.size(), 0u);
}

TEST_F(CommerceTest, AcceptWithAnIdempotencyKeyCreatesOneOrder) {
  CrmClient c(server_.port());
  std::string account = c.create("accounts", R"({"name":"Once Ltd"})");
  std::string id = sent_quote(c, account, "500");
  // A stale If-Match: 409 with the quote's version, no order.
  std::uint64_t before = head(c);
  Reply stale = c.post("/v1/quotes/" + id + "/accept", "{}", {{"If-Match", "\"0\""}});
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(stale.num("current_version"), 1);
  EXPECT_EQ(head(c), before);
  Headers key = {{"Idempotency-Key", "po-4411"}, {"If-Match", "\"1\""}};
  Reply first = c.post("/v1/quotes/" + id + "/accept", "{}", key);
  ASSERT_EQ(first.status, 200) << first.body;
  std::uint64_t after_first = head(c);
  Reply again = c.post("/v1/quotes/" + id + "/accept", "{}", key);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.str("order_id"), first.str("order_id"));
  EXPECT_EQ(again.num("position"), first.num("position"));
  EXPECT_EQ(head(c), after_first);
  // The same key for another request: 422.
  Reply other = c.post("/v1/quotes/" + id + "/accept", R"({"reason":"x"})", key);
  EXPECT_EQ(other.status, 422) << other.body;
  Reply list = c.get("/v1/orders?account_id=" + account + "&" + at_pos(first));
  ASSERT_EQ(list.items().items.size(), 1u) << list.body;
  EXPECT_EQ(Reply::text_of(list.items().items[0], "id"), first.str("order_id"));

  // An idempotent create: the same quote id, totals again, nothing more written.
  std::string body =
      R"({"account_id":")" + account +
      R"(","currency":"VND","lines":[{"product_id":"p","quantity":"1","unit_price":"7"}]})";
  Reply q1 = c.post("/v1/quotes", body, {{"Idempotency-Key", "rfq-9"}});
  ASSERT_EQ(q1.status, 201) << q1.body;
  Reply q2 = c.post("/v1/quotes", body, {{"Idempotency-Key", "rfq-9"}});
  EXPECT_EQ(q2.str("id"), q1.str("id"));
  EXPECT_EQ(q2.num("position"), q1.num("position"));
  EXPECT_EQ(amount(at(q2.json, "totals"), "total"), "7.00");
}

TEST_F(CommerceTest, BadQuotesAreRefusedAndWriteNothing) {
  CrmClient c(server_.port());
  std::string account = c.create("accounts", R"({"name":"Strict Co"})");
  std::string a = R"({"account_id":")" + account + R"(",)";
  std::uint64_t before = head(c);
  struct Bad {
    std::string body;
    std::string field;
  };
  std::vector<Bad> bad = {
      {a + R"("currency":"VND","lines":[{"product_id":"p","quantity":"-1","unit_price":"5"}]})",
       "lines[0].quantity"},
      {a + R"("currency":"VND","lines":[{"product_id":"p","quantity":"0","unit_price":"5"}]})",
       "lines[0].quantity"},
      {a + R"("currency":"VND","lines":[{"product_id":"p","quantity":"1","unit_price":{"amount":"5","currency":"USD"}}]})",
       "lines[0].unit_price.currency"},
      {a + R"("currency":"VND","lines":[]})", "lines"},
      {a + R"("currency":"VND"})", "lines"},
      {a + R"("currency":"dong","lines":[{"product_id":"p","quantity":"1","unit_price":"5"}]})",
       "currency"},
      {a + R"("currency":"VND","lines":[{"product_id":"p","quantity":1,"unit_price":"5"}]})",
       "lines[0].quantity"},
      {a + R"("currency":"VND","lines":[{"product_id":"p","quantity":"1"}]})",
       "lines[0].unit_price"},
      {a + R"("currency":"VND","lines":[{"quantity":"1","unit_price":"5"}]})",
       "lines[0].product_id"},
      {a + R"("currency":"VND","lines":[{"product_id":"p","quantity":"1","unit_price":"-5"}]})",
       "lines[0].unit_price"},
      {a + R"("currency":"VND","lines":[{"product_id":"p","quantity":"1","unit_price":"5","discount_percent":"101"}]})",
       "lines[0].discount_percent"},
      {a + R"("currency":"VND","lines":[{"product_id":"p","quantity":"1","unit_price":"5","colour":"red"}]})",
       "lines[0].colour"},
      {a + R"("currency":"VND","lines":[7]})", "lines[0]"},
      {a + R"("currency":"VND","valid_until":"2001-01-01","lines":[{"product_id":"p","quantity":"1","unit_price":"5"}]})",
       "valid_until"},
      {R"({"account_id":"no-such","currency":"VND","lines":[{"product_id":"p","quantity":"1","unit_price":"5"}]})",
       "account_id"},
      {a + R"("opportunity_id":"no-such","currency":"VND","lines":[{"product_id":"p","quantity":"1","unit_price":"5"}]})",
       "opportunity_id"},
      {a + R"("currency":"VND","lines":[{"product_id":"p","quantity":"1","unit_price":"5"}],"total":"5"})",
       "total"},
  };
  for (const Bad& b : bad) {
    Reply r = c.post("/v1/quotes", b.body);
    EXPECT_EQ(r.status, 422) << b.body << " → " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    std::set<std::string> fields;
    for (const auto& err : at(r.json, "errors").items)
      fields.insert(Reply::text_of(err, "field"));
    EXPECT_TRUE(fields.count(b.field)) << b.body << " → " << r.body;
  }
  EXPECT_EQ(c.post("/v1/quotes", R"({"account_id":)").status, 400);
  EXPECT_EQ(head(c), before);

  // Replacing lines: the same checks, and the quote's own currency.
  std::string id = c.create(
      "quotes",
      a + R"("currency":"EUR","lines":[{"product_id":"p","quantity":"1","unit_price":"5"}]})");
  before = head(c);
  Reply r = c.post(
      "/v1/quotes/" + id + "/replace-lines",
      R"({"lines":[{"product_id":"p","quantity":"1","unit_price":{"amount":"5","currency":"VND"}}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("lines[0].unit_price.currency"), std::string::npos);
  r = c.post("/v1/quotes/" + id + "/replace-lines", R"({"lines":[]})");
  EXPECT_EQ(r.status, 422) << r.body;
  r = c.post("/v1/quotes/" + id + "/replace-lines",
             R"({"lines":[{"product_id":"p","quantity":"-2","unit_price":"5"}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(c.post("/v1/quotes/" + id + "/send", R"({"when":"now"})").status, 422);
  EXPECT_EQ(head(c), before);
  r = c.post(
      "/v1/quotes/" + id + "/replace-lines",
      R"({"lines":[{"product_id":"p","quantity":"2","unit_price":{"amount":"5","currency":"EUR"}}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(amount(at(r.json, "totals"), "total"), "10.00");
}

TEST_F(CommerceTest, OrdersCancelAndListFilters) {
  CrmClient c(server_.port());
  std::string acme = c.create("accounts", R"({"name":"Acme"})");
  std::string beta = c.create("accounts", R"({"name":"Beta"})");
  std::vector<std::string> orders;
  for (int i = 0; i < 5; ++i) {
    std::string id = sent_quote(c, i < 3 ? acme : beta, std::to_string(100 * (i + 1)));
    Reply r = c.post("/v1/quotes/" + id + "/accept", "{}");
    ASSERT_EQ(r.status, 200) << r.body;
    orders.push_back(r.str("order_id"));
    c.last_position = r.num("position");
  }
  // Cancelling needs a reason (body or X-Reason).
  Reply r = c.post("/v1/orders/" + orders[0] + "/cancel", "{}");
  EXPECT_EQ(r.status, 422) << r.body;
  r = c.post("/v1/orders/" + orders[0] + "/cancel", R"({"reason":"customer withdrew"})",
             {{"If-Match", "\"0\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("version"), 1);
  r = c.post("/v1/orders/" + orders[1] + "/cancel", "{}", {{"X-Reason", "duplicate"}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string pos = at_pos(r);
  r = c.post("/v1/orders/" + orders[0] + "/cancel", R"({"reason":"again"})");
  EXPECT_EQ(r.status, 409);
  ASSERT_NE(r.json.find("allowed"), nullptr);
  EXPECT_EQ(c.post("/v1/orders/nope/cancel", R"({"reason":"x"})").status, 404);

  Reply o = c.get("/v1/orders/" + orders[1] + "?" + pos);
  EXPECT_EQ(o.str("status"), "cancelled");
  EXPECT_EQ(o.str("cancellation_reason"), "duplicate");

  EXPECT_EQ(c.get("/v1/orders?account_id=" + acme + "&" + pos).items().items.size(), 3u);
  EXPECT_EQ(c.get("/v1/orders?account_id=" + acme + "&status=open&" + pos).items().items.size(),
            1u);
  EXPECT_EQ(c.get("/v1/orders?status=cancelled&" + pos).items().items.size(), 2u);
  EXPECT_EQ(c.get("/v1/orders?account_id=" + beta + "&" + pos).items().items.size(), 2u);
  // By total, largest first: 2 × 500, 2 × 400, …
  r = c.get("/v1/orders?sort=-total&limit=2&" + pos);
  ASSERT_EQ(r.items().items.size(), 2u);
  EXPECT_EQ(amount(at(r.items().items[0], "totals"), "total"), "1000.00");
  EXPECT_EQ(amount(at(r.items().items[1], "totals"), "total"), "800.00");
  std::string cursor = r.str("next_cursor");
  ASSERT_NE(cursor, "null");
  r = c.get("/v1/orders?sort=-total&limit=10&cursor=" + cursor + "&" + pos);
  EXPECT_EQ(r.items().items.size(), 3u);
  EXPECT_EQ(r.str("next_cursor"), "null");

  // Quotes list: by account and status.
  EXPECT_EQ(c.get("/v1/quotes?account_id=" + beta + "&status=accepted&" + pos).items().items.size(),
            2u);
  EXPECT_EQ(c.get("/v1/quotes?status=draft&" + pos).items().items.size(), 0u);
  EXPECT_EQ(c.get("/v1/quotes?q=p-1&" + pos).items().items.size(), 5u);
  EXPECT_EQ(c.get("/v1/orders?colour=red").status, 400);
  EXPECT_EQ(c.get("/v1/quotes?sort=colour").status, 400);
}

TEST_F(CommerceTest, ContractsDocumentsRenewalAndTermination) {
  CrmClient c(server_.port());
  std::string account = c.create("accounts", R"({"name":"Contracting Co"})");
  std::string other = c.create("accounts", R"({"name":"Someone Else"})");
  std::string quote = sent_quote(c, account, "1000000");
  Reply r = c.post("/v1/quotes/" + quote + "/accept", "{}");
  ASSERT_EQ(r.status, 200);
  std::string order = r.str("order_id");

  r = c.post("/v1/contracts",
             R"({"account_id":")" + account + R"(","order_id":")" + order +
                 R"(","title":"Support 2026","starts_on":"2026-04-01","ends_on":"2027-03-31",)"
                 R"("renewal_on":"2027-02-28","value":{"amount":"120000000","currency":"VND"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  EXPECT_EQ(r.header("location"), "/v1/contracts/" + id);

  const std::string hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  r = c.post(
      "/v1/contracts/" + id + "/documents",
      R"({"name":"contract-signed.pdf","media_type":"application/pdf","size":48213,"sha256":")" +
          hash + R"("})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string document = r.str("document_id");
  EXPECT_FALSE(document.empty());
  EXPECT_EQ(r.num("version"), 1);
  // The same content again: 409; a bad hash or size: 422.
  std::uint64_t before = head(c);
  r = c.post("/v1/contracts/" + id + "/documents",
             R"({"name":"copy.pdf","media_type":"application/pdf","size":48213,"sha256":")" + hash +
                 R"("})");
  EXPECT_EQ(r.status, 409) << r.body;
  r = c.post("/v1/contracts/" + id + "/documents",
             R"({"name":"x.pdf","media_type":"application/pdf","size":1,"sha256":"abc"})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("\"sha256\""), std::string::npos);
  r = c.post(
      "/v1/contracts/" + id + "/documents",
      R"({"name":"x.pdf","media_type":"application/pdf","size":-1,"sha256":")" + hash + R"("})");
  EXPECT_EQ(r.status, 422) << r.body;
  r = c.post("/v1/contracts/" + id + "/documents", R"({"name":"x.pdf"})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(head(c), before);

  // Renewal moves the end date forward only.
  r = c.post("/v1/contracts/" + id + "/renew", R"({"ends_on":"2027-01-01"})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("\"ends_on\""), std::string::npos) << r.body;
  r = c.post("/v1/contracts/" + id + "/renew",
             R"({"ends_on":"2028-03-31","renewal_on":"2028-02-29"})", {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;

  Reply d = c.get("/v1/contracts/" + id + "?" + at_pos(r));
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(d.str("title"), "Support 2026");
  EXPECT_EQ(d.str("order_id"), order);
  EXPECT_EQ(d.str("starts_on"), "2026-04-01");
  EXPECT_EQ(d.str("ends_on"), "2028-03-31");
  EXPECT_EQ(d.str("renewal_on"), "2028-02-29");
  EXPECT_EQ(d.str("status"), "active");
  EXPECT_EQ(amount(d.json, "value"), "120000000.00");
  const auto& docs = at(d.json, "documents").items;
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(Reply::text_of(docs[0], "id"), document);
  EXPECT_EQ(Reply::text_of(docs[0], "name"), "contract-signed.pdf");
  EXPECT_EQ(Reply::text_of(docs[0], "media_type"), "application/pdf");
  EXPECT_EQ(Reply::text_of(docs[0], "size"), "48213");
  EXPECT_EQ(Reply::text_of(docs[0], "sha256"), hash);
  ASSERT_EQ(at(d.json, "renewals").items.size(), 1u);
  EXPECT_EQ(Reply::text_of(at(d.json, "renewals").items[0], "previous_ends_on"), "2027-03-31");

  // Termination needs a reason; a terminated contract changes no more.
  EXPECT_EQ(c.post("/v1/contracts/" + id + "/terminate", "{}").status, 422);
  r = c.post("/v1/contracts/" + id + "/terminate", R"({"reason":"breach of SLA"})");
  ASSERT_EQ(r.status, 200) << r.body;
  d = c.get("/v1/contracts/" + id + "?" + at_pos(r));
  EXPECT_EQ(d.str("status"), "terminated");
  EXPECT_EQ(d.str("termination_reason"), "breach of SLA");
  EXPECT_EQ(d.str("terminated_on").size(), 10u);
  r = c.post("/v1/contracts/" + id + "/renew", R"({"ends_on":"2029-03-31"})");
  EXPECT_EQ(r.status, 409) << r.body;
  ASSERT_NE(r.json.find("allowed"), nullptr);
  EXPECT_EQ(c.post("/v1/contracts/nope/renew", R"({"ends_on":"2029-03-31"})").status, 404);

  // Bad creates: 422 naming the API's fields, nothing written.
  before = head(c);
  std::string a = R"({"account_id":")" + account + R"(",)";
  struct Bad {
    std::string body, field;
  };
  std::vector<Bad> bad = {
      {a + R"("title":"T","starts_on":"2026-04-01","ends_on":"2026-03-01"})", "ends_on"},
      {a + R"("title":"T","starts_on":"2026-04-01","ends_on":"2027-03-01","renewal_on":"2027-04-01"})",
       "renewal_on"},
      {a + R"("title":"T","starts_on":"2026-04-01"})", "ends_on"},
      {a + R"("title":"T","starts_on":"01/04/2026","ends_on":"2027-03-01"})", "starts_on"},
      {a + R"("starts_on":"2026-04-01","ends_on":"2027-03-01"})", "title"},
      {a + R"("title":"T","starts_on":"2026-04-01","ends_on":"2027-03-01","value":"5"})", "value"},
      {a + R"("title":"T","starts_on":"2026-04-01","ends_on":"2027-03-01","order_id":"nope"})",
       "order_id"},
      {R"({"account_id":")" + other + R"(","order_id":")" + order +
           R"(","title":"T","starts_on":"2026-04-01","ends_on":"2027-03-01"})",
       "order_id"},
      {R"({"account_id":"nope","title":"T","starts_on":"2026-04-01","ends_on":"2027-03-01"})",
       "account_id"},
  };
  for (const Bad& b : bad) {
    Reply res = c.post("/v1/contracts", b.body);
    EXPECT_EQ(res.status, 422) << b.body << " → " << res.body;
    std::set<std::string> fields;
    for (const auto& err : at(res.json, "errors").items)
      fields.insert(Reply::text_of(err, "field"));
    EXPECT_TRUE(fields.count(b.field)) << b.body << " → " << res.body;
  }
  EXPECT_EQ(head(c), before);
}

TEST_F(CommerceTest, ContractListsExpiringSoon) {
  CrmClient c(server_.port());
  std::string acme = c.create("accounts", R"({"name":"Acme"})");
  std::string beta = c.create("accounts", R"({"name":"Beta"})");
  const char* ends[] = {"2026-06-30", "2026-07-15", "2026-07-31", "2026-12-31", "2027-06-30"};
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(c.create("contracts", R"({"account_id":")" + std::string(i % 2 ? beta : acme) +
                                            R"(","title":"Contract )" + std::to_string(i) +
                                            R"(","starts_on":"2026-01-01","ends_on":")" + ends[i] +
                                            "\"}"));
  }
  Reply t = c.post("/v1/contracts/" + ids[1] + "/terminate", R"({"reason":"merged"})");
  ASSERT_EQ(t.status, 200);
  std::string pos = at_pos(t);

  // Expiring soon: active contracts ending in July 2026, soonest first.
  Reply r = c.get(
      "/v1/contracts?status=active&ends_on_from=2026-07-01&ends_on_to=2026-07-31&sort=ends_on&" +
      pos);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.items().items.size(), 1u) << r.body;
  EXPECT_EQ(Reply::text_of(r.items().items[0], "id"), ids[2]);
  r = c.get("/v1/contracts?ends_on_to=2026-12-31&sort=ends_on&" + pos);
  std::vector<std::string> got;
  for (const auto& item : r.items().items)
    got.push_back(Reply::text_of(item, "ends_on"));
  EXPECT_EQ(got,
            (std::vector<std::string>{"2026-06-30", "2026-07-15", "2026-07-31", "2026-12-31"}));
  EXPECT_EQ(c.get("/v1/contracts?account_id=" + beta + "&" + pos).items().items.size(), 2u);
  EXPECT_EQ(
      c.get("/v1/contracts?account_id=" + acme + "&status=active&" + pos).items().items.size(), 3u);
  r = c.get("/v1/contracts?q=contract%204&" + pos);
  ASSERT_EQ(r.items().items.size(), 1u);
  EXPECT_EQ(Reply::text_of(r.items().items[0], "id"), ids[4]);
  r = c.get("/v1/contracts?sort=-ends_on&limit=2&" + pos);
  ASSERT_EQ(r.items().items.size(), 2u);
  EXPECT_EQ(Reply::text_of(r.items().items[0], "ends_on"), "2027-06-30");
}

}  // namespace
}  // namespace eventcrm::test
