// Customer care through the real server: the care log (activities), appointments with their
// reminder (appended once by the scheduler running in `eventcrm serve`, also across a restart)
// and tasks — commands, invalid transitions, bad input, If-Match, idempotency, list filters and
// read-your-writes.
#include <gtest/gtest.h>

#include <ctime>
#include <set>

#include "crm_client.hpp"

namespace eventcrm::test {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
using Clock = std::chrono::system_clock;

// RFC 3339 UTC with milliseconds.
std::string iso(Clock::time_point tp) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm t{};
  gmtime_r(&secs, &t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

// Today's UTC date moved by `days`.
std::string utc_day(int days) {
  return iso(Clock::now() + std::chrono::hours(24 * days)).substr(0, 10);
}

std::vector<std::string> ids_of(const Reply& r) {
  std::vector<std::string> out;
  for (const auto& item : r.items().items)
    out.push_back(Reply::text_of(item, "id"));
  return out;
}

std::string at(std::int64_t position) {
  return "min_position=" + std::to_string(position);
}

class CareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("care");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  std::uint64_t head(CrmClient& c) {
    return std::stoull(c.get("/v1/events?limit=1").header("x-position"));
  }
  std::string account(CrmClient& c, const std::string& name = "Acme") {
    return c.create("accounts", R"({"name":")" + name + "\"}");
  }
  // How many events of `type` the log holds, per stream.
  std::map<std::string, int> count(CrmClient& c, const std::string& type) {
    std::map<std::string, int> out;
    Reply r = c.get("/v1/events?limit=1000&type=" + type);
    EXPECT_EQ(r.status, 200) << r.body;
    for (const auto& item : r.items().items)
      ++out[Reply::text_of(item, "subject")];
    return out;
  }
  std::filesystem::path dir_;
  ServerProcess server_;
};

// ---- activities ----

