// Marketing through the real server: the campaign wizard and lifecycle, tracking links (302 and
// clicks recorded in the log, also across a restart), responses in bulk (idempotent by id,
// unknown records refused), impressions, the segment preview honouring unsubscribes, and the
// ROI and funnel reports against figures computed here.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "crm_client.hpp"

namespace eventcrm::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> field_names(const Reply& r) {
  std::vector<std::string> out;
  if (const auto* errors = r.json.find("errors"))
    for (const auto& e : errors->items)
      out.push_back(Reply::text_of(e, "field"));
  return out;
}

class MarketingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("marketing");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  // The campaign's ROI item once `ready` holds for it (the report is updated within a second).
  api::json::Value roi_when(CrmClient& c, const std::string& campaign,
                            const std::function<bool(const api::json::Value&)>& ready,
                            const std::string& extra = {}) {
    api::json::Value last;
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < deadline) {
      Reply r = c.get("/v1/reports/campaign-roi?campaign=" + campaign + extra);
      if (r.status == 200 && r.items().items.size() == 1) {
        last = r.items().items[0];
        if (ready(last))
          return last;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "the ROI report did not reach the expected figures in 3 s";
    return last;
  }
  std::filesystem::path dir_;
  ServerProcess server_;
};

TEST_F(MarketingTest, WizardStepsLaunchAndLifecycle) {
  CrmClient c(server_.port());
  // Bad input writes nothing.
  Reply r = c.post("/v1/campaigns", R"({"name":"X","channel":"fax"})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(field_names(r), std::vector<std::string>{"channel"});
  EXPECT_EQ(c.post("/v1/campaigns", R"({"name":"X","channel":"email","colour":"red"})").status,
            422);
  EXPECT_EQ(c.post("/v1/campaigns", R"({"name":"X",)").status, 400);
  r = c.post("/v1/campaigns",
             R"({"name":"X","channel":"email","starts_on":"2026-05-01","ends_on":"2026-04-01"})");
  EXPECT_EQ(r.status, 422);

  std::string id = c.create("campaigns", R"({"name":"Spring webinar","channel":"webcast"})");
  ASSERT_FALSE(id.empty());
  // Launch is refused with every missing item listed.
  r = c.post("/v1/campaigns/" + id + "/launch", "{}");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(field_names(r),
            (std::vector<std::string>{"audience", "budget", "starts_on", "ends_on", "tracking"}));
  // Each step is validated on its own.
  r = c.post("/v1/campaigns/" + id + "/audience",
             R"({"segment":{"entity":"contacts","filters":[{"field":"email","value":"x"}]}})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(field_names(r), std::vector<std::string>{"segment.filters[0].field"});
  EXPECT_EQ(
      c.post("/v1/campaigns/" + id + "/audience",
             R"({"segment":{"entity":"contacts","filters":[{"field":"status","value":"active"}]}})")
          .status,
      200);
  r = c.post("/v1/campaigns/" + id + "/budget",
             R"({"budget":{"amount":"-5","currency":"VND"},"starts_on":"2026-01-01"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(field_names(r), (std::vector<std::string>{"budget.amount", "ends_on"}));
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/budget",
                   R"({"budget":{"amount":"50000000","currency":"VND"},)"
                   R"("starts_on":"2026-01-01","ends_on":"2099-12-31"})")
                .status,
            200);
  r = c.post("/v1/campaigns/" + id + "/review", "{}");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(field_names(r), std::vector<std::string>{"tracking"});
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/tracking", R"({"landing_url":"ftp://x"})").status,
            422);
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/tracking",
                   R"({"landing_url":"https://example.com/webinar","utm_source":"crm"})")
                .status,
            200);
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/review", "{}").status, 200);
  r = c.post("/v1/campaigns/" + id + "/launch", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/campaigns/" + id + "?min_position=" + std::to_string(r.num("position")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("status"), "active");  // it started in the past
  EXPECT_EQ(Reply::text_of(member(r.json, "segment"), "entity"), "contacts");
  // No wizard step after launch; the lifecycle goes on.
  r = c.post("/v1/campaigns/" + id + "/basics", R"({"name":"Y","channel":"email"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/start", "{}").status, 409);
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/complete", "{}").status, 200);
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/cancel", R"({"reason":"late"})").status, 409);
  // Stale If-Match.
  EXPECT_EQ(
      c.post("/v1/campaigns/" + id + "/costs",
             R"({"amount":{"amount":"1","currency":"VND"},"date":"2026-01-02","category":"media"})",
             {{"If-Match", "\"0\""}})
          .status,
      409);
  // Unknown campaign.
  EXPECT_EQ(c.get("/v1/campaigns/nope").status, 404);
  EXPECT_EQ(c.post("/v1/campaigns/nope/launch", "{}").status, 404);
  EXPECT_EQ(
      c.post("/v1/campaigns/nope/costs",
             R"({"amount":{"amount":"1","currency":"VND"},"date":"2026-01-02","category":"media"})")
          .status,
      404);
  // A scheduled one, then cancelled.
  std::string later =
      c.create("campaigns",
               R"({"name":"Autumn","channel":"event","budget":{"amount":"10","currency":"VND"},)"
               R"("starts_on":"2099-01-01","ends_on":"2099-02-01"})");
  c.post("/v1/campaigns/" + later + "/audience", R"({"segment":{"entity":"leads"}})");
  c.post("/v1/campaigns/" + later + "/tracking", R"({"landing_url":"https://example.com/a"})");
  r = c.post("/v1/campaigns/" + later + "/launch", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/campaigns/" + later + "?min_position=" + std::to_string(r.num("position")));
  EXPECT_EQ(r.str("status"), "scheduled");
  EXPECT_EQ(c.post("/v1/campaigns/" + later + "/cancel", "{}").status, 422);
  r = c.post("/v1/campaigns/" + later + "/cancel", R"({"reason":"budget cut"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/campaigns?status=cancelled&min_position=" + std::to_string(r.num("position")));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.items().items.size(), 1u);
  EXPECT_EQ(Reply::text_of(r.items().items[0], "id"), later);
}

