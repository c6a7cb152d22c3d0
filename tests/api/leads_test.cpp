// Leads through the real server: staff create with duplicate detection, qualify / disqualify /
// assign and their invalid transitions, conversion into account + contact + opportunity
// (atomic, idempotent), partner import, public web-form capture (urlencoded and JSON, honeypot,
// media types, rate limit) and the list queries.
#include <gtest/gtest.h>

#include <set>

#include "crm_client.hpp"

namespace eventcrm::test {
namespace {

class LeadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("leads");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  std::uint64_t head(CrmClient& c) {
    return std::stoull(c.get("/v1/events?limit=1").header("x-position"));
  }
  // A POST with its own Content-Type (CrmClient always sends JSON).
  Reply raw_post(const std::string& target, const std::string& body,
                 const std::string& content_type,
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Content-Type", content_type);
    auto r = http(server_.port(), "POST", target, body, std::move(headers));
    Reply out;
    if (!r) {
      ADD_FAILURE() << "POST " << target << ": no response";
      return out;
    }
    out.status = r->status;
    out.body = r->body;
    out.headers = r->headers;
    if (auto parsed = api::json::decode(r->body))
      out.json = std::move(*parsed);
    return out;
  }
  std::string qualified_lead(CrmClient& c, const std::string& email) {
    std::string id = c.create("leads", R"({"company":"Minh Phát","first_name":"Lan",)"
                                       R"("last_name":"Nguyễn","email":")" +
                                           email + R"(","campaign_id":"camp-7"})");
    Reply r = c.post("/v1/leads/" + id + "/qualify", "{}");
    EXPECT_EQ(r.status, 200) << r.body;
    return id;
  }
  std::filesystem::path dir_;
  ServerProcess server_;
};

std::string at(const Reply& r) {
  return "min_position=" + std::to_string(r.num("position"));
}

std::vector<std::string> allowed(const Reply& r) {
  std::vector<std::string> out;
  if (const api::json::Value* a = r.json.find("allowed"); a != nullptr) {
    for (const auto& v : a->items)
      out.push_back(v.text);
  }
  return out;
}

constexpr const char* kConvert =
    R"({"opportunity":{"name":"Minh Phát ERP","amount":{"amount":"250000000","currency":"VND"},)"
    R"("expected_close_date":"2026-12-31"}})";

