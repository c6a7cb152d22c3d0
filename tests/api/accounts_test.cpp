// Accounts through the real server: the command envelope every collection shares (201 +
// Location + ETag, If-Match, Idempotency-Key, reason, strict bodies) and the list queries
// (filters, text search, sort, cursor pagination, read-your-writes).
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "crm_client.hpp"

namespace eventcrm::test {
namespace {

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("accounts");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  ServerProcess server_;
};

TEST_F(AccountsTest, CreateEditAssignArchive) {
  CrmClient c(server_.port());
  Reply r = c.post("/v1/accounts", R"({"name":"Công ty Acme","email":"sales@acme.vn"})",
                   {{"X-Reason", "trade fair"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  EXPECT_EQ(r.header("location"), "/v1/accounts/" + id);
  EXPECT_EQ(r.header("etag"), "\"0\"");
  EXPECT_EQ(r.num("version"), 0);
  std::string pos = std::to_string(r.num("position"));

  r = c.get("/v1/accounts/" + id + "?min_position=" + pos);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("name"), "Công ty Acme");
  EXPECT_EQ(r.str("status"), "active");
  EXPECT_EQ(r.header("etag"), "\"0\"");
  EXPECT_FALSE(r.header("x-position").empty());

  r = c.send("PATCH", "/v1/accounts/" + id, R"({"phone":"+84 28 1234 5678"})",
             {{"If-Match", "\"0\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("version"), 1);

  // A stale If-Match: 409 with the current version, nothing written.
  r = c.send("PATCH", "/v1/accounts/" + id, R"({"industry":"retail"})", {{"If-Match", "\"0\""}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.num("current_version"), 1);

  r = c.post("/v1/accounts/" + id + "/assign", R"({"owner_id":"rep-7"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.post("/v1/accounts/" + id + "/archive", R"({"reason":"closed down"})");
  ASSERT_EQ(r.status, 200) << r.body;
  pos = std::to_string(r.num("position"));

  r = c.get("/v1/accounts/" + id + "?min_position=" + pos);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.str("owner_id"), "rep-7");
  EXPECT_EQ(r.str("status"), "archived");
  EXPECT_EQ(r.str("phone"), "+84 28 1234 5678");
  EXPECT_EQ(r.num("version"), 3);

  // The reason and the actor are in the event metadata.
  r = c.get("/v1/streams/account-" + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("trade fair"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("closed down"), std::string::npos);

  r = c.get("/v1/accounts/nope");
  EXPECT_EQ(r.status, 404);
  r = c.post("/v1/accounts/nope/archive", "{}");
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_F(AccountsTest, AsOfRebuildsTheRecordFromItsStream) {
  CrmClient c(server_.port());
  Reply r = c.post("/v1/accounts", R"({"name":"Old Name Co"})");
  ASSERT_EQ(r.status, 201);
  std::string id = r.str("id");
  std::string created_at = std::to_string(r.num("position"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  r = c.send("PATCH", "/v1/accounts/" + id, R"({"name":"New Name Co"})");
  ASSERT_EQ(r.status, 200);
  std::string renamed_at = std::to_string(r.num("position"));

  r = c.get("/v1/accounts/" + id + "?as_of=" + created_at);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("name"), "Old Name Co");
  EXPECT_EQ(r.header("etag"), "\"0\"");
  EXPECT_EQ(r.header("x-position"), created_at);
  r = c.get("/v1/accounts/" + id + "?as_of=" + renamed_at);
  EXPECT_EQ(r.str("name"), "New Name Co");
  r = c.get("/v1/accounts/" + id + "?as_of=2020-01-01T00:00:00Z");
  EXPECT_EQ(r.status, 404) << r.body;
  r = c.get("/v1/accounts/" + id + "?as_of=2999-01-01T00:00:00Z");
  EXPECT_EQ(r.str("name"), "New Name Co");
  EXPECT_EQ(c.get("/v1/accounts/" + id + "?as_of=yesterday").status, 400);
}

TEST_F(AccountsTest, BadInputIsRefusedAndChangesNothing) {
  CrmClient c(server_.port());
  std::uint64_t before = std::stoull(c.get("/v1/events?limit=1").header("x-position"));
  for (const char* body : {R"({"nam":"typo"})", R"({"name":42})", R"({})", R"([1,2])",
                           R"({"name":"a","owner_id":{}})"}) {
    Reply r = c.post("/v1/accounts", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
  }
  Reply r = c.post("/v1/accounts", R"({"name":)");
  EXPECT_EQ(r.status, 400);
  r = c.post("/v1/accounts", R"({"name":"x"})", {{"If-Match", "three"}});
  EXPECT_EQ(r.status, 400);
  std::uint64_t after = std::stoull(c.get("/v1/events?limit=1").header("x-position"));
  EXPECT_EQ(before, after);
}

TEST_F(AccountsTest, RawAppendsToRecordStreamsMustBeTheModulesEvents) {
  CrmClient c(server_.port());
  // Unknown types, another module's types and bad payloads would stop the read models.
  Reply r = c.post("/v1/streams/account-raw1",
                   R"({"events":[{"type":"account.opened.v1","data":{"name":"x"}}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  r = c.post("/v1/streams/account-raw1",
             R"({"events":[{"type":"lead.qualified.v1","data":{"lead_id":"l"}}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  r = c.post("/v1/streams/account-raw1",
             R"({"events":[{"type":"account.created.v1","data":{"account_id":"raw1"}}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(c.get("/v1/streams/account-raw1").status, 404);
  // A payload the module's codec accepts goes in, and the read model shows it.
  r = c.post("/v1/streams/account-raw1",
             R"({"events":[{"type":"account.created.v1","data":{"account_id":"raw1","profile":)"
             R"({"name":"Imported"},"owner_id":"u1","created_by":"import","created_at":)"
             R"("2026-01-02T03:04:05.000Z"}}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = c.get("/v1/accounts/raw1?min_position=" + std::to_string(r.num("position")));
  EXPECT_EQ(r.str("name"), "Imported") << r.body;
  // Streams of other categories take any event.
  EXPECT_EQ(c.post("/v1/streams/ledger-1", R"({"events":[{"type":"x.y.v1","data":{}}]})").status,
            201);
}

TEST_F(AccountsTest, IdempotencyKeyReplaysTheFirstResult) {
  CrmClient c(server_.port());
  std::vector<std::pair<std::string, std::string>> key = {{"Idempotency-Key", "import-42"}};
  Reply first = c.post("/v1/accounts", R"({"name":"Once Ltd"})", key);
  ASSERT_EQ(first.status, 201);
  Reply again = c.post("/v1/accounts", R"({"name":"Once Ltd"})", key);
  EXPECT_EQ(again.str("id"), first.str("id"));
  EXPECT_EQ(again.num("position"), first.num("position"));
  Reply other = c.post("/v1/accounts", R"({"name":"Twice Ltd"})", key);
  EXPECT_EQ(other.status, 422) << other.body;
  Reply page = c.get("/v1/accounts?min_position=" + std::to_string(first.num("position")));
  EXPECT_EQ(page.items().items.size(), 1u) << page.body;
}

TEST_F(AccountsTest, ListFiltersSortsAndPages) {
  CrmClient c(server_.port());
  for (int i = 0; i < 25; ++i) {
    std::string owner = i % 2 == 0 ? "rep-a" : "rep-b";
    c.create("accounts", R"({"name":"Company )" + std::to_string(100 + i) + R"(","owner_id":")" +
                             owner + R"(","industry":")" + (i % 5 == 0 ? "retail" : "it") + "\"}");
  }
  std::string at = "&min_position=" + std::to_string(c.last_position);

  Reply r = c.get("/v1/accounts?owner_id=rep-a&limit=100" + at);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.items().items.size(), 13u);
  r = c.get("/v1/accounts?owner_id=rep-a&industry=retail" + at);
  EXPECT_EQ(r.items().items.size(), 3u) << r.body;  // i = 0, 10, 20
  r = c.get("/v1/accounts?q=company%20112" + at);
  ASSERT_EQ(r.items().items.size(), 1u);
  EXPECT_EQ(Reply::text_of(r.items().items[0], "name"), "Company 112");

  // Pages of 10 by name: every record once, in order.
  std::vector<std::string> names;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    r = c.get("/v1/accounts?sort=name&limit=10" + at + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& item : r.items().items)
      names.push_back(Reply::text_of(item, "name"));
    cursor = r.str("next_cursor");
    if (cursor == "null")
      break;
  }
  ASSERT_EQ(names.size(), 25u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 25u);

  // Newest first by default.
  r = c.get("/v1/accounts?limit=1" + at);
  EXPECT_EQ(Reply::text_of(r.items().items.at(0), "name"), "Company 124");

  EXPECT_EQ(c.get("/v1/accounts?sort=colour").status, 400);
  EXPECT_EQ(c.get("/v1/accounts?cursor=zz").status, 400);
  EXPECT_EQ(c.get("/v1/accounts?limit=1000").status, 400);
  EXPECT_EQ(c.get("/v1/accounts?owner=x").status, 400);
  // Waiting for a position the log never reaches: bounded, then 503 with Retry-After.
  r = c.get("/v1/accounts?min_position=999999999");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("retry-after"), "1");
}

}  // namespace
}  // namespace eventcrm::test