TEST_F(MarketingTest, TrackingLinksRedirectAndRecordEveryClick) {
  CrmClient c(server_.port());
  std::string id = c.create("campaigns", R"({"name":"Ads","channel":"ads"})");
  Reply r = c.post("/v1/campaigns/" + id + "/tracking-links",
                   R"({"target_url":"https://shop.example/spring?utm_source=ads"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string code = r.str("code");
  ASSERT_GE(code.size(), 8u);
  EXPECT_TRUE(r.str("url").ends_with("/t/" + code)) << r.body;
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/tracking-links", R"({"target_url":"nope"})").status,
            422);
  EXPECT_EQ(
      c.post("/v1/campaigns/nope/tracking-links", R"({"target_url":"https://a.example"})").status,
      404);
  EXPECT_EQ(c.get("/t/unknowncode").status, 404);

  // Public: a redirect, with the click's user agent and referrer recorded.
  constexpr int kClicks = 25;
  for (int i = 0; i < kClicks; ++i) {
    Reply click = c.get("/t/" + code, {{"User-Agent", "TestBrowser/" + std::to_string(i)},
                                       {"Referer", "https://news.example/article"},
                                       {"Accept", "text/html"}});
    ASSERT_EQ(click.status, 302) << click.body;
    EXPECT_EQ(click.header("location"), "https://shop.example/spring?utm_source=ads");
  }
  auto item =
      roi_when(c, id, [&](const api::json::Value& v) { return number(v, "clicks") == kClicks; });
  EXPECT_EQ(number(item, "clicks"), kClicks);
  // Every click is in the log, batched into few events, with its details.
  r = c.get("/v1/streams/campaign_activity-" + id + "?limit=1000");
  ASSERT_EQ(r.status, 200) << r.body;
  std::size_t in_log = 0;
  bool details = false;
  for (const auto& e : r.items().items) {
    const auto& clicks = member(member(e, "data"), "clicks");
    in_log += clicks.items.size();
    for (const auto& k : clicks.items)
      details = details || (Reply::text_of(k, "user_agent").starts_with("TestBrowser/") &&
                            Reply::text_of(k, "referrer") == "https://news.example/article" &&
                            Reply::text_of(k, "code") == code);
  }
  EXPECT_EQ(in_log, static_cast<std::size_t>(kClicks));
  EXPECT_TRUE(details) << r.body;
  EXPECT_LT(r.items().items.size(), static_cast<std::size_t>(kClicks));

  // After a restart the link still redirects (the map is rebuilt from the log).
  server_.stop();
  ASSERT_TRUE(server_.start(dir_));
  CrmClient again(server_.port());
  r = again.get("/t/" + code);
  EXPECT_EQ(r.status, 302);
  item = roi_when(again, id,
                  [&](const api::json::Value& v) { return number(v, "clicks") == kClicks + 1; });
  EXPECT_EQ(number(item, "clicks"), kClicks + 1);
}

TEST_F(MarketingTest, ResponsesInBulkAreIdempotentAndChecked) {
  CrmClient c(server_.port());
  std::string account = c.create("accounts", R"({"name":"Bulk Co"})");
  std::vector<std::string> contacts;
  for (int i = 0; i < 5; ++i)
    contacts.push_back(c.create("contacts", R"({"account_id":")" + account +
                                                R"(","first_name":"A","last_name":"N)" +
                                                std::to_string(i) + "\"}"));
  std::string id = c.create("campaigns", R"({"name":"Mail","channel":"email"})");
  // 3,000 responses in one request, each with an id.
  constexpr int kResponses = 3000;
  const char* kinds[] = {"opened", "clicked", "registered"};
  std::string body = R"({"responses":[)";
  for (int i = 0; i < kResponses; ++i) {
    if (i > 0)
      body += ',';
    body += R"({"id":"m-)" + std::to_string(i) + R"(","kind":")" + kinds[i % 3] +
            R"(","contact_id":")" + contacts[static_cast<std::size_t>(i) % contacts.size()] +
            R"(","time":"2026-02-10T08:00:00Z"})";
  }
  body += "]}";
  Reply r = c.post("/v1/campaigns/" + id + "/responses", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("recorded"), kResponses);
  EXPECT_EQ(r.num("duplicates"), 0);
  const std::int64_t recorded_at = r.num("position");
  // The responses join the customer's history (the contacts' account).
  r = c.get("/v1/customers/" + account +
            "/history?type=campaign_activity.response_recorded.v1&limit=10&min_position=" +
            std::to_string(recorded_at));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.items().items.size(), 10u);
  // The same request again changes nothing.
  r = c.post("/v1/campaigns/" + id + "/responses", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("recorded"), 0);
  EXPECT_EQ(r.num("duplicates"), kResponses);
  // Bad input: nothing written.
  r = c.post("/v1/campaigns/" + id + "/responses",
             R"({"responses":[{"id":"x-1","kind":"opened","contact_id":")" + contacts[0] +
                 R"("},{"kind":"liked","contact_id":")" + contacts[0] + R"("}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(field_names(r), std::vector<std::string>{"responses[1].kind"});
  r = c.post("/v1/campaigns/" + id + "/responses",
             R"({"responses":[{"kind":"opened","contact_id":"no-such-contact"}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(field_names(r), std::vector<std::string>{"responses[0].contact_id"});
  r = c.post("/v1/campaigns/" + id + "/responses",
             R"({"responses":[{"kind":"opened","contact_id":"a","lead_id":"b"}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/responses", R"({"responses":[]})").status, 422);
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/responses", R"({"responses":{}})").status, 422);
  EXPECT_EQ(c.post("/v1/campaigns/nope/responses",
                   R"({"responses":[{"kind":"opened","contact_id":")" + contacts[0] + "\"}]}")
                .status,
            404);
  // Impressions in bulk, idempotent under an Idempotency-Key.
  r = c.post("/v1/campaigns/" + id + "/impressions", R"({"count":120000,"date":"2026-02-10"})",
             {{"Idempotency-Key", "imp-1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.post("/v1/campaigns/" + id + "/impressions", R"({"count":120000,"date":"2026-02-10"})",
             {{"Idempotency-Key", "imp-1"}});
  EXPECT_EQ(r.num("recorded"), 0);
  EXPECT_EQ(c.post("/v1/campaigns/" + id + "/impressions", R"({"count":0})").status, 422);

  auto item = roi_when(c, id, [&](const api::json::Value& v) {
    return number(v, "impressions") == 120000 &&
           number(member(v, "responses"), "opened") == kResponses / 3;
  });
  const auto& by_kind = member(item, "responses");
  EXPECT_EQ(number(by_kind, "opened"), kResponses / 3);
  EXPECT_EQ(number(by_kind, "clicked"), kResponses / 3);
  EXPECT_EQ(number(by_kind, "registered"), kResponses / 3);
  EXPECT_EQ(number(by_kind, "unsubscribed"), 0);
  EXPECT_EQ(Reply::text_of(item, "roi"), "null");  // no cost yet
  // A period outside the responses' day shows none of them.
  r = c.get("/v1/reports/campaign-roi?campaign=" + id + "&from=2026-03-01&to=2026-03-31");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(number(member(r.items().items.at(0), "responses"), "opened"), 0);
  EXPECT_EQ(c.get("/v1/reports/campaign-roi?from=2026-13-01").status, 400);
  EXPECT_EQ(c.get("/v1/reports/campaign-roi?from=2026-03-02&to=2026-03-01").status, 400);
  EXPECT_EQ(c.get("/v1/reports/campaign-roi?bogus=1").status, 400);
  EXPECT_EQ(c.get("/v1/reports/campaign-roi?campaign=nope").status, 404);
}

TEST_F(MarketingTest, SegmentPreviewLeavesOutUnsubscribed) {
  CrmClient c(server_.port());
  std::string account = c.create("accounts", R"({"name":"Segment Co"})");
  std::string other = c.create("accounts", R"({"name":"Other Co"})");
  std::vector<std::string> contacts;
  for (int i = 0; i < 4; ++i)
    contacts.push_back(c.create("contacts", R"({"account_id":")" + account + R"(","last_name":"S)" +
                                                std::to_string(i) + "\"}"));
  c.create("contacts", R"({"account_id":")" + other + R"(","last_name":"Elsewhere"})");
  std::string id = c.create("campaigns", R"({"name":"Newsletter","channel":"newsletter"})");
  EXPECT_EQ(c.get("/v1/campaigns/" + id +
                  "/segment-preview?min_position=" + std::to_string(c.last_position))
                .status,
            422);  // no segment yet
  ASSERT_EQ(c.post("/v1/campaigns/" + id + "/audience",
                   R"({"segment":{"entity":"contacts","filters":[{"field":"account_id","value":")" +
                       account + "\"}]}}")
                .status,
            200);
  Reply r = c.get("/v1/campaigns/" + id +
                  "/segment-preview?limit=2&min_position=" + std::to_string(c.last_position + 1));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("size"), 4);
  EXPECT_EQ(r.items().items.size(), 2u);
  r = c.post("/v1/campaigns/" + id + "/responses",
             R"({"responses":[{"kind":"unsubscribed","contact_id":")" + contacts[1] + "\"}]}");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/campaigns/" + id +
            "/segment-preview?limit=10&min_position=" + std::to_string(r.num("position")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("size"), 3);
  for (const auto& m : r.items().items)
    EXPECT_NE(Reply::text_of(m, "id"), contacts[1]);
  EXPECT_EQ(c.get("/v1/campaigns/nope/segment-preview").status, 404);
  EXPECT_EQ(c.get("/v1/campaigns/" + id + "/segment-preview?limit=x").status, 400);
}