TEST_F(CareTest, LogAnActivityAndReadItBack) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  std::string contact = c.create(
      "contacts", R"({"account_id":")" + acc + R"(","first_name":"Lan","last_name":"Nguyen"})");
  std::string opp =
      c.create("opportunities", R"({"account_id":")" + acc +
                                    R"(","name":"Fleet","amount":{"amount":"1000.00",)"
                                    R"("currency":"VND"},"expected_close_date":"2030-01-31"})");
  Reply r =
      c.post("/v1/activities",
             R"({"kind":"call","account_id":")" + acc + R"(","contact_id":")" + contact +
                 R"(","opportunity_id":")" + opp +
                 R"(","subject":"Follow-up","notes":"asked for a quote","outcome":"interested",)"
                 R"("duration_minutes":12,"occurred_at":"2026-03-01T09:30:00+07:00"})",
             {{"X-Reason", "weekly round"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  EXPECT_EQ(r.header("location"), "/v1/activities/" + id);
  EXPECT_EQ(r.header("etag"), "\"0\"");

  r = c.get("/v1/activities/" + id + "?" + at(r.num("position")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("kind"), "call");
  EXPECT_EQ(r.str("account_id"), acc);
  EXPECT_EQ(r.str("contact_id"), contact);
  EXPECT_EQ(r.str("opportunity_id"), opp);
  EXPECT_EQ(r.str("subject"), "Follow-up");
  EXPECT_EQ(r.str("notes"), "asked for a quote");
  EXPECT_EQ(r.str("outcome"), "interested");
  EXPECT_EQ(r.num("duration_minutes"), 12);
  EXPECT_EQ(r.str("occurred_at"), "2026-03-01T02:30:00.000Z");
  EXPECT_EQ(r.str("logged_by"), "admin");
  EXPECT_EQ(r.header("etag"), "\"0\"");
  EXPECT_FALSE(r.header("x-position").empty());

  // Without occurred_at it happened now; every kind is accepted.
  for (const char* kind : {"meeting", "email", "sms", "visit", "note"}) {
    r = c.post("/v1/activities", std::string(R"({"kind":")") + kind + R"(","account_id":")" + acc +
                                     R"(","subject":"x"})");
    EXPECT_EQ(r.status, 201) << kind << ": " << r.body;
  }
  r = c.get("/v1/activities/" + r.str("id") + "?" + at(r.num("position")));
  EXPECT_EQ(r.str("occurred_at").substr(0, 10), utc_day(0));

  r = c.get("/v1/streams/activity-" + id);
  EXPECT_NE(r.body.find("weekly round"), std::string::npos) << r.body;
  EXPECT_EQ(c.get("/v1/activities/nope").status, 404);
}

TEST_F(CareTest, ActivityBadInputIsRefusedAndWritesNothing) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  std::uint64_t before = head(c);
  const std::string a = R"("account_id":")" + acc + "\"";
  for (const std::string& body : {
           R"({"kind":"call",)" + a + R"(,"subject":"x","colour":"red"})",
           R"({"kind":"fax",)" + a + R"(,"subject":"x"})",
           R"({)" + a + R"(,"subject":"x"})",
           R"({"kind":"call",)" + a + "}",
           R"({"kind":"call",)" + a + R"(,"subject":""})",
           R"({"kind":"call",)" + a + R"(,"subject":"x","duration_minutes":-1})",
           R"({"kind":"call",)" + a + R"(,"subject":"x","duration_minutes":2000})",
           R"({"kind":"call",)" + a + R"(,"subject":"x","duration_minutes":"5"})",
           R"({"kind":"call",)" + a + R"(,"subject":"x","occurred_at":"yesterday"})",
           std::string(R"({"kind":"call","account_id":42,"subject":"x"})"),
           std::string(R"({"kind":"call","subject":"x"})"),
           std::string(R"([])"),
       }) {
    Reply r = c.post("/v1/activities", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
  }
  // References to records that do not exist name their fields.
  Reply r = c.post("/v1/activities",
                   R"({"kind":"call","account_id":"no-such","subject":"x","contact_id":"nobody"})");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find(R"("field":"account_id")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("field":"contact_id")"), std::string::npos) << r.body;
  for (const char* ref : {"contact_id", "lead_id", "opportunity_id"}) {
    r = c.post("/v1/activities",
               R"({"kind":"note",)" + a + R"(,"subject":"x",")" + ref + R"(":"missing"})");
    EXPECT_EQ(r.status, 422) << ref << ": " << r.body;
    EXPECT_NE(r.body.find(std::string("\"field\":\"") + ref + "\""), std::string::npos);
  }
  EXPECT_EQ(c.post("/v1/activities", R"({"kind":)").status, 400);
  EXPECT_EQ(c.post("/v1/activities", R"({"kind":"call",)" + a + R"(,"subject":"x"})",
                   {{"If-Match", "first"}})
                .status,
            400);
  auto raw =
      http(server_.port(), "POST", "/v1/activities",
           R"({"kind":"call",)" + a + R"(,"subject":"x"})", {{"Content-Type", "text/plain"}});
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 415);
  EXPECT_EQ(head(c), before);
}

TEST_F(CareTest, ActivityIdempotencyKeyReplaysTheFirstResult) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  std::string body = R"({"kind":"visit","account_id":")" + acc + R"(","subject":"Site visit"})";
  Headers key = {{"Idempotency-Key", "visit-7"}};
  Reply first = c.post("/v1/activities", body, key);
  ASSERT_EQ(first.status, 201) << first.body;
  Reply again = c.post("/v1/activities", body, key);
  EXPECT_EQ(again.str("id"), first.str("id"));
  EXPECT_EQ(again.num("position"), first.num("position"));
  Reply other =
      c.post("/v1/activities",
             R"({"kind":"visit","account_id":")" + acc + R"(","subject":"Another visit"})", key);
  EXPECT_EQ(other.status, 422) << other.body;
  Reply page = c.get("/v1/activities?account_id=" + acc + "&" + at(first.num("position")));
  EXPECT_EQ(page.items().items.size(), 1u) << page.body;
}

