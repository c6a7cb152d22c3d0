// Opportunities through the real server: create (the account must exist), change stage, edit,
// win, lose, reopen, assign; the invalid transitions (409 with what is allowed); If-Match races
// from 20 clients; idempotent creates; the list filters, sorts and pages; and the assignment
// notification switch (PUT /v1/settings/notifications).
#include <gtest/gtest.h>

#include <algorithm>
#include <latch>
#include <set>
#include <thread>

#include "crm_client.hpp"

namespace eventcrm::test {
namespace {

std::vector<std::string> strings(const api::json::Value* v) {
  std::vector<std::string> out;
  if (v != nullptr) {
    for (const auto& item : v->items)
      out.push_back(item.text);
  }
  return out;
}

std::string amount_of(const api::json::Value& v, std::string_view key) {
  const api::json::Value* m = v.find(key);
  return m == nullptr ? std::string() : Reply::text_of(*m, "amount");
}

std::size_t count_of(const std::string& body, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = body.find(needle); pos != std::string::npos; pos = body.find(needle, pos + 1))
    ++n;
  return n;
}

class OpportunitiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("opportunities");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  std::string account(CrmClient& c, const std::string& name = "Công ty Acme") {
    return c.create("accounts", R"({"name":")" + name + "\"}");
  }
  static std::string opportunity_body(const std::string& account_id, const std::string& extra,
                                      const std::string& amount = "100000") {
    return R"({"account_id":")" + account_id + R"(","name":"ERP rollout","amount":{"amount":")" +
           amount + R"(","currency":"VND"},"expected_close_date":"2026-06-30")" + extra + "}";
  }
  std::uint64_t head(CrmClient& c) {
    return std::stoull(c.get("/v1/events?limit=1").header("x-position"));
  }
  std::filesystem::path dir_;
  ServerProcess server_;
};