// The acceptance scenario: costs, clicks, responses, leads converted into opportunities, some
// won; ROI and funnel equal what is computed here.
TEST_F(MarketingTest, RoiAndFunnelMatchIndependentFigures) {
  CrmClient c(server_.port());
  std::string id = c.create("campaigns", R"({"name":"Expo 2026","channel":"event",)"
                                         R"("budget":{"amount":"10000000","currency":"VND"}})");
  // Costs: 1,500,000 + 700,000.50 VND.
  for (
      const char* cost :
      {R"({"amount":{"amount":"1500000","currency":"VND"},"date":"2026-03-01","category":"booth"})",
       R"({"amount":{"amount":"700000.50","currency":"VND"},"date":"2026-03-02","category":"print"})"}) {
    Reply r = c.post("/v1/campaigns/" + id + "/costs", cost);
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_FALSE(r.str("cost_id").empty());
  }
  EXPECT_EQ(
      c.post("/v1/campaigns/" + id + "/costs",
             R"({"amount":{"amount":"5","currency":"USD"},"date":"2026-03-02","category":"x"})")
          .status,
      422);
  const std::int64_t cost_cents = 150000000 + 70000050;
  // Clicks.
  Reply r = c.post("/v1/campaigns/" + id + "/tracking-links",
                   R"({"target_url":"https://expo.example/"})");
  ASSERT_EQ(r.status, 201);
  const std::string code = r.str("code");
  for (int i = 0; i < 7; ++i)
    ASSERT_EQ(c.get("/t/" + code).status, 302);
  // Leads from the campaign: 4; 3 qualified; 2 converted; another opportunity created directly.
  std::vector<std::string> leads;
  for (int i = 0; i < 4; ++i)
    leads.push_back(c.create("leads", R"({"company":"Visitor )" + std::to_string(i) +
                                          R"( Ltd","last_name":"V","campaign_id":")" + id + "\"}"));
  c.create("leads", R"({"company":"Walk-in","last_name":"W"})");  // no campaign
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(c.post("/v1/leads/" + leads[static_cast<std::size_t>(i)] + "/qualify", "{}").status,
              200);
  std::vector<std::string> opps;
  std::string account;
  const char* amounts[] = {"120000000.00", "30000000.00"};
  for (int i = 0; i < 2; ++i) {
    r = c.post("/v1/leads/" + leads[static_cast<std::size_t>(i)] + "/convert",
               R"({"opportunity":{"amount":{"amount":")" + std::string(amounts[i]) +
                   R"(","currency":"VND"},"expected_close_date":"2026-12-01"}})");
    ASSERT_EQ(r.status, 200) << r.body;
    opps.push_back(r.str("opportunity_id"));
    account = r.str("account_id");
  }
  std::string direct = c.create(
      "opportunities",
      R"({"account_id":")" + account +
          R"(","name":"Expo upsell","amount":)"
          R"({"amount":"50000000.00","currency":"VND"},"expected_close_date":"2026-12-01",)"
          R"("stage":"proposal","campaign_id":")" +
          id + "\"}");
  // Responses: 6 opened, 2 registered from the converted contacts' leads.
  std::string body = R"({"responses":[)";
  for (int i = 0; i < 8; ++i) {
    body += std::string(i ? "," : "") + R"({"id":"resp-)" + std::to_string(i) + R"(","kind":")" +
            (i < 6 ? "opened" : "registered") + R"(","lead_id":")" +
            leads[static_cast<std::size_t>(i) % leads.size()] + "\"}";
  }
  body += "]}";
  r = c.post("/v1/campaigns/" + id + "/responses", body);
  ASSERT_EQ(r.status, 200) << r.body;
  // The first converted deal is won; the second stays at the first stage (10 %), the direct one
  // at proposal (50 %).
  r = c.post("/v1/opportunities/" + opps[0] + "/win", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string after_win = "&min_position=" + std::to_string(r.num("position"));

  // Independently: won 120,000,000.00; cost 2,200,000.50.
  const std::int64_t won_cents = 12000000000;
  const std::int64_t pipeline_cents = 3000000000 + 5000000000;
  const std::int64_t weighted_cents = 3000000000 / 10 + 5000000000 / 2;
  auto cents = [](std::int64_t v) {
    return std::to_string(v / 100) + "." + (v % 100 < 10 ? "0" : "") + std::to_string(v % 100);
  };
  // ROI = (won − cost) / cost to 4 decimals, rounded half up (both positive).
  const std::int64_t roi_units =
      ((won_cents - cost_cents) * 10000 * 2 + cost_cents) / (2 * cost_cents);
  const std::string roi = std::to_string(roi_units / 10000) + "." + [&] {
    std::string f = std::to_string(roi_units % 10000);
    return std::string(4 - f.size(), '0') + f;
  }();
  // Cost per lead: 2,200,000.50 / 4 = 550,000.125 → 550,000.13.
  const std::int64_t cpl_cents = (cost_cents * 2 + 4) / 8;

  auto item = roi_when(c, id, [&](const api::json::Value& v) {
    return amount(v, "won_revenue") == cents(won_cents) && number(v, "clicks") == 7 &&
           number(v, "opportunities") == 3 && number(member(v, "responses"), "opened") == 6;
  });
  EXPECT_EQ(Reply::text_of(item, "campaign_id"), id);
  EXPECT_EQ(amount(item, "cost"), cents(cost_cents));
  EXPECT_EQ(Reply::text_of(member(item, "cost"), "currency"), "VND");
  EXPECT_EQ(number(item, "clicks"), 7);
  EXPECT_EQ(number(member(item, "responses"), "opened"), 6);
  EXPECT_EQ(number(member(item, "responses"), "registered"), 2);
  EXPECT_EQ(number(item, "leads"), 4);
  EXPECT_EQ(number(item, "opportunities"), 3);
  EXPECT_EQ(amount(item, "pipeline"), cents(pipeline_cents));
  EXPECT_EQ(amount(item, "weighted_pipeline"), cents(weighted_cents));
  EXPECT_EQ(amount(item, "won_revenue"), cents(won_cents));
  EXPECT_EQ(Reply::text_of(item, "roi"), roi);
  EXPECT_EQ(amount(item, "cost_per_lead"), cents(cpl_cents));
  const auto& links = member(item, "links");
  EXPECT_EQ(Reply::text_of(links, "leads"), "/v1/leads?campaign_id=" + id);
  // The drill-downs list the records behind the figures.
  r = c.get(Reply::text_of(links, "leads") + after_win);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.items().items.size(), 4u);
  r = c.get(Reply::text_of(links, "won_revenue") + after_win);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.items().items.size(), 1u);
  EXPECT_EQ(Reply::text_of(r.items().items[0], "id"), opps[0]);
  r = c.get(Reply::text_of(links, "opportunities") + after_win);
  EXPECT_EQ(r.items().items.size(), 3u);
  EXPECT_EQ(c.get(Reply::text_of(links, "clicks")).status, 200);
  r = c.get(Reply::text_of(links, "cost") + "?" + after_win.substr(1));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("cost_entries"), 2);
  EXPECT_EQ(member(r.json, "costs").items.size(), 2u);
  EXPECT_EQ(r.num("tracking_link_count"), 1);

  // Funnel: responses 8 → leads 4 → qualified 3 → opportunities 3 → won 1.
  r = c.get("/v1/reports/funnel?campaign=" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& stages = member(r.items().items.at(0), "stages");
  ASSERT_EQ(stages.items.size(), 5u);
  const std::int64_t counts[] = {8, 4, 3, 3, 1};
  const char* rates[] = {"null", "0.5000", "0.7500", "1.0000", "0.3333"};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(number(stages.items[i], "count"), counts[i]) << i;
    EXPECT_EQ(Reply::text_of(stages.items[i], "conversion_rate"), rates[i]) << i;
  }
  EXPECT_EQ(Reply::text_of(r.items().items.at(0), "overall_conversion_rate"), "0.1250");
  EXPECT_EQ(c.get("/v1/reports/funnel?from=yesterday").status, 400);
  EXPECT_EQ(c.get("/v1/reports/funnel?campaign=nope").status, 404);
  r = c.get("/v1/reports/funnel");  // every campaign
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.items().items.size(), 1u);

  // Reopening the won deal takes its revenue out again.
  ASSERT_EQ(c.post("/v1/opportunities/" + opps[0] + "/reopen", "{}").status, 200);
  item = roi_when(c, id,
                  [&](const api::json::Value& v) { return amount(v, "won_revenue") == "0.00"; });
  EXPECT_EQ(amount(item, "pipeline"), cents(pipeline_cents + won_cents));
}