TEST_F(LeadsTest, QualifyDisqualifyAssignAndInvalidTransitions) {
  CrmClient c(server_.port());
  Reply r = c.post("/v1/leads", R"({"company":"Acme","first_name":"An","last_name":"Lê",)"
                                R"("phone":"0912 000 111","utm":{"source":"fair"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  EXPECT_EQ(r.header("location"), "/v1/leads/" + id);
  r = c.get("/v1/leads/" + id + "?" + at(r));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("status"), "open");
  EXPECT_EQ(r.str("source"), "manual");
  EXPECT_EQ(r.str("name"), "An Lê");
  EXPECT_EQ(Reply::text_of(member(r.json, "utm"), "source"), "fair");

  r = c.post("/v1/leads/" + id + "/disqualify", "{}");
  EXPECT_EQ(r.status, 422) << r.body;  // the reason is required
  r = c.post("/v1/leads/" + id + "/disqualify", R"({"reason":"no budget"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.post("/v1/leads/" + id + "/disqualify", R"({"reason":"still none"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(allowed(r), (std::vector<std::string>{"qualify", "assign"}));
  r = c.get("/v1/leads/" + id + "?min_position=" + std::to_string(head(c)));
  EXPECT_EQ(r.str("status"), "disqualified");
  EXPECT_EQ(r.str("disqualify_reason"), "no budget");

  r = c.post("/v1/leads/" + id + "/qualify", "{}", {{"X-Reason", "budget found"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.post("/v1/leads/" + id + "/qualify", "{}");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(allowed(r), (std::vector<std::string>{"convert", "disqualify", "assign"}));
  r = c.post("/v1/leads/" + id + "/assign", R"({"owner_id":"rep-9"})", {{"If-Match", "\"0\""}});
  EXPECT_EQ(r.status, 409) << r.body;  // stale version
  r = c.post("/v1/leads/" + id + "/assign", R"({"owner_id":"rep-9"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/leads/" + id + "?" + at(r));
  EXPECT_EQ(r.str("status"), "qualified");
  EXPECT_EQ(r.str("owner_id"), "rep-9");
  EXPECT_EQ(r.json.find("disqualify_reason"), nullptr);

  EXPECT_EQ(c.get("/v1/leads/nope").status, 404);
  EXPECT_EQ(c.post("/v1/leads/nope/qualify", "{}").status, 404);
  std::uint64_t before = head(c);
  for (const char* body : {R"({"company":"X"})", R"({"last_name":"X"})",
                           R"({"company":"X","last_name":"Y","email":"nope"})",
                           R"({"company":"X","last_name":"Y","utm":{"colour":"red"}})",
                           R"({"company":"X","last_name":"Y","utm":"fair"})",
                           R"({"company":"X","last_name":"Y","extra":1})"}) {
    r = c.post("/v1/leads", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
  }
  EXPECT_EQ(c.post("/v1/leads/" + id + "/assign", "{}").status, 422);
  EXPECT_EQ(head(c), before);
}

TEST_F(LeadsTest, DuplicateEmailAmongLeadsIsRefusedUnlessForced) {
  CrmClient c(server_.port());
  Reply first = c.post("/v1/leads", R"({"company":"A","last_name":"B","email":"B@a.vn"})");
  ASSERT_EQ(first.status, 201);
  Reply r = c.post("/v1/leads", R"({"company":"A2","last_name":"B2","email":"b@A.vn"})");
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.str("existing_id"), first.str("id"));
  r = c.post("/v1/leads", R"({"company":"A2","last_name":"B2","email":"b@A.vn","force":true})");
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(LeadsTest, QualifyThenConvertReturnsThreeIdsThatResolve) {
  CrmClient c(server_.port());
  std::string id = qualified_lead(c, "lan@minhphat.vn");
  std::vector<std::pair<std::string, std::string>> key = {{"Idempotency-Key", "convert-1"}};
  Reply r = c.post("/v1/leads/" + id + "/convert", kConvert, key);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string account = r.str("account_id"), contact = r.str("contact_id"),
              opportunity = r.str("opportunity_id");
  ASSERT_FALSE(account.empty());
  ASSERT_FALSE(contact.empty());
  ASSERT_FALSE(opportunity.empty());
  EXPECT_EQ(r.str("id"), id);
  EXPECT_EQ(r.header("etag"), "\"" + std::to_string(r.num("version")) + "\"");
  std::string pos = at(r);

  // The same key: the same answer, nothing written.
  std::uint64_t before = head(c);
  Reply again = c.post("/v1/leads/" + id + "/convert", kConvert, key);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.str("account_id"), account);
  EXPECT_EQ(again.str("contact_id"), contact);
  EXPECT_EQ(again.str("opportunity_id"), opportunity);
  EXPECT_EQ(again.num("position"), r.num("position"));
  EXPECT_EQ(head(c), before);
  // Another key: the lead is converted already.
  Reply twice = c.post("/v1/leads/" + id + "/convert", kConvert, {{"Idempotency-Key", "other"}});
  EXPECT_EQ(twice.status, 409) << twice.body;

  Reply acc = c.get("/v1/accounts/" + account + "?" + pos);
  ASSERT_EQ(acc.status, 200) << acc.body;
  EXPECT_EQ(acc.str("name"), "Minh Phát");
  EXPECT_EQ(acc.str("lead_id"), id);
  Reply person = c.get("/v1/contacts/" + contact + "?" + pos);
  ASSERT_EQ(person.status, 200) << person.body;
  EXPECT_EQ(person.str("account_id"), account);
  EXPECT_EQ(person.str("email"), "lan@minhphat.vn");
  EXPECT_EQ(person.str("lead_id"), id);
  Reply deal = c.get("/v1/opportunities/" + opportunity + "?" + pos);
  if (deal.status == 404 && deal.str("type").ends_with("route-not-found")) {
    // The opportunities read model is not there yet: the stream is.
    deal = c.get("/v1/streams/opportunity-" + opportunity);
    ASSERT_EQ(deal.status, 200) << deal.body;
    EXPECT_NE(deal.body.find("opportunity.created.v1"), std::string::npos);
    EXPECT_NE(deal.body.find("Minh Phát ERP"), std::string::npos);
  } else {
    ASSERT_EQ(deal.status, 200) << deal.body;
    EXPECT_EQ(deal.str("name"), "Minh Phát ERP");
    EXPECT_EQ(deal.str("account_id"), account);
  }
  Reply lead = c.get("/v1/leads/" + id + "?" + pos);
  EXPECT_EQ(lead.str("status"), "converted");
  EXPECT_EQ(lead.str("account_id"), account);
  EXPECT_EQ(lead.str("contact_id"), contact);
  EXPECT_EQ(lead.str("opportunity_id"), opportunity);
  EXPECT_FALSE(lead.str("converted_at").empty());
  EXPECT_EQ(c.post("/v1/leads/" + id + "/assign", R"({"owner_id":"x"})").status, 409);
}

TEST_F(LeadsTest, ConvertRefusesUnqualifiedLeadsAndBadInput) {
  CrmClient c(server_.port());
  std::string open = c.create("leads", R"({"company":"Open Co","last_name":"Ng"})");
  std::uint64_t before = head(c);
  Reply r = c.post("/v1/leads/" + open + "/convert", kConvert);
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(allowed(r), (std::vector<std::string>{"qualify", "disqualify", "assign"}));
  EXPECT_EQ(c.post("/v1/leads/nope/convert", kConvert).status, 404);

  std::string id = qualified_lead(c, "q@minhphat.vn");
  before = head(c);
  for (
      const char* body :
      {R"({})", R"({"opportunity":{}})", R"({"opportunity":{"amount":"12"}})",
       R"({"opportunity":{"amount":{"amount":"1","currency":"dollars"}}})",
       R"({"opportunity":{"amount":{"amount":"1","currency":"VND"}}})",
       R"({"opportunity":{"amount":{"amount":"1","currency":"VND"},"expected_close_date":"2027-02-30"}})",
       R"({"opportunity":{"amount":{"amount":"1","currency":"VND"},"expected_close_date":"2027-01-31"},)"
       R"("account_id":"missing"})",
       R"({"opportunity":{"amount":{"amount":"1","currency":"VND"},"colour":"red"}})"}) {
    r = c.post("/v1/leads/" + id + "/convert", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
  }
  EXPECT_EQ(head(c), before);

  // Linking an existing account instead of creating one.
  std::string acme = c.create("accounts", R"({"name":"Acme"})");
  r = c.post("/v1/leads/" + id + "/convert",
             R"({"opportunity":{"amount":{"amount":"1000","currency":"VND"},)"
             R"("expected_close_date":"2027-01-31"},"account_id":")" +
                 acme + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("account_id"), acme);
  EXPECT_EQ(member(r.json, "account_created").boolean, false);
  Reply person = c.get("/v1/contacts/" + r.str("contact_id") + "?" + at(r));
  EXPECT_EQ(person.str("account_id"), acme);
}

TEST_F(LeadsTest, WebFormCapturesUrlencodedAndJson) {
  CrmClient c(server_.port());
  Reply r = raw_post("/v1/web-forms/contact-us/submissions",
                     "company=C%C3%B4ng+ty+Minh+Ph%C3%A1t&first_name=Lan&last_name=Nguy%E1%BB%85n&"
                     "email=lan%40minhphat.vn&utm_source=google&utm_medium=cpc&utm_campaign=spring&"
                     "utm_term=crm&utm_content=ad-1&website_url=",
                     "application/x-www-form-urlencoded", {{"X-Forwarded-For", "10.0.0.1"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  EXPECT_FALSE(id.empty());
  EXPECT_GT(r.num("position"), 0);
  r = c.get("/v1/leads/" + id + "?" + at(r));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("company"), "Công ty Minh Phát");
  EXPECT_EQ(r.str("last_name"), "Nguyễn");
  EXPECT_EQ(r.str("source"), "web-form:contact-us");
  EXPECT_EQ(r.str("status"), "open");
  const api::json::Value& utm = member(r.json, "utm");
  EXPECT_EQ(Reply::text_of(utm, "source"), "google");
  EXPECT_EQ(Reply::text_of(utm, "medium"), "cpc");
  EXPECT_EQ(Reply::text_of(utm, "campaign"), "spring");
  EXPECT_EQ(Reply::text_of(utm, "term"), "crm");
  EXPECT_EQ(Reply::text_of(utm, "content"), "ad-1");
  EXPECT_EQ(r.str("created_by"), "web-form:contact-us");

  // JSON, and the same email again: a public form never answers 409.
  r = raw_post("/v1/web-forms/contact-us/submissions",
               R"({"company":"Minh Phát","last_name":"Nguyễn","email":"LAN@minhphat.vn",)"
               R"("utm_source":"newsletter"})",
               "application/json; charset=utf-8", {{"X-Forwarded-For", "10.0.0.2"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string second = r.str("id");
  r = c.get("/v1/leads?source=web-form:contact-us&" + at(r));
  EXPECT_EQ(r.items().items.size(), 2u) << r.body;
  r = c.get("/v1/leads?source=web-form:other&" + at(r));
  EXPECT_EQ(r.items().items.size(), 0u) << r.body;
  EXPECT_NE(second, id);
}

TEST_F(LeadsTest, WebFormHoneypotMediaTypesAndBadInput) {
  CrmClient c(server_.port());
  std::uint64_t before = head(c);
  const std::string form = "/v1/web-forms/landing_2026/submissions";
  Reply r =
      raw_post(form, "company=Bot&last_name=Bot&email=bot%40spam.io&website_url=http%3A%2F%2Fx",
               "application/x-www-form-urlencoded", {{"X-Forwarded-For", "10.0.1.1"}});
  EXPECT_EQ(r.status, 202) << r.body;
  r = raw_post(form, R"({"company":"Bot","last_name":"Bot","website_url":"x"})", "application/json",
               {{"X-Forwarded-For", "10.0.1.2"}});
  EXPECT_EQ(r.status, 202) << r.body;

  struct Case {
    std::string body, type;
    int status;
  };
  std::vector<Case> cases = {
      {"company=X&last_name=Y&email=a%40b.vn", "text/plain", 415},
      {"company=X&last_name=Y&email=a%40b.vn", "multipart/form-data; boundary=x", 415},
      {"company=X&last_name=Y&email=a%40b.vn", "application/x-www-form-urlencoded; charset=latin1",
       415},
      {"company=X&last_name=Y", "application/x-www-form-urlencoded", 422},  // no email or phone
      {"company=X&email=a%40b.vn", "application/x-www-form-urlencoded", 422},
      {"company=X&last_name=Y&email=a%40b.vn&colour=red", "application/x-www-form-urlencoded", 422},
      {"company=X&last_name=Y&email=not-an-email", "application/x-www-form-urlencoded", 422},
      {"company=X&last_name=Y&email=a%40b.vn&email=c%40d.vn", "application/x-www-form-urlencoded",
       400},
      {"company=X%ZZ&last_name=Y", "application/x-www-form-urlencoded", 400},
      {"company=X%FF&last_name=Y&email=a%40b.vn", "application/x-www-form-urlencoded", 400},
      {R"({"company":"X","last_name":"Y","email":7})", "application/json", 422},
      {R"({"company":"X",)", "application/json", 400},
  };
  int client = 0;
  for (const Case& k : cases) {
    r = raw_post(form, k.body, k.type, {{"X-Forwarded-For", "10.0.2." + std::to_string(client++)}});
    EXPECT_EQ(r.status, k.status) << k.type << " " << k.body << " → " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
  }
  r = raw_post("/v1/web-forms/bad.key/submissions", "company=X&last_name=Y&email=a%40b.vn",
               "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 400) << r.body;
  r = raw_post("/v1/web-forms/" + std::string(65, 'k') + "/submissions",
               "company=X&last_name=Y&email=a%40b.vn", "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(head(c), before);  // nothing was written
}

TEST_F(LeadsTest, WebFormIsRateLimitedPerFormAndClient) {
  const std::string form = "/v1/web-forms/signup/submissions";
  auto submit = [&](const std::string& client, int i) {
    return raw_post(
        form,
        "company=Co+" + std::to_string(i) + "&last_name=L&phone=091234567" + std::to_string(i % 10),
        "application/x-www-form-urlencoded", {{"X-Forwarded-For", client + ", 10.9.9.9"}});
  };
  int accepted = 0;
  Reply r;
  for (int i = 0; i < 10; ++i) {
    r = submit("203.0.113.7", i);
    accepted += r.status == 201 ? 1 : 0;
  }
  EXPECT_EQ(accepted, 10) << r.body;
  r = submit("203.0.113.7", 10);
  ASSERT_EQ(r.status, 429) << r.body;
  int retry_after = std::stoi(r.header("retry-after"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 6);
  // Another client, or another form, has its own budget.
  EXPECT_EQ(submit("203.0.113.8", 11).status, 201);
  EXPECT_EQ(raw_post("/v1/web-forms/other/submissions", "company=C&last_name=L&phone=0912345670",
                     "application/x-www-form-urlencoded", {{"X-Forwarded-For", "203.0.113.7"}})
                .status,
            201);
}

TEST_F(LeadsTest, ImportReportsEachItemAndIsIdempotentPerItem) {
  CrmClient c(server_.port());
  std::string batch = R"({"leads":[
    {"company":"P0","last_name":"L0","email":"p0@partner.vn"},
    {"company":"P1","last_name":"L1","source":"partner-x","campaign_id":"camp-9"},
    {"company":"P2","email":"p2@partner.vn"},
    {"company":"P3","last_name":"L3","email":"P0@partner.vn"},
    "not an object",
    {"company":"P5","last_name":"L5","utm":{"source":"partner"}}
  ]})";
  std::vector<std::pair<std::string, std::string>> key = {{"Idempotency-Key", "batch-7"}};
  Reply r = c.post("/v1/leads/import", batch, key);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& results = member(r.json, "results").items;
  ASSERT_EQ(results.size(), 6u) << r.body;
  std::vector<int> statuses;
  for (const auto& item : results) {
    std::int64_t s = 0;
    member(item, "status").as_int64(s);
    statuses.push_back(static_cast<int>(s));
  }
  EXPECT_EQ(statuses, (std::vector<int>{201, 201, 422, 409, 422, 201}));
  EXPECT_EQ(r.num("created"), 3);
  EXPECT_EQ(r.num("failed"), 3);
  EXPECT_NE(member(results[2], "problem").find("errors"), nullptr);
  EXPECT_EQ(Reply::text_of(member(results[3], "problem"), "existing_id"),
            Reply::text_of(results[0], "id"));
  std::string pos = at(r);
  Reply page = c.get("/v1/leads?source=partner&" + pos);
  EXPECT_EQ(page.items().items.size(), 2u) << page.body;  // P0, P5
  page = c.get("/v1/leads?campaign_id=camp-9&" + pos);
  ASSERT_EQ(page.items().items.size(), 1u) << page.body;
  EXPECT_EQ(Reply::text_of(page.items().items[0], "source"), "partner-x");

  // The same batch again: every item answers as the first time; nothing new is written.
  std::uint64_t before = head(c);
  Reply again = c.post("/v1/leads/import", batch, key);
  ASSERT_EQ(again.status, 200) << again.body;
  const auto& replayed = member(again.json, "results").items;
  ASSERT_EQ(replayed.size(), 6u);
  for (std::size_t i : {0u, 1u, 5u})
    EXPECT_EQ(Reply::text_of(replayed[i], "id"), Reply::text_of(results[i], "id"));
  EXPECT_EQ(head(c), before);

  // The batch fixed and sent again with the same key: only the fixed item is new.
  std::string fixed = batch;
  fixed.replace(fixed.find(R"({"company":"P2",)"), 16, R"({"company":"P2","last_name":"L2",)");
  Reply third = c.post("/v1/leads/import", fixed, key);
  ASSERT_EQ(third.status, 200) << third.body;
  const auto& now = member(third.json, "results").items;
  EXPECT_EQ(Reply::text_of(now[0], "id"), Reply::text_of(results[0], "id"));
  EXPECT_EQ(Reply::text_of(now[2], "status"), "201");
  page = c.get("/v1/leads?limit=200&" + at(third));
  EXPECT_EQ(page.items().items.size(), 4u) << page.body;

  // Shape errors refuse the whole batch.
  before = head(c);
  EXPECT_EQ(c.post("/v1/leads/import", R"({"leads":[]})").status, 422);
  EXPECT_EQ(c.post("/v1/leads/import", R"({"leads":{}})").status, 422);
  EXPECT_EQ(c.post("/v1/leads/import", R"({"items":[]})").status, 422);
  std::string big = R"({"leads":[)";
  for (int i = 0; i < 1001; ++i)
    big += std::string(i ? "," : "") + R"({"company":"C","last_name":"L"})";
  big += "]}";
  EXPECT_EQ(c.post("/v1/leads/import", big).status, 422);
  EXPECT_EQ(head(c), before);
}

TEST_F(LeadsTest, ImportOfAFullBatch) {
  CrmClient c(server_.port());
  std::string big = R"({"leads":[)";
  for (int i = 0; i < 1000; ++i) {
    big += std::string(i ? "," : "") + R"({"company":"Partner )" + std::to_string(i) +
           R"(","last_name":"L","email":"p)" + std::to_string(i) + R"(@partner.vn"})";
  }
  big += "]}";
  Reply r = c.post("/v1/leads/import", big);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  EXPECT_EQ(r.num("created"), 1000);
  const auto& results = member(r.json, "results").items;
  ASSERT_EQ(results.size(), 1000u);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < results.size(); ++i) {
    std::int64_t index = -1;
    member(results[i], "index").as_int64(index);
    EXPECT_EQ(index, static_cast<std::int64_t>(i));
    ids.insert(Reply::text_of(results[i], "id"));
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST_F(LeadsTest, ListFiltersSortsAndRanges) {
  CrmClient c(server_.port());
  for (int i = 0; i < 9; ++i) {
    c.create("leads", R"({"company":"Company )" + std::to_string(10 + i) +
                          R"(","last_name":"L","owner_id":")" + (i % 3 == 0 ? "rep-a" : "rep-b") +
                          R"(","source":")" + (i % 2 == 0 ? "fair" : "ads") + "\"}");
  }
  std::string pos = "&min_position=" + std::to_string(c.last_position);
  Reply r = c.get("/v1/leads?owner_id=rep-a" + pos);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.items().items.size(), 3u);
  r = c.get("/v1/leads?owner_id=rep-a&source=fair" + pos);
  EXPECT_EQ(r.items().items.size(), 2u) << r.body;  // i = 0, 6
  r = c.get("/v1/leads?status=open&q=company%2014" + pos);
  ASSERT_EQ(r.items().items.size(), 1u) << r.body;
  EXPECT_EQ(Reply::text_of(r.items().items[0], "company"), "Company 14");
  r = c.get("/v1/leads?status=qualified" + pos);
  EXPECT_EQ(r.items().items.size(), 0u);
  r = c.get("/v1/leads?sort=company&limit=3" + pos);
  ASSERT_EQ(r.items().items.size(), 3u);
  EXPECT_EQ(Reply::text_of(r.items().items[0], "company"), "Company 10");
  r = c.get(
      "/v1/leads?created_at_from=2000-01-01T00:00:00.000Z&created_at_to=2999-01-01T00:00:00.000Z" +
      pos);
  EXPECT_EQ(r.items().items.size(), 9u) << r.body;
  r = c.get("/v1/leads?created_at_to=2000-01-01T00:00:00.000Z" + pos);
  EXPECT_EQ(r.items().items.size(), 0u) << r.body;
  EXPECT_EQ(c.get("/v1/leads?sort=colour").status, 400);
  EXPECT_EQ(c.get("/v1/leads?stage=x").status, 400);
}

}  // namespace
}  // namespace eventcrm::test