TEST_F(OpportunitiesTest, LifecycleThroughTheStages) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  Reply r = c.post("/v1/opportunities", opportunity_body(acc, R"(,"campaign_id":"camp-1")"));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  EXPECT_EQ(r.header("location"), "/v1/opportunities/" + id);
  EXPECT_EQ(r.header("etag"), "\"0\"");
  std::string base = "/v1/opportunities/" + id;
  auto at = [](const Reply& w) { return "?min_position=" + std::to_string(w.num("position")); };

  Reply doc = c.get(base + at(r));
  ASSERT_EQ(doc.status, 200) << doc.body;
  EXPECT_EQ(doc.str("stage"), "prospecting");
  EXPECT_EQ(doc.num("probability"), 10);
  EXPECT_EQ(doc.str("status"), "open");
  EXPECT_EQ(doc.num("version"), 0);
  EXPECT_EQ(doc.str("account_id"), acc);
  EXPECT_EQ(doc.str("owner_id"), "admin");
  EXPECT_EQ(doc.str("campaign_id"), "camp-1");
  EXPECT_EQ(amount_of(doc.json, "amount"), "100000.00");
  EXPECT_EQ(amount_of(doc.json, "weighted_amount"), "10000.00");
  EXPECT_EQ(doc.header("etag"), "\"0\"");

  // Stage changes take the stage's default probability unless one is given.
  r = c.post(base + "/change-stage", R"({"stage":"qualification"})", {{"If-Match", "\"0\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("version"), 1);
  r = c.post(base + "/change-stage", R"({"stage":"proposal","probability":60})");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = c.get(base + at(r));
  EXPECT_EQ(doc.str("stage"), "proposal");
  EXPECT_EQ(doc.num("probability"), 60);

  r = c.send("PATCH", base,
             R"({"name":"ERP rollout, phase 1","amount":{"amount":"250000.50","currency":"VND"},)"
             R"("expected_close_date":"2026-07-15","probability":70})");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = c.get(base + at(r));
  EXPECT_EQ(doc.str("name"), "ERP rollout, phase 1");
  EXPECT_EQ(amount_of(doc.json, "amount"), "250000.50");
  EXPECT_EQ(doc.str("expected_close_date"), "2026-07-15");
  EXPECT_EQ(doc.num("probability"), 70);
  EXPECT_EQ(amount_of(doc.json, "weighted_amount"), "175000.35");

  r = c.post(base + "/win", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = c.get(base + at(r));
  EXPECT_EQ(doc.str("status"), "won");
  EXPECT_EQ(doc.num("probability"), 100);
  EXPECT_EQ(doc.str("closed_on").size(), 10u) << doc.body;

  // Closed: only reopen and assign are allowed.
  for (const char* action : {"/win", "/change-stage", "/lose"}) {
    std::string body = std::string(action) == "/change-stage" ? R"({"stage":"proposal"})"
                       : std::string(action) == "/lose"       ? R"({"reason":"price"})"
                                                              : "{}";
    Reply bad = c.post(base + action, body);
    EXPECT_EQ(bad.status, 409) << action << " " << bad.body;
    EXPECT_EQ(strings(bad.json.find("allowed")), (std::vector<std::string>{"reopen", "assign"}))
        << bad.body;
  }
  Reply bad = c.send("PATCH", base, R"({"probability":5})");
  EXPECT_EQ(bad.status, 409) << bad.body;

  r = c.post(base + "/reopen", R"({"stage":"negotiation"})");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = c.get(base + at(r));
  EXPECT_EQ(doc.str("status"), "open");
  EXPECT_EQ(doc.str("stage"), "negotiation");
  EXPECT_EQ(doc.num("probability"), 75);
  EXPECT_EQ(doc.str("reopened_from"), "won");
  EXPECT_EQ(doc.str("closed_on"), "");

  // Open: reopen is not allowed; an unknown stage or the same stage is not a transition.
  const std::vector<std::string> open_actions = {"change-stage", "update", "win", "lose", "assign"};
  bad = c.post(base + "/reopen", "{}");
  EXPECT_EQ(bad.status, 409) << bad.body;
  EXPECT_EQ(strings(bad.json.find("allowed")), open_actions);
  bad = c.post(base + "/change-stage", R"({"stage":"negotiation"})");
  EXPECT_EQ(bad.status, 409) << bad.body;
  EXPECT_EQ(strings(bad.json.find("allowed")),
            (std::vector<std::string>{"prospecting", "qualification", "proposal", "won", "lost"}));
  bad = c.post(base + "/change-stage", R"({"stage":"dreaming"})");
  EXPECT_EQ(bad.status, 409) << bad.body;
  // Losing needs a reason, also through change-stage.
  EXPECT_EQ(c.post(base + "/lose", "{}").status, 422);
  EXPECT_EQ(c.post(base + "/lose", R"({"reason":""})").status, 422);
  bad = c.post(base + "/change-stage", R"({"stage":"lost"})");
  EXPECT_EQ(bad.status, 422) << bad.body;

  r = c.post(base + "/change-stage", R"({"stage":"lost","reason":"went with a competitor"})");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = c.get(base + at(r));
  EXPECT_EQ(doc.str("status"), "lost");
  EXPECT_EQ(doc.num("probability"), 0);
  EXPECT_EQ(doc.str("lost_reason"), "went with a competitor");
  r = c.post(base + "/reopen", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.post(base + "/lose", R"({"reason":"budget cut"})");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = c.get(base + at(r));
  EXPECT_EQ(doc.str("lost_reason"), "budget cut");
  EXPECT_EQ(doc.num("version"), r.num("version"));

  // The reasons are in the stream.
  Reply stream = c.get("/v1/streams/opportunity-" + id);
  EXPECT_NE(stream.body.find("budget cut"), std::string::npos);
  EXPECT_EQ(c.get("/v1/opportunities/nope").status, 404);
  EXPECT_EQ(c.post("/v1/opportunities/nope/win", "{}").status, 404);
}

TEST_F(OpportunitiesTest, BadInputIsRefusedAndWritesNothing) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  std::uint64_t before = head(c);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {opportunity_body("no-such-account", ""), "account_id"},
      {opportunity_body(acc, R"(,"contact_id":"no-such-contact")"), "contact_id"},
      {opportunity_body(acc, R"(,"colour":"red")"), "colour"},
      {opportunity_body(acc, R"(,"probability":101)"), "probability"},
      {opportunity_body(acc, R"(,"probability":"high")"), "probability"},
      {opportunity_body(acc, R"(,"stage":"won")"), "stage"},
      {opportunity_body(acc, "", "-5"), "amount"},
      {opportunity_body(acc, "", "1e5"), "amount.amount"},
      {R"({"account_id":")" + acc +
           R"(","name":"x","amount":{"amount":"1","currency":"dong"},"expected_close_date":"2026-06-30"})",
       "amount.currency"},
      {R"({"account_id":")" + acc +
           R"(","name":"x","amount":{"amount":"1","currency":"VND"},"expected_close_date":"2026-02-30"})",
       "expected_close_date"},
      {R"({"account_id":")" + acc + R"(","amount":{"amount":"1","currency":"VND"}})", "name"},
      {R"({"name":"x"})", "account_id"},
  };
  for (const auto& [body, field] : cases) {
    Reply r = c.post("/v1/opportunities", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    EXPECT_NE(r.body.find("\"" + field + "\""), std::string::npos) << field << ": " << r.body;
  }
  EXPECT_EQ(c.post("/v1/opportunities", R"({"name":)").status, 400);
  EXPECT_EQ(c.post("/v1/opportunities", opportunity_body(acc, ""), {{"If-Match", "x"}}).status,
            400);
  EXPECT_EQ(head(c), before);

  std::string id = c.create("opportunities", opportunity_body(acc, ""));
  before = head(c);
  std::string base = "/v1/opportunities/" + id;
  EXPECT_EQ(c.post(base + "/change-stage", "{}").status, 422);
  EXPECT_EQ(c.post(base + "/change-stage", R"({"stage":"proposal","probability":-1})").status, 422);
  EXPECT_EQ(c.post(base + "/assign", "{}").status, 422);
  EXPECT_EQ(c.post(base + "/assign", R"({"owner_id":""})").status, 422);
  EXPECT_EQ(c.post(base + "/win", R"({"amount":1})").status, 422);
  EXPECT_EQ(c.post(base + "/reopen", R"({"stage":7})").status, 422);
  EXPECT_EQ(c.send("PATCH", base, R"({"stage":"proposal"})").status, 422);
  EXPECT_EQ(c.send("PATCH", base, R"({"amount":"5"})").status, 422);
  EXPECT_EQ(c.post(base + "/change-stage", "[1]").status, 422);
  // A stale If-Match: 409 with the current version.
  Reply r = c.send("PATCH", base, R"({"name":"y"})", {{"If-Match", "\"7\""}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.num("current_version"), 0);
  EXPECT_EQ(head(c), before);
}

TEST_F(OpportunitiesTest, ConcurrentStageChangesWithOneIfMatchLetExactlyOneThrough) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  std::string id = c.create("opportunities", opportunity_body(acc, ""));
  constexpr int kClients = 20;
  std::vector<int> statuses(kClients, 0);
  std::vector<std::string> bodies(kClients);
  std::latch start(kClients);
  std::vector<std::thread> threads;
  const char* stages[] = {"qualification", "proposal", "negotiation"};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      std::string body = std::string(R"({"stage":")") + stages[i % 3] + "\"}";
      Connection conn(server_.port());
      std::string request =
          make_request("POST", "/v1/opportunities/" + id + "/change-stage", body,
                       {{"Content-Type", "application/json"}, {"If-Match", "\"0\""}});
      start.arrive_and_wait();
      if (conn.ok() && conn.send(request)) {
        if (auto r = conn.read_response()) {
          statuses[i] = r->status;
          bodies[i] = r->body;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  int ok = 0, conflict = 0;
  for (int i = 0; i < kClients; ++i) {
    if (statuses[i] == 200)
      ++ok;
    else if (statuses[i] == 409)
      ++conflict;
    else
      ADD_FAILURE() << statuses[i] << " " << bodies[i];
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(conflict, kClients - 1);
  Reply stream = c.get("/v1/streams/opportunity-" + id);
  EXPECT_EQ(count_of(stream.body, "opportunity.stage_changed.v1"), 1u) << stream.body;
}

TEST_F(OpportunitiesTest, IdempotentCreate) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  std::vector<std::pair<std::string, std::string>> key = {{"Idempotency-Key", "deal-7"}};
  Reply first = c.post("/v1/opportunities", opportunity_body(acc, ""), key);
  ASSERT_EQ(first.status, 201) << first.body;
  Reply again = c.post("/v1/opportunities", opportunity_body(acc, ""), key);
  EXPECT_EQ(again.str("id"), first.str("id"));
  EXPECT_EQ(again.num("position"), first.num("position"));
  Reply other = c.post("/v1/opportunities", opportunity_body(acc, "", "5"), key);
  EXPECT_EQ(other.status, 422) << other.body;
  Reply page = c.get("/v1/opportunities?min_position=" + std::to_string(first.num("position")));
  EXPECT_EQ(page.items().items.size(), 1u) << page.body;
}

TEST_F(OpportunitiesTest, ListFiltersSortsAndPages) {
  CrmClient c(server_.port());
  std::string a1 = account(c, "Alpha"), a2 = account(c, "Beta");
  const char* stages[] = {"prospecting", "qualification", "proposal", "negotiation"};
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    std::string body = R"({"account_id":")" + (i % 3 == 0 ? a2 : a1) + R"(","name":"Deal )" +
                       std::string(1, static_cast<char>('A' + (i * 5) % 12)) +
                       R"(","amount":{"amount":")" + std::to_string(1000 * (i + 1)) +
                       R"(","currency":"VND"},"expected_close_date":"2026-0)" +
                       std::to_string(1 + i % 6) + R"(-15","stage":")" + stages[i % 4] +
                       R"(","owner_id":")" + (i % 2 ? "rep-odd" : "rep-even") + "\"" +
                       (i == 5 ? R"(,"campaign_id":"spring")" : "") + "}";
    ids.push_back(c.create("opportunities", body));
  }
  Reply r = c.post("/v1/opportunities/" + ids[4] + "/win", "{}");
  ASSERT_EQ(r.status, 200);
  std::string at = "&min_position=" + std::to_string(r.num("position"));
  auto names = [](const Reply& page) {
    std::vector<std::string> out;
    for (const auto& item : page.items().items)
      out.push_back(Reply::text_of(item, "name"));
    return out;
  };

  r = c.get("/v1/opportunities?account_id=" + a2 + "&limit=100" + at);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.items().items.size(), 4u);
  r = c.get("/v1/opportunities?owner_id=rep-odd&stage=qualification" + at);
  EXPECT_EQ(r.items().items.size(), 3u) << r.body;  // i = 1, 5, 9
  r = c.get("/v1/opportunities?status=won" + at);
  ASSERT_EQ(r.items().items.size(), 1u);
  EXPECT_EQ(Reply::text_of(r.items().items[0], "id"), ids[4]);
  r = c.get("/v1/opportunities?status=open&stage=prospecting" + at);
  EXPECT_EQ(r.items().items.size(), 2u) << r.body;  // i = 0, 8 (4 was won)
  r = c.get("/v1/opportunities?campaign_id=spring" + at);
  EXPECT_EQ(r.items().items.size(), 1u);
  r = c.get("/v1/opportunities?q=deal%20c" + at);
  ASSERT_EQ(r.items().items.size(), 1u);
  EXPECT_EQ(Reply::text_of(r.items().items[0], "name"), "Deal C");
  r = c.get(
      "/v1/opportunities?expected_close_date_from=2026-02-01&expected_close_date_to=2026-03-31" +
      at);
  EXPECT_EQ(r.items().items.size(), 4u) << r.body;  // months 2 and 3: i = 1, 2, 7, 8

  r = c.get("/v1/opportunities?sort=-amount&limit=3" + at);
  ASSERT_EQ(r.items().items.size(), 3u);
  EXPECT_EQ(amount_of(r.items().items[0], "amount"), "12000.00");
  EXPECT_EQ(amount_of(r.items().items[2], "amount"), "10000.00");
  r = c.get("/v1/opportunities?sort=expected_close_date&limit=2" + at);
  EXPECT_EQ(Reply::text_of(r.items().items.at(0), "expected_close_date"), "2026-01-15");

  // Pages of 5 by name: every record once, in order.
  std::vector<std::string> all;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    r = c.get("/v1/opportunities?sort=name&limit=5" + at +
              (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& n : names(r))
      all.push_back(n);
    cursor = r.str("next_cursor");
    if (cursor == "null")
      break;
  }
  ASSERT_EQ(all.size(), 12u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 12u);

  EXPECT_EQ(c.get("/v1/opportunities?sort=colour").status, 400);
  EXPECT_EQ(c.get("/v1/opportunities?owner=x").status, 400);
  EXPECT_EQ(c.get("/v1/opportunities?limit=1000").status, 400);
  EXPECT_EQ(c.get("/v1/opportunities?min_position=999999999").status, 503);
}

