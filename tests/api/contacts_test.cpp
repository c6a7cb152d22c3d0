// Contacts through the real server: create, edit, assign, link/unlink an account, archive, the
// list queries, and duplicate detection on create (contacts and accounts), also under
// concurrent creates.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "crm_client.hpp"

namespace eventcrm::test {
namespace {

class ContactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("contacts");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  std::uint64_t head(CrmClient& c) {
    return std::stoull(c.get("/v1/events?limit=1").header("x-position"));
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

TEST_F(ContactsTest, CreateEditAssignLinkArchive) {
  CrmClient c(server_.port());
  std::string acme = c.create("accounts", R"({"name":"Acme"})");
  std::string globex = c.create("accounts", R"({"name":"Globex"})");

  Reply r = c.post("/v1/contacts",
                   R"({"account_id":")" + acme +
                       R"(","first_name":"Lan","last_name":"Nguyễn","email":"lan@acme.vn",)"
                       R"("phone":"0912 345 678","title":"CFO"})",
                   {{"X-Reason", "met at the fair"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  EXPECT_EQ(r.header("location"), "/v1/contacts/" + id);
  EXPECT_EQ(r.header("etag"), "\"0\"");

  r = c.get("/v1/contacts/" + id + "?" + at(r));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("name"), "Lan Nguyễn");
  EXPECT_EQ(r.str("account_id"), acme);
  EXPECT_EQ(r.str("email"), "lan@acme.vn");
  EXPECT_EQ(r.str("title"), "CFO");
  EXPECT_EQ(r.str("status"), "active");
  EXPECT_EQ(r.str("owner_id"), "admin");
  EXPECT_EQ(r.header("etag"), "\"0\"");

  r = c.send("PATCH", "/v1/contacts/" + id, R"({"title":"CEO","phone":""})",
             {{"If-Match", "\"0\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("version"), 1);
  r = c.send("PATCH", "/v1/contacts/" + id, R"({"title":"CTO"})", {{"If-Match", "\"0\""}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.num("current_version"), 1);

  r = c.post("/v1/contacts/" + id + "/assign", R"({"owner_id":"rep-7"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.post("/v1/contacts/" + id + "/link", R"({"account_id":")" + globex + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/contacts?account_id=" + globex + "&" + at(r));
  ASSERT_EQ(r.items().items.size(), 1u) << r.body;
  EXPECT_EQ(Reply::text_of(r.items().items[0], "id"), id);
  EXPECT_EQ(c.get("/v1/contacts?account_id=" + acme).items().items.size(), 0u);

  r = c.post("/v1/contacts/" + id + "/unlink", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.post("/v1/contacts/" + id + "/unlink", "{}");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(allowed(r), std::vector<std::string>{"link-account"});

  r = c.post("/v1/contacts/" + id + "/archive", R"({"reason":"left the company"})");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string pos = at(r);
  r = c.post("/v1/contacts/" + id + "/assign", R"({"owner_id":"rep-8"})");
  EXPECT_EQ(r.status, 409) << r.body;

  r = c.get("/v1/contacts/" + id + "?" + pos);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.str("status"), "archived");
  EXPECT_EQ(r.str("archive_reason"), "left the company");
  EXPECT_EQ(r.str("owner_id"), "rep-7");
  EXPECT_EQ(r.str("title"), "CEO");
  EXPECT_EQ(r.str("phone"), "");  // cleared: absent
  EXPECT_EQ(r.json.find("account_id"), nullptr);
  EXPECT_EQ(r.num("version"), 5);

  r = c.get("/v1/streams/contact-" + id);
  EXPECT_NE(r.body.find("met at the fair"), std::string::npos);

  EXPECT_EQ(c.get("/v1/contacts/nope").status, 404);
  EXPECT_EQ(c.post("/v1/contacts/nope/archive", "{}").status, 404);
  EXPECT_EQ(c.post("/v1/contacts/nope/assign", R"({"owner_id":"x"})").status, 404);
}

TEST_F(ContactsTest, BadInputIsRefusedAndChangesNothing) {
  CrmClient c(server_.port());
  std::string id = c.create("contacts", R"({"last_name":"Trần"})");
  std::uint64_t before = head(c);
  for (const std::string body :
       {R"({"last_nam":"typo"})", R"({"first_name":"only"})", R"({"last_name":42})",
        R"({"last_name":"X","email":"not-an-email"})", R"({"last_name":"X","phone":"call me"})",
        R"({"last_name":"X","force":"yes"})", R"({"last_name":"X","account_id":"missing"})",
        R"([1])"}) {
    Reply r = c.post("/v1/contacts", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
  }
  Reply r = c.post("/v1/contacts", R"({"last_name":"X","account_id":"missing"})");
  EXPECT_NE(r.body.find(R"("field":"account_id")"), std::string::npos) << r.body;
  r = c.post("/v1/contacts/" + id + "/link", R"({"account_id":"missing"})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(c.post("/v1/contacts/" + id + "/link", "{}").status, 422);
  EXPECT_EQ(c.post("/v1/contacts/" + id + "/assign", "{}").status, 422);
  EXPECT_EQ(c.send("PATCH", "/v1/contacts/" + id, R"({"last_name":""})").status, 422);
  EXPECT_EQ(c.post("/v1/contacts", R"({"last_name":)").status, 400);
  auto raw =
      http(server_.port(), "POST", "/v1/contacts", "last_name=X", {{"Content-Type", "text/plain"}});
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 415);
  EXPECT_EQ(head(c), before);
}

TEST_F(ContactsTest, DuplicateEmailOrPhoneIsRefusedUnlessForced) {
  CrmClient c(server_.port());
  Reply first = c.post("/v1/contacts", R"({"last_name":"Nguyễn","email":"Lan@Acme.vn",)"
                                       R"("phone":"+84 912 345 678"})");
  ASSERT_EQ(first.status, 201) << first.body;
  std::string id = first.str("id");

  Reply r = c.post("/v1/contacts", R"({"last_name":"Other","email":" lan@ACME.vn"})");
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.str("type"), "https://eventcrm.dev/problems/already-exists");
  EXPECT_EQ(r.str("existing_id"), id);
  r = c.post("/v1/contacts", R"({"last_name":"Other","phone":"0912-345-678"})");
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.str("existing_id"), id);

  r = c.post("/v1/contacts", R"({"last_name":"Nguyễn","email":"lan@acme.vn","force":true})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.str("id"), id);
  r = c.get("/v1/contacts?q=lan@acme&" + at(r));
  EXPECT_EQ(r.items().items.size(), 2u) << r.body;

  // Archived records keep their claims.
  ASSERT_EQ(c.post("/v1/contacts/" + id + "/archive", "{}").status, 200);
  r = c.post("/v1/contacts", R"({"last_name":"Again","email":"lan@acme.vn"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.str("existing_id"), id);

  // Accounts: email, phone and tax id.
  Reply acme = c.post("/v1/accounts", R"({"name":"Acme","tax_id":"0101-234 567"})");
  ASSERT_EQ(acme.status, 201) << acme.body;
  r = c.post("/v1/accounts", R"({"name":"Acme Two","tax_id":"0101234567"})");
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.str("existing_id"), acme.str("id"));
  r = c.post("/v1/accounts", R"({"name":"Acme Two","tax_id":"0101234567","force":true})");
  EXPECT_EQ(r.status, 201) << r.body;
  // A contact may share an account's email: claims are per kind of record.
  Reply shop = c.post("/v1/accounts", R"({"name":"Shop","email":"info@shop.vn"})");
  ASSERT_EQ(shop.status, 201);
  EXPECT_EQ(c.post("/v1/contacts", R"({"last_name":"Shop","email":"info@shop.vn"})").status, 201);
  r = c.post("/v1/accounts", R"({"name":"Shop 2","email":"INFO@shop.vn"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.str("existing_id"), shop.str("id"));
}

TEST_F(ContactsTest, ConcurrentCreatesWithOneEmailMakeExactlyOneContact) {
  constexpr int kClients = 20;
  std::vector<Reply> replies(kClients);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      CrmClient c(server_.port());
      while (!go.load())
        std::this_thread::yield();
      replies[static_cast<std::size_t>(i)] =
          c.post("/v1/contacts",
                 R"({"last_name":"Racer )" + std::to_string(i) + R"(","email":"race@acme.vn"})");
    });
  }
  go = true;
  for (auto& t : threads)
    t.join();
  std::string winner;
  int created = 0, refused = 0;
  for (const Reply& r : replies) {
    if (r.status == 201) {
      ++created;
      winner = r.str("id");
    } else if (r.status == 409) {
      ++refused;
    } else {
      ADD_FAILURE() << r.status << " " << r.body;
    }
  }
  ASSERT_EQ(created, 1);
  EXPECT_EQ(refused, kClients - 1);
  for (const Reply& r : replies) {
    if (r.status == 409) {
      EXPECT_EQ(r.str("existing_id"), winner) << r.body;
    }
  }
  CrmClient c(server_.port());
  Reply page = c.get("/v1/contacts?q=race@acme.vn&min_position=" +
                     std::to_string(std::stoull(c.get("/v1/events?limit=1").header("x-position"))));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.items().items.size(), 1u) << page.body;
}

TEST_F(ContactsTest, IdempotencyKeyReplaysTheFirstResult) {
  CrmClient c(server_.port());
  std::vector<std::pair<std::string, std::string>> key = {{"Idempotency-Key", "card-17"}};
  std::string body = R"({"last_name":"Once","email":"once@acme.vn"})";
  Reply first = c.post("/v1/contacts", body, key);
  ASSERT_EQ(first.status, 201) << first.body;
  Reply again = c.post("/v1/contacts", body, key);
  EXPECT_EQ(again.status, 201) << again.body;  // the replay, not a duplicate
  EXPECT_EQ(again.str("id"), first.str("id"));
  EXPECT_EQ(again.num("position"), first.num("position"));
  Reply other = c.post("/v1/contacts", R"({"last_name":"Twice"})", key);
  EXPECT_EQ(other.status, 422) << other.body;
}

TEST_F(ContactsTest, ListFiltersSortsAndPages) {
  CrmClient c(server_.port());
  std::string acme = c.create("accounts", R"({"name":"Acme"})");
  for (int i = 0; i < 12; ++i) {
    std::string owner = i % 3 == 0 ? "rep-a" : "rep-b";
    std::string account = i % 2 == 0 ? R"("account_id":")" + acme + "\"," : "";
    c.create("contacts", "{" + account + R"("first_name":"P","last_name":"Person )" +
                             std::to_string(10 + i) + R"(","owner_id":")" + owner + "\"}");
  }
  std::string pos = "&min_position=" + std::to_string(c.last_position);
  Reply r = c.get("/v1/contacts?account_id=" + acme + pos);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.items().items.size(), 6u);
  r = c.get("/v1/contacts?owner_id=rep-a&account_id=" + acme + pos);
  EXPECT_EQ(r.items().items.size(), 2u) << r.body;  // i = 0, 6
  r = c.get("/v1/contacts?q=person%2015" + pos);
  ASSERT_EQ(r.items().items.size(), 1u);
  EXPECT_EQ(Reply::text_of(r.items().items[0], "name"), "P Person 15");
  r = c.get("/v1/contacts?status=archived" + pos);
  EXPECT_EQ(r.items().items.size(), 0u);

  std::vector<std::string> names;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    r = c.get("/v1/contacts?sort=last_name&limit=5" + pos +
              (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& item : r.items().items)
      names.push_back(Reply::text_of(item, "last_name"));
    cursor = r.str("next_cursor");
    if (cursor == "null")
      break;
  }
  ASSERT_EQ(names.size(), 12u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 12u);
  // Newest first by default (records created in the same millisecond may come in any order).
  r = c.get("/v1/contacts?limit=100" + pos);
  std::vector<std::string> times;
  for (const auto& item : r.items().items)
    times.push_back(Reply::text_of(item, "created_at"));
  ASSERT_EQ(times.size(), 12u);
  EXPECT_TRUE(std::is_sorted(times.rbegin(), times.rend()));

  EXPECT_EQ(c.get("/v1/contacts?sort=colour").status, 400);
  EXPECT_EQ(c.get("/v1/contacts?account=x").status, 400);
}

}  // namespace
}  // namespace eventcrm::test