TEST_F(CareTest, ActivityListFiltersSortsAndPages) {
  CrmClient c(server_.port());
  std::string a1 = account(c, "One"), a2 = account(c, "Two");
  std::string contact = c.create(
      "contacts", R"({"account_id":")" + a1 + R"(","first_name":"Minh","last_name":"Tran"})");
  const char* kinds[] = {"call", "email", "meeting"};
  // 12 activities on a1 on 2026-02-01 … 2026-02-12 at 08:00Z, 3 on a2.
  for (int i = 0; i < 15; ++i) {
    bool first = i < 12;
    char when[64];
    std::snprintf(when, sizeof when, "2026-02-%02dT08:00:00Z", i + 1);
    std::string body = R"({"kind":")" + std::string(kinds[i % 3]) + R"(","account_id":")" +
                       (first ? a1 : a2) + R"(","subject":"Touch )" + std::to_string(100 + i) +
                       R"(","occurred_at":")" + when + "\"" +
                       (first && i % 4 == 0 ? R"(,"contact_id":")" + contact + "\"" : "") + "}";
    c.create("activities", body);
  }
  std::string pos = "&" + at(c.last_position);

  Reply r = c.get("/v1/activities?account_id=" + a1 + "&limit=100" + pos);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.items().items.size(), 12u);
  // Newest first by default.
  EXPECT_EQ(Reply::text_of(r.items().items.at(0), "subject"), "Touch 111");
  r = c.get("/v1/activities?account_id=" + a1 + "&kind=email" + pos);
  EXPECT_EQ(r.items().items.size(), 4u) << r.body;
  r = c.get("/v1/activities?contact_id=" + contact + pos);
  EXPECT_EQ(r.items().items.size(), 3u) << r.body;  // i = 0, 4, 8
  r = c.get("/v1/activities?q=touch%20113" + pos);
  ASSERT_EQ(r.items().items.size(), 1u) << r.body;
  EXPECT_EQ(Reply::text_of(r.items().items[0], "account_id"), a2);
  r = c.get("/v1/activities?logged_by=admin&limit=100" + pos);
  EXPECT_EQ(r.items().items.size(), 15u);
  r = c.get("/v1/activities?logged_by=someone-else" + pos);
  EXPECT_EQ(r.items().items.size(), 0u);

  // Time bounds: dates stand for whole UTC days; times in any offset.
  r = c.get("/v1/activities?occurred_at_from=2026-02-03&occurred_at_to=2026-02-05" + pos);
  EXPECT_EQ(r.items().items.size(), 3u) << r.body;
  r = c.get("/v1/activities?account_id=" + a1 +
            "&occurred_at_from=2026-02-10T15:00:00%2B07:00&sort=occurred_at" + pos);
  ASSERT_EQ(r.items().items.size(), 3u) << r.body;  // 10th 08:00Z is 15:00+07:00: included
  EXPECT_EQ(Reply::text_of(r.items().items[0], "subject"), "Touch 109");

  // Oldest first, pages of 4: every record once, in order.
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    r = c.get("/v1/activities?sort=occurred_at&limit=4" + pos +
              (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& item : r.items().items)
      seen.push_back(Reply::text_of(item, "occurred_at"));
    cursor = r.str("next_cursor");
    if (cursor == "null")
      break;
  }
  ASSERT_EQ(seen.size(), 15u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  EXPECT_EQ(c.get("/v1/activities?occurred_at_from=last-week").status, 400);
  EXPECT_EQ(c.get("/v1/activities?sort=subject").status, 400);
  EXPECT_EQ(c.get("/v1/activities?owner=x").status, 400);
  EXPECT_EQ(c.get("/v1/activities?limit=1000").status, 400);
  r = c.get("/v1/activities", {{"X-Min-Position", "999999999"}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("retry-after"), "1");
}

// ---- appointments ----

TEST_F(CareTest, AppointmentLifecycleAndInvalidTransitions) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  Reply r =
      c.post("/v1/appointments", R"({"account_id":")" + acc +
                                     R"(","subject":"Demo","location":"HQ",)"
                                     R"("starts_at":"2030-05-10T09:00:00Z",)"
                                     R"("remind_at":"2030-05-10T08:30:00Z","owner_id":"rep-a"})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  EXPECT_EQ(r.header("location"), "/v1/appointments/" + id);
  r = c.get("/v1/appointments/" + id + "?" + at(r.num("position")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("status"), "scheduled");
  EXPECT_EQ(r.str("starts_at"), "2030-05-10T09:00:00.000Z");
  EXPECT_EQ(r.str("ends_at"), "2030-05-10T10:00:00.000Z");  // an hour by default
  EXPECT_EQ(r.num("remind_minutes_before"), 30);
  EXPECT_EQ(r.str("remind_at"), "2030-05-10T08:30:00.000Z");
  EXPECT_EQ(r.str("reminder"), "pending");
  EXPECT_EQ(r.str("owner_id"), "rep-a");
  EXPECT_EQ(r.str("location"), "HQ");
  EXPECT_EQ(r.header("etag"), "\"0\"");

  // Reschedule with If-Match: the duration is kept; a stale version is a conflict.
  r = c.post("/v1/appointments/" + id + "/reschedule",
             R"({"starts_at":"2030-05-11T14:00:00Z","remind_minutes_before":60})",
             {{"If-Match", "\"0\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.num("version"), 1);
  r = c.post("/v1/appointments/" + id + "/reschedule", R"({"starts_at":"2030-05-12T14:00:00Z"})",
             {{"If-Match", "\"0\""}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.num("current_version"), 1);
  r = c.get("/v1/appointments/" + id + "?min_position=" + std::to_string(head(c)));
  EXPECT_EQ(r.str("starts_at"), "2030-05-11T14:00:00.000Z");
  EXPECT_EQ(r.str("ends_at"), "2030-05-11T15:00:00.000Z");
  EXPECT_EQ(r.str("remind_at"), "2030-05-11T13:00:00.000Z");

  r = c.post("/v1/appointments/" + id + "/complete", R"({"outcome":"signed"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/appointments/" + id + "?" + at(r.num("position")));
  EXPECT_EQ(r.str("status"), "completed");
  EXPECT_EQ(r.str("outcome"), "signed");
  EXPECT_EQ(r.str("reminder"), "off");
  std::uint64_t before = head(c);
  for (const char* action : {"complete", "cancel", "reschedule"}) {
    r = c.post(
        "/v1/appointments/" + id + "/" + action,
        std::string(action) == "reschedule" ? R"({"starts_at":"2030-06-01T09:00:00Z"})" : "{}");
    EXPECT_EQ(r.status, 409) << action << ": " << r.body;
    EXPECT_NE(r.body.find("\"allowed\":[]"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("invalid-transition"), std::string::npos) << r.body;
  }
  EXPECT_EQ(head(c), before);

  std::string other =
      c.create("appointments", R"({"account_id":")" + acc +
                                   R"(","subject":"Lunch","starts_at":"2030-05-10T12:00:00Z",)"
                                   R"("ends_at":"2030-05-10T13:30:00Z"})");
  r = c.post("/v1/appointments/" + other + "/cancel", R"({"reason":"client ill"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/appointments/" + other + "?" + at(r.num("position")));
  EXPECT_EQ(r.str("status"), "cancelled");
  EXPECT_EQ(r.str("cancel_reason"), "client ill");
  EXPECT_EQ(r.num("remind_minutes_before"), 15);
  EXPECT_EQ(r.str("owner_id"), "admin");

  EXPECT_EQ(c.post("/v1/appointments/nope/cancel", "{}").status, 404);
  EXPECT_EQ(c.get("/v1/appointments/nope").status, 404);
}

TEST_F(CareTest, AppointmentBadInputIsRefusedAndWritesNothing) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  std::string id =
      c.create("appointments", R"({"account_id":")" + acc +
                                   R"(","subject":"Demo","starts_at":"2030-05-10T09:00:00Z"})");
  std::uint64_t before = head(c);
  const std::string a = R"("account_id":")" + acc + R"(","subject":"x",)";
  for (
      const std::string& body : {
          "{" + a + R"("starts_at":"2030-05-10T09:00:00Z","ends_at":"2030-05-10T08:00:00Z"})",
          "{" + a +
              R"("starts_at":"2030-05-10T09:00:00Z","remind_at":"2030-05-10T08:00:00Z","remind_minutes_before":5})",
          "{" + a + R"("starts_at":"2030-05-10T09:00:00Z","remind_at":"2030-05-10T09:30:00Z"})",
          "{" + a + R"("starts_at":"2030-05-10T09:00:00Z","remind_at":"2030-05-10T08:59:30Z"})",
          "{" + a + R"("starts_at":"2030-05-10T09:00:00Z","remind_minutes_before":20000})",
          "{" + a + R"("starts_at":"2030-05-10 09:00"})",
          "{" + a + R"("starts_at":"2030-05-10T09:00:00Z","owner_id":""})",
          "{" + a + R"("starts_at":"2030-05-10T09:00:00Z","room":"7"})",
          std::string(
              R"({"account_id":"nobody","subject":"x","starts_at":"2030-05-10T09:00:00Z"})"),
          std::string(R"({"subject":"x","starts_at":"2030-05-10T09:00:00Z"})"),
      }) {
    Reply r = c.post("/v1/appointments", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
  }
  for (const std::string& body : {
           std::string(R"({})"),
           std::string(R"({"starts_at":"2030-05-10T10:00:00Z","ends_at":"2030-05-10T09:00:00Z"})"),
           std::string(
               R"({"starts_at":"2030-05-10T10:00:00Z","remind_at":"2030-05-10T09:59:59Z"})"),
       }) {
    Reply r = c.post("/v1/appointments/" + id + "/reschedule", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
  }
  EXPECT_EQ(c.post("/v1/appointments/" + id + "/complete", R"({"outcome":7})").status, 422);
  EXPECT_EQ(c.post("/v1/appointments/" + id + "/cancel", R"({"why":"x"})").status, 422);
  EXPECT_EQ(head(c), before);

  // Idempotent scheduling.
  Headers key = {{"Idempotency-Key", "sched-1"}};
  std::string body = "{" + a + R"("starts_at":"2030-05-10T09:00:00Z"})";
  Reply first = c.post("/v1/appointments", body, key);
  ASSERT_EQ(first.status, 201) << first.body;
  Reply again = c.post("/v1/appointments", body, key);
  EXPECT_EQ(again.str("id"), first.str("id"));
  EXPECT_EQ(again.num("position"), first.num("position"));
  EXPECT_EQ(head(c), before + 1);
}

TEST_F(CareTest, TodaysAppointmentsAreOneQuery) {
  CrmClient c(server_.port());
  std::string a1 = account(c, "One"), a2 = account(c, "Two");
  auto make = [&](const std::string& acc, const std::string& owner, const std::string& starts,
                  const std::string& subject) {
    return c.create("appointments", R"({"account_id":")" + acc + R"(","owner_id":")" + owner +
                                        R"(","subject":")" + subject + R"(","starts_at":")" +
                                        starts + "\"}");
  };
  make(a1, "rep-a", "2030-05-10T12:00:00Z", "noon");
  make(a1, "rep-a", "2030-05-09T23:59:59Z", "yesterday");
  std::string late = make(a2, "rep-a", "2030-05-10T23:30:00Z", "late");
  make(a1, "rep-a", "2030-05-11T00:00:00Z", "tomorrow");
  make(a1, "rep-a", "2030-05-10T00:00:00Z", "midnight");
  make(a1, "rep-b", "2030-05-10T10:00:00Z", "someone else's");
  std::string pos = "&" + at(c.last_position);

  Reply r = c.get(
      "/v1/appointments?owner_id=rep-a&starts_at_from=2030-05-10&starts_at_to=2030-05-10" + pos);
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> subjects;
  for (const auto& item : r.items().items)
    subjects.push_back(Reply::text_of(item, "subject"));
  EXPECT_EQ(subjects, (std::vector<std::string>{"midnight", "noon", "late"}));
  // The same day in Vietnam (UTC+7) as times.
  r = c.get(
      "/v1/appointments?owner_id=rep-a&starts_at_from=2030-05-10T00:00:00%2B07:00"
      "&starts_at_to=2030-05-10T23:59:59.999%2B07:00" +
      pos);
  EXPECT_EQ(r.items().items.size(), 3u) << r.body;  // yesterday (06:59 +7), midnight, noon

  r = c.get("/v1/appointments?account_id=" + a2 + pos);
  EXPECT_EQ(ids_of(r), std::vector<std::string>{late});
  r = c.post("/v1/appointments/" + late + "/cancel", "{}");
  pos = "&" + at(r.num("position"));
  r = c.get("/v1/appointments?owner_id=rep-a&status=scheduled" + pos);
  EXPECT_EQ(r.items().items.size(), 4u) << r.body;
  r = c.get("/v1/appointments?status=cancelled" + pos);
  EXPECT_EQ(ids_of(r), std::vector<std::string>{late});
  r = c.get("/v1/appointments?sort=-starts_at&limit=1" + pos);
  EXPECT_EQ(Reply::text_of(r.items().items.at(0), "subject"), "tomorrow");
  r = c.get("/v1/appointments?q=someone" + pos);
  EXPECT_EQ(r.items().items.size(), 1u);
  EXPECT_EQ(c.get("/v1/appointments?starts_at_to=soon").status, 400);
  EXPECT_EQ(c.get("/v1/appointments?starts_from=2030-05-10").status, 400);
}

TEST_F(CareTest, ReminderFiresOnceThroughTheServerAndAcrossRestarts) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  // Reminder a minute before the start, the start a minute and two seconds from now.
  auto schedule = [&](CrmClient& client, const std::string& subject) {
    auto starts =
        std::chrono::time_point_cast<std::chrono::seconds>(Clock::now()) + std::chrono::seconds(62);
    return client.create("appointments", R"({"account_id":")" + acc + R"(","subject":")" + subject +
                                             R"(","starts_at":")" + iso(starts) +
                                             R"(","remind_minutes_before":1})");
  };
  const std::string type = "appointment.reminder_due.v1";
  auto wait_for = [&](CrmClient& client, const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
    while (std::chrono::steady_clock::now() < deadline) {
      if (count(client, type).count("appointment-" + id))
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  std::string first = schedule(c, "Demo");
  EXPECT_EQ(count(c, type).size(), 0u);
  ASSERT_TRUE(wait_for(c, first));
  Reply r = c.get("/v1/appointments/" + first + "?min_position=" + std::to_string(head(c)));
  EXPECT_EQ(r.str("reminder"), "sent");
  r = c.get("/v1/streams/appointment-" + first);
  EXPECT_NE(r.body.find("system:reminders"), std::string::npos) << r.body;

  // A second reminder falls due while the server is down: it fires when the server is back; the
  // first does not fire again.
  std::string second = schedule(c, "Review");
  ASSERT_EQ(server_.stop(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  ASSERT_TRUE(server_.start(dir_));
  CrmClient again(server_.port());
  ASSERT_TRUE(wait_for(again, second));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // more scheduler passes
  auto reminders = count(again, type);
  EXPECT_EQ(reminders.size(), 2u);
  EXPECT_EQ(reminders["appointment-" + first], 1);
  EXPECT_EQ(reminders["appointment-" + second], 1);
}

// ---- tasks ----

TEST_F(CareTest, TaskLifecycleAndInvalidTransitions) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  Reply r =
      c.post("/v1/tasks", R"({"title":"Call back","due_on":"2030-03-03","assignee_id":"rep-a",)"
                          R"("account_id":")" +
                              acc + R"(","description":"about the quote"})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.str("id");
  EXPECT_EQ(r.header("location"), "/v1/tasks/" + id);
  r = c.get("/v1/tasks/" + id + "?" + at(r.num("position")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("title"), "Call back");
  EXPECT_EQ(r.str("due_on"), "2030-03-03");
  EXPECT_EQ(r.str("assignee_id"), "rep-a");
  EXPECT_EQ(r.str("account_id"), acc);
  EXPECT_EQ(r.str("status"), "open");

  r = c.post("/v1/tasks/" + id + "/assign", R"({"assignee_id":"rep-b"})", {{"If-Match", "\"0\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.post("/v1/tasks/" + id + "/assign", R"({"assignee_id":"rep-c"})", {{"If-Match", "\"0\""}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.num("current_version"), 1);
  // due_at: the date as written in its own offset.
  r = c.post("/v1/tasks/" + id + "/change-due-date", R"({"due_at":"2030-03-05T06:00:00+07:00"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/tasks/" + id + "?" + at(r.num("position")));
  EXPECT_EQ(r.str("assignee_id"), "rep-b");
  EXPECT_EQ(r.str("due_on"), "2030-03-05");
  r = c.post("/v1/tasks/" + id + "/change-due-date", R"({"due_on":null})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/tasks/" + id + "?" + at(r.num("position")));
  EXPECT_EQ(r.str("due_on"), "");

  r = c.post("/v1/tasks/" + id + "/complete", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/tasks/" + id + "?" + at(r.num("position")));
  EXPECT_EQ(r.str("status"), "done");
  EXPECT_EQ(r.str("completed_by"), "admin");
  std::uint64_t before = head(c);
  for (const auto& [action, body] : std::vector<std::pair<std::string, std::string>>{
           {"complete", "{}"},
           {"assign", R"({"assignee_id":"rep-z"})"},
           {"change-due-date", R"({"due_on":"2030-04-01"})"}}) {
    r = c.post("/v1/tasks/" + id + "/" + action, body);
    EXPECT_EQ(r.status, 409) << action << ": " << r.body;
    EXPECT_NE(r.body.find(R"("allowed":["reopen"])"), std::string::npos) << r.body;
  }
  EXPECT_EQ(head(c), before);
  r = c.post("/v1/tasks/" + id + "/reopen", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.get("/v1/tasks/" + id + "?" + at(r.num("position")));
  EXPECT_EQ(r.str("status"), "open");
  EXPECT_EQ(r.str("completed_by"), "");
  r = c.post("/v1/tasks/" + id + "/reopen", "{}");
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find(R"("allowed":["assign","change-due-date","complete"])"), std::string::npos)
      << r.body;

  EXPECT_EQ(c.post("/v1/tasks/nope/complete", "{}").status, 404);
  EXPECT_EQ(c.get("/v1/tasks/nope").status, 404);
}

TEST_F(CareTest, TaskBadInputIsRefusedAndWritesNothing) {
  CrmClient c(server_.port());
  std::string id = c.create("tasks", R"({"title":"Prepare demo"})");
  std::uint64_t before = head(c);
  for (const char* body :
       {R"({})", R"({"title":""})", R"({"title":"x","due_on":"2030-02-30"})",
        R"({"title":"x","due_on":"2030-03-01","due_at":"2030-03-01T09:00:00Z"})",
        R"({"title":"x","due_at":"tomorrow"})", R"({"title":"x","priority":1})",
        R"({"title":"x","account_id":"nobody"})", R"({"title":"x","opportunity_id":"nothing"})",
        R"({"title":"x","assignee_id":""})"}) {
    Reply r = c.post("/v1/tasks", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
  }
  EXPECT_EQ(c.post("/v1/tasks/" + id + "/change-due-date", "{}").status, 422);
  EXPECT_EQ(c.post("/v1/tasks/" + id + "/assign", "{}").status, 422);
  EXPECT_EQ(c.post("/v1/tasks/" + id + "/complete", R"({"now":true})").status, 422);
  EXPECT_EQ(c.post("/v1/tasks/" + id + "/complete", "{", {}).status, 400);
  EXPECT_EQ(head(c), before);

  Headers key = {{"Idempotency-Key", "task-1"}};
  Reply first = c.post("/v1/tasks", R"({"title":"Once"})", key);
  ASSERT_EQ(first.status, 201);
  Reply again = c.post("/v1/tasks", R"({"title":"Once"})", key);
  EXPECT_EQ(again.str("id"), first.str("id"));
  EXPECT_EQ(c.post("/v1/tasks", R"({"title":"Twice"})", key).status, 422);
  EXPECT_EQ(head(c), before + 1);
}

TEST_F(CareTest, TaskListsAndOverdue) {
  CrmClient c(server_.port());
  std::string acc = account(c);
  auto make = [&](const std::string& title, const std::string& assignee, const std::string& due) {
    return c.create("tasks", R"({"title":")" + title + R"(","assignee_id":")" + assignee + "\"" +
                                 (due.empty() ? "" : R"(,"due_on":")" + due + "\"") +
                                 R"(,"account_id":")" + acc + "\"}");
  };
  std::string old = make("old", "rep-a", utc_day(-3));
  std::string yesterday = make("yesterday", "rep-a", utc_day(-1));
  make("today", "rep-a", utc_day(0));
  make("next week", "rep-b", utc_day(7));
  make("someday", "rep-a", "");
  std::string done = make("done late", "rep-b", utc_day(-2));
  Reply r = c.post("/v1/tasks/" + done + "/complete", "{}");
  std::string pos = "&" + at(r.num("position"));

  r = c.get("/v1/tasks?overdue=true" + pos);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids_of(r), (std::vector<std::string>{old, yesterday}));  // by due date
  r = c.get("/v1/tasks?overdue=true&assignee_id=rep-b" + pos);
  EXPECT_EQ(r.items().items.size(), 0u);
  r = c.get("/v1/tasks?overdue=true&due_to=" + utc_day(-2) + pos);
  EXPECT_EQ(ids_of(r), std::vector<std::string>{old});
  r = c.get("/v1/tasks?overdue=false&status=open" + pos);
  EXPECT_EQ(r.items().items.size(), 5u);

  r = c.get("/v1/tasks?assignee_id=rep-a" + pos);
  std::vector<std::string> titles;
  for (const auto& item : r.items().items)
    titles.push_back(Reply::text_of(item, "title"));
  // Due date first, undated last.
  EXPECT_EQ(titles, (std::vector<std::string>{"old", "yesterday", "today", "someday"}));
  r = c.get("/v1/tasks?status=done" + pos);
  EXPECT_EQ(ids_of(r), std::vector<std::string>{done});
  r = c.get("/v1/tasks?due_from=" + utc_day(0) + "&due_to=" + utc_day(30) + pos);
  EXPECT_EQ(r.items().items.size(), 2u);
  r = c.get("/v1/tasks?account_id=" + acc + "&q=WEEK" + pos);
  EXPECT_EQ(r.items().items.size(), 1u);
  r = c.get("/v1/tasks?sort=-created_at" + pos);
  std::vector<std::string> created;
  for (const auto& item : r.items().items)
    created.push_back(Reply::text_of(item, "created_at"));
  EXPECT_EQ(created.size(), 6u);
  EXPECT_TRUE(std::is_sorted(created.rbegin(), created.rend())) << r.body;
  r = c.get("/v1/tasks?sort=-created_at&limit=2" + pos);
  EXPECT_EQ(r.items().items.size(), 2u);
  EXPECT_NE(r.str("next_cursor"), "null");

  EXPECT_EQ(c.get("/v1/tasks?overdue=true&status=done").status, 400);
  EXPECT_EQ(c.get("/v1/tasks?overdue=yes").status, 400);
  EXPECT_EQ(c.get("/v1/tasks?due_from=03/05/2030").status, 400);
  EXPECT_EQ(c.get("/v1/tasks?sort=title").status, 400);
}

}  // namespace
}  // namespace eventcrm::test