TEST_F(OpportunitiesTest, AssignmentNotificationsFollowTheSetting) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  std::string id = c.create("opportunities", opportunity_body(acc, ""));
  std::string stream = "/v1/streams/opportunity-" + id;
  const std::string notice = "notification.requested.v1";

  Reply s = c.get("/v1/settings");
  ASSERT_EQ(s.status, 200) << s.body;
  const api::json::Value* n = s.json.find("notifications");
  ASSERT_NE(n, nullptr) << s.body;
  ASSERT_NE(n->find("assignment_enabled"), nullptr);
  EXPECT_TRUE(n->find("assignment_enabled")->boolean);

  // On (the default): assigning to someone else requests a notification for them.
  Reply r = c.post("/v1/opportunities/" + id + "/assign", R"({"owner_id":"rep-2"})");
  ASSERT_EQ(r.status, 200) << r.body;
  Reply events = c.get(stream);
  EXPECT_EQ(count_of(events.body, notice), 1u) << events.body;
  EXPECT_NE(events.body.find("rep-2"), std::string::npos);
  Reply doc =
      c.get("/v1/opportunities/" + id + "?min_position=" + std::to_string(r.num("position")));
  EXPECT_EQ(doc.str("owner_id"), "rep-2");
  EXPECT_EQ(doc.num("version"), r.num("version"));

  // Off: assignments append no notification.
  r = c.send("PUT", "/v1/settings/notifications", R"({"assignment_enabled":false})",
             {{"X-Reason", "quiet week"}});
  ASSERT_EQ(r.status, 200) << r.body;
  s = c.get("/v1/settings");
  EXPECT_FALSE(s.json.find("notifications")->find("assignment_enabled")->boolean) << s.body;
  EXPECT_EQ(s.header("etag"), "\"" + std::to_string(s.num("version")) + "\"");
  r = c.post("/v1/opportunities/" + id + "/assign", R"({"owner_id":"rep-3"})");
  ASSERT_EQ(r.status, 200) << r.body;
  events = c.get(stream);
  EXPECT_EQ(count_of(events.body, notice), 1u) << events.body;
  EXPECT_EQ(count_of(events.body, "opportunity.assigned.v1"), 2u);
  // A create for another owner is an assignment too.
  std::string quiet = c.create("opportunities", opportunity_body(acc, R"(,"owner_id":"rep-4")"));
  EXPECT_EQ(count_of(c.get("/v1/streams/opportunity-" + quiet).body, notice), 0u);

  // On again.
  r = c.send("PUT", "/v1/settings/notifications", R"({"assignment_enabled":true})",
             {{"If-Match", s.header("etag")}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.post("/v1/opportunities/" + id + "/assign", R"({"owner_id":"rep-5"})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(count_of(c.get(stream).body, notice), 2u);
  std::string loud = c.create("opportunities", opportunity_body(acc, R"(,"owner_id":"rep-4")"));
  EXPECT_EQ(count_of(c.get("/v1/streams/opportunity-" + loud).body, notice), 1u);

  // The settings stream records who switched it and why.
  Reply log = c.get("/v1/streams/settings-global");
  EXPECT_EQ(count_of(log.body, "settings.changed.v1"), 2u) << log.body;
  EXPECT_NE(log.body.find("quiet week"), std::string::npos);

  // Bad settings bodies change nothing.
  std::uint64_t before = head(c);
  for (const char* body : {R"({})", R"({"assignment_enabled":"yes"})",
                           R"({"assignment_enabled":true,"x":1})", R"([true])"}) {
    r = c.send("PUT", "/v1/settings/notifications", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
  }
  EXPECT_EQ(c.send("PUT", "/v1/settings/notifications", R"({"assignment_enabled":)").status, 400);
  r = c.send("PUT", "/v1/settings/notifications", R"({"assignment_enabled":false})",
             {{"If-Match", "\"0\""}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(head(c), before);
}

}  // namespace
}  // namespace eventcrm::test