// First touch (the default): an opportunity counts for its campaign_id. Last touch: for the
// campaign its contact last responded to before it was created.
TEST_F(MarketingTest, LastTouchAttributionIsAnOption) {
  CrmClient c(server_.port());
  std::string a = c.create("campaigns", R"({"name":"A","channel":"email"})");
  std::string b = c.create("campaigns", R"({"name":"B","channel":"sms"})");
  std::string account = c.create("accounts", R"({"name":"Touch Co"})");
  std::string contact =
      c.create("contacts", R"({"account_id":")" + account + R"(","last_name":"T"})");
  Reply r = c.post("/v1/campaigns/" + b + "/responses",
                   R"({"responses":[{"kind":"clicked","contact_id":")" + contact + "\"}]}");
  ASSERT_EQ(r.status, 200) << r.body;
  // The response must be folded before the opportunities are, as in any real sequence.
  ASSERT_EQ(c.get("/v1/reports/campaign-roi?campaign=" + b +
                  "&min_position=" + std::to_string(r.num("position")))
                .status,
            200);
  auto opp = [&](const std::string& amount, const std::string& campaign) {
    return c.create("opportunities",
                    R"({"account_id":")" + account + R"(","contact_id":")" + contact +
                        R"(","name":"Deal","amount":{"amount":")" + amount +
                        R"(","currency":"VND"},"expected_close_date":"2026-12-01")" +
                        (campaign.empty() ? "" : R"(,"campaign_id":")" + campaign + "\"") + "}");
  };
  std::string with_a = opp("10000000.00", a);
  opp("5000000.00", "");
  ASSERT_EQ(c.post("/v1/opportunities/" + with_a + "/win", "{}").status, 200);

  auto first_a = roi_when(
      c, a, [](const api::json::Value& v) { return amount(v, "won_revenue") == "10000000.00"; });
  EXPECT_EQ(number(first_a, "opportunities"), 1);
  auto first_b = roi_when(c, b, [](const api::json::Value&) { return true; });
  EXPECT_EQ(number(first_b, "opportunities"), 0);
  EXPECT_EQ(amount(first_b, "won_revenue"), "0.00");

  auto last_b = roi_when(
      c, b, [](const api::json::Value& v) { return number(v, "opportunities") == 2; },
      "&attribution=last_touch");
  EXPECT_EQ(amount(last_b, "won_revenue"), "10000000.00");
  EXPECT_EQ(amount(last_b, "pipeline"), "5000000.00");
  EXPECT_EQ(amount(last_b, "weighted_pipeline"), "500000.00");
  EXPECT_EQ(number(member(last_b, "responses"), "clicked"), 1);
  auto last_a = roi_when(
      c, a, [](const api::json::Value&) { return true; }, "&attribution=last_touch");
  EXPECT_EQ(number(last_a, "opportunities"), 0);
  EXPECT_EQ(c.get("/v1/reports/campaign-roi?attribution=middle").status, 400);
}

}  // namespace
}  // namespace eventcrm::test
