// The sales reports through the real server: the pipeline report by stage, owner and close month
// and the sales dashboard, each figure checked against sums the test computes itself from the
// opportunities it created; every drill-down URL lists exactly the records behind its figure;
// the reporting currency setting; account 360. Activities, tasks, appointments, contacts, quotes,
// orders and contracts are appended as their domain events (encoded by their aggregates), so
// these tests do not depend on those collections' HTTP handlers.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "crm_client.hpp"
#include "domain/activity.hpp"
#include "domain/appointment.hpp"
#include "domain/contact.hpp"
#include "domain/contract.hpp"
#include "domain/order.hpp"
#include "domain/quote.hpp"
#include "domain/task.hpp"

namespace eventcrm::test {
namespace {

using domain::Date;
using domain::Timestamp;

Timestamp at(const char* text) {
  return *Timestamp::parse(text);
}
Date day(const char* text) {
  return *Date::parse(text);
}

class SalesReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("sales-reports");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }

  // Appends one domain event to a record's stream, as its aggregate encodes it.
  template <class A>
  std::int64_t append(CrmClient& c, const std::string& id, const typename A::Event& e) {
    std::string body = R"({"events":[{"type":")" + std::string(A::type_of(e)) + R"(","data":)" +
                       A::encode(e) + "}]}";
    Reply r = c.post("/v1/streams/" + std::string(A::category) + "-" + id, body);
    EXPECT_EQ(r.status, 201) << body << " → " << r.body;
    position_ = std::max(position_, r.num("position"));
    return r.num("position");
  }
  Reply command(CrmClient& c, const std::string& path, const std::string& body) {
    Reply r = c.post(path, body);
    EXPECT_EQ(r.status, 200) << path << " " << body << " → " << r.body;
    position_ = std::max(position_, r.num("position"));
    return r;
  }
  std::string create(CrmClient& c, const std::string& collection, const std::string& body) {
    std::string id = c.create(collection, body);
    position_ = std::max(position_, c.last_position);
    return id;
  }
  std::string at_position(char sep = '&') const {
    return std::string(1, sep) + "min_position=" + std::to_string(position_);
  }
  // The ids a list URL gives (every page).
  std::set<std::string> ids_at(CrmClient& c, const std::string& url) {
    return c.all_ids(url + at_position());
  }

  std::filesystem::path dir_;
  ServerProcess server_;
  std::int64_t position_ = 0;
};

// One opportunity as the test tracks it, to compute the expected figures itself.
struct Deal {
  std::string id;
  std::string stage;
  std::string owner;
  std::string close;  // YYYY-MM-DD
  std::int64_t amount = 0;
  int probability = 0;
  std::string currency = "VND";
  bool open = true;
};

int default_probability(const std::string& stage) {
  static const std::map<std::string, int> p = {
      {"prospecting", 10}, {"qualification", 25}, {"proposal", 50}, {"negotiation", 75}};
  return p.at(stage);
}

struct Expected {
  std::int64_t count = 0, unweighted = 0, weighted = 0;
  std::set<std::string> ids;
};

TEST_F(SalesReportsTest, PipelineFiguresMatchIndependentSumsAndDrillDown) {
  CrmClient c(server_.port());
  std::string acc = create(c, "accounts", R"({"name":"Pipeline Co"})");
  std::vector<Deal> deals = {
      {"", "prospecting", "rep-an", "2026-05-10", 120000, 10},
      {"", "qualification", "rep-an", "2026-05-31", 80000, 25},
      {"", "proposal", "rep-binh", "2026-06-01", 300000, 50},
      {"", "proposal", "rep-an", "2026-06-15", 44400, 35},  // an explicit probability
      {"", "negotiation", "rep-chi", "2026-07-20", 1000000, 75},
      {"", "qualification", "rep-binh", "2026-07-01", 64000, 25},
      {"", "prospecting", "rep-chi", "2026-05-02", 250000, 10},    // won below
      {"", "negotiation", "rep-binh", "2026-06-30", 900000, 75},   // lost below
      {"", "negotiation", "rep-an", "2026-08-08", 500000, 75},     // lost, reopened
      {"", "proposal", "rep-an", "2026-06-20", 70000, 50, "USD"},  // another currency
      {"", "prospecting", "rep-binh", "2026-09-09", 30000, 10},    // moved and edited
  };
  for (Deal& d : deals) {
    std::string body = R"({"account_id":")" + acc + R"(","name":"Deal )" + d.close +
                       R"(","amount":{"amount":")" + std::to_string(d.amount) +
                       R"(","currency":")" + d.currency + R"("},"expected_close_date":")" +
                       d.close + R"(","stage":")" + d.stage + R"(","owner_id":")" + d.owner + "\"" +
                       (d.probability != default_probability(d.stage)
                            ? R"(,"probability":)" + std::to_string(d.probability)
                            : std::string()) +
                       "}";
    d.id = create(c, "opportunities", body);
  }
  std::string base = "/v1/opportunities/";
  command(c, base + deals[6].id + "/win", "{}");
  deals[6].open = false;
  command(c, base + deals[7].id + "/lose", R"({"reason":"price"})");
  deals[7].open = false;
  command(c, base + deals[8].id + "/lose", R"({"reason":"timing"})");
  command(c, base + deals[8].id + "/reopen", R"({"stage":"proposal"})");
  deals[8].stage = "proposal";
  deals[8].probability = 50;
  command(c, base + deals[10].id + "/change-stage", R"({"stage":"negotiation","probability":60})");
  command(c, base + deals[10].id + "/assign", R"({"owner_id":"rep-chi"})");
  Reply patched = c.send("PATCH", base + deals[10].id,
                         R"({"amount":{"amount":"35000","currency":"VND"},)"
                         R"("expected_close_date":"2026-10-01"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  position_ = patched.num("position");
  deals[10].stage = "negotiation";
  deals[10].probability = 60;
  deals[10].owner = "rep-chi";
  deals[10].amount = 35000;
  deals[10].close = "2026-10-01";

  // The read model agrees with the test's own account of every deal.
  for (const Deal& d : deals) {
    Reply doc = c.get(base + d.id + at_position('?'));
    ASSERT_EQ(doc.status, 200);
    EXPECT_EQ(doc.str("status") == "open", d.open) << doc.body;
    if (d.open) {
      EXPECT_EQ(doc.str("stage"), d.stage);
      EXPECT_EQ(doc.num("probability"), d.probability);
    }
  }

  auto expected_by = [&](auto key_of) {
    std::map<std::string, Expected> out;
    for (const Deal& d : deals) {
      if (!d.open || d.currency != "VND")
        continue;
      Expected& e = out[key_of(d)];
      ++e.count;
      e.unweighted += d.amount;
      e.weighted += d.amount * d.probability / 100;  // exact: the amounts are multiples of 100
      e.ids.insert(d.id);
    }
    return out;
  };
  auto check = [&](const std::string& group_by, const std::map<std::string, Expected>& expected,
                   const std::vector<std::string>& order) {
    SCOPED_TRACE(group_by);
    Reply r = c.get("/v1/reports/pipeline?group_by=" + group_by + at_position());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.str("currency"), "VND");
    const auto& groups = member(r.json, "groups").items;
    std::vector<std::string> keys;
    for (const auto& g : groups) {
      std::string key = text(g, "key");
      keys.push_back(key);
      auto it = expected.find(key);
      Expected e = it == expected.end() ? Expected{} : it->second;
      EXPECT_EQ(number(g, "count"), e.count) << key;
      EXPECT_EQ(amount(g, "unweighted"), money_text(e.unweighted)) << key;
      EXPECT_EQ(amount(g, "weighted"), money_text(e.weighted)) << key;
      EXPECT_EQ(text(member(g, "weighted"), "currency"), "VND");
      // The drill-down lists exactly the deals behind the figure.
      EXPECT_EQ(ids_at(c, text(g, "items_url")), e.ids) << text(g, "items_url");
    }
    EXPECT_EQ(keys, order);
    Expected total;
    for (const auto& [k, e] : expected) {
      total.count += e.count;
      total.unweighted += e.unweighted;
      total.weighted += e.weighted;
      total.ids.insert(e.ids.begin(), e.ids.end());
    }
    const auto& t = member(r.json, "total");
    EXPECT_EQ(number(t, "count"), total.count);
    EXPECT_EQ(amount(t, "unweighted"), money_text(total.unweighted));
    EXPECT_EQ(amount(t, "weighted"), money_text(total.weighted));
    EXPECT_EQ(ids_at(c, text(t, "items_url")), total.ids);
    // The open deal in another currency is not summed in, but reported apart.
    const auto& ex = member(r.json, "excluded");
    EXPECT_EQ(number(ex, "count"), 1);
    ASSERT_EQ(member(ex, "currencies").items.size(), 1u) << r.body;
    EXPECT_EQ(member(ex, "currencies").items[0].text, "USD");
    const auto& usd = member(ex, "groups").items.at(0);
    EXPECT_EQ(amount(usd, "unweighted"), "70000.00");
    EXPECT_EQ(ids_at(c, text(usd, "items_url")), std::set<std::string>{deals[9].id});
  };

  auto by_stage = expected_by([](const Deal& d) { return d.stage; });
  // Stages in pipeline order, each listed even when empty.
  check("stage", by_stage, {"prospecting", "qualification", "proposal", "negotiation"});
  auto by_owner = expected_by([](const Deal& d) { return d.owner; });
  std::vector<std::string> owners;
  for (const auto& [k, e] : by_owner)
    owners.push_back(k);
  check("owner", by_owner, owners);
  auto by_month = expected_by([](const Deal& d) { return d.close.substr(0, 7); });
  std::vector<std::string> months;
  for (const auto& [k, e] : by_month)
    months.push_back(k);
  check("close_month", by_month, months);
  EXPECT_EQ(months,
            (std::vector<std::string>{"2026-05", "2026-06", "2026-07", "2026-08", "2026-10"}));

  // group_by defaults to stage; bad parameters are 400s.
  Reply r = c.get("/v1/reports/pipeline" + at_position('?'));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.str("group_by"), "stage");
  EXPECT_EQ(c.get("/v1/reports/pipeline?group_by=colour").status, 400);
  EXPECT_EQ(c.get("/v1/reports/pipeline?currency=dong").status, 400);
  EXPECT_EQ(c.get("/v1/reports/pipeline?stage=x").status, 400);
  EXPECT_EQ(c.get("/v1/reports/pipeline?min_position=999999999").status, 503);
}

TEST_F(SalesReportsTest, TheReportingCurrencyIsASetting) {
  CrmClient c(server_.port());
  std::string acc = create(c, "accounts", R"({"name":"Multi Currency"})");
  auto deal = [&](const char* amount, const char* currency) {
    return create(c, "opportunities",
                  R"({"account_id":")" + acc + R"(","name":"d","amount":{"amount":")" + amount +
                      R"(","currency":")" + currency +
                      R"("},"expected_close_date":"2026-06-30","stage":"proposal"})");
  };
  deal("100000", "VND");
  deal("2000", "USD");
  deal("3000", "USD");
  deal("400", "EUR");
  Reply r = c.get("/v1/reports/pipeline" + at_position('?'));
  EXPECT_EQ(r.str("currency"), "VND");
  EXPECT_EQ(amount(member(r.json, "total"), "unweighted"), "100000.00");
  EXPECT_EQ(number(member(r.json, "excluded"), "count"), 3);

  Reply s = c.send("PUT", "/v1/settings/reporting", R"({"currency":"USD"})");
  ASSERT_EQ(s.status, 200) << s.body;
  position_ = s.num("position");
  EXPECT_EQ(text(member(c.get("/v1/settings").json, "reporting"), "currency"), "USD");
  r = c.get("/v1/reports/pipeline" + at_position('?'));
  EXPECT_EQ(r.str("currency"), "USD");
  const auto& total = member(r.json, "total");
  EXPECT_EQ(number(total, "count"), 2);
  EXPECT_EQ(amount(total, "unweighted"), "5000.00");
  EXPECT_EQ(amount(total, "weighted"), "2500.00");
  EXPECT_EQ(text(member(total, "unweighted"), "currency"), "USD");
  const auto& currencies = member(member(r.json, "excluded"), "currencies").items;
  ASSERT_EQ(currencies.size(), 2u);
  EXPECT_EQ(currencies[0].text, "EUR");
  EXPECT_EQ(currencies[1].text, "VND");
  // A report in another currency on request.
  r = c.get("/v1/reports/pipeline?currency=EUR" + at_position());
  EXPECT_EQ(amount(member(r.json, "total"), "unweighted"), "400.00");

  for (const char* body : {R"({"currency":"usd"})", R"({"currency":"DONG"})", R"({})",
                           R"({"currency":"VND","x":1})"}) {
    EXPECT_EQ(c.send("PUT", "/v1/settings/reporting", body).status, 422) << body;
  }
}

TEST_F(SalesReportsTest, DashboardFiguresMatchIndependentSums) {
  CrmClient c(server_.port());
  std::string acc = create(c, "accounts", R"({"name":"Dashboard Co"})");
  struct Closed {
    std::string id;
    std::int64_t amount;
    std::string currency;
    std::string fate;  // won | lost | open
  };
  std::vector<Closed> deals = {
      {"", 100000, "VND", "won"}, {"", 200000, "VND", "won"}, {"", 400000, "VND", "open"},
      {"", 120000, "USD", "won"}, {"", 50000, "VND", "lost"}, {"", 300000, "VND", "won"},
      {"", 70000, "VND", "open"},
  };
  for (Closed& d : deals) {
    d.id = create(c, "opportunities",
                  R"({"account_id":")" + acc + R"(","name":"d","amount":{"amount":")" +
                      std::to_string(d.amount) + R"(","currency":")" + d.currency +
                      R"("},"expected_close_date":"2026-06-30"})");
  }
  std::string base = "/v1/opportunities/";
  command(c, base + deals[0].id + "/win", "{}");
  command(c, base + deals[1].id + "/win", "{}");
  command(c, base + deals[2].id + "/win", "{}");
  command(c, base + deals[2].id + "/reopen", "{}");  // won, then reopened: not won any more
  command(c, base + deals[3].id + "/win", "{}");
  command(c, base + deals[4].id + "/lose", R"({"reason":"price"})");
  command(c, base + deals[5].id + "/lose", R"({"reason":"timing"})");
  command(c, base + deals[5].id + "/reopen", "{}");  // lost, reopened and won after all
  command(c, base + deals[5].id + "/win", "{}");

  // The test's own figures, from the deals and the close dates the server recorded.
  std::int64_t won = 0, lost = 0, won_vnd = 0, won_vnd_count = 0, cycle_days = 0;
  std::string month;
  std::set<std::string> won_vnd_ids, won_ids, lost_ids;
  for (const Closed& d : deals) {
    Reply doc = c.get(base + d.id + at_position('?'));
    ASSERT_EQ(doc.str("status"), d.fate) << doc.body;
    if (d.fate == "open")
      continue;
    Date closed = *Date::parse(doc.str("closed_on"));
    Date created = *Date::parse(doc.str("created_at").substr(0, 10));
    month = doc.str("closed_on").substr(0, 7);
    if (d.fate == "lost") {
      ++lost;
      lost_ids.insert(d.id);
      continue;
    }
    ++won;
    won_ids.insert(d.id);
    cycle_days += closed.days - created.days;
    if (d.currency == "VND") {
      won_vnd += d.amount;
      ++won_vnd_count;
      won_vnd_ids.insert(d.id);
    }
  }
  ASSERT_EQ(won, 4);
  ASSERT_EQ(lost, 1);
  std::int64_t hundredths = (won * 10000 * 2 + (won + lost)) / (2 * (won + lost));
  std::string win_rate =
      std::to_string(hundredths / 100) + "." + std::to_string(hundredths % 100 + 100).substr(1);

  Reply r = c.get("/v1/dashboards/sales?month=" + month + at_position());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("currency"), "VND");
  const auto& revenue = member(r.json, "won_revenue");
  EXPECT_EQ(amount(revenue, "total"), money_text(won_vnd));
  EXPECT_EQ(number(revenue, "count"), won_vnd_count);
  ASSERT_EQ(member(revenue, "by_month").items.size(), 1u) << r.body;
  const auto& m = member(revenue, "by_month").items[0];
  EXPECT_EQ(text(m, "month"), month);
  EXPECT_EQ(amount(m, "amount"), money_text(won_vnd));
  EXPECT_EQ(ids_at(c, text(m, "items_url")), won_vnd_ids);
  ASSERT_EQ(member(revenue, "excluded").items.size(), 1u);
  EXPECT_EQ(text(member(member(revenue, "excluded").items[0], "amount"), "currency"), "USD");

  const auto& rate = member(r.json, "win_rate");
  EXPECT_EQ(number(rate, "won"), won);
  EXPECT_EQ(number(rate, "lost"), lost);
  EXPECT_EQ(text(rate, "percent"), win_rate);
  EXPECT_EQ(win_rate, "80.00");
  EXPECT_EQ(ids_at(c, text(rate, "won_url")), won_ids);
  EXPECT_EQ(ids_at(c, text(rate, "lost_url")), lost_ids);

  const auto& deal_size = member(r.json, "average_deal_size");
  EXPECT_EQ(amount(deal_size, "amount"), money_text(won_vnd / won_vnd_count));
  EXPECT_EQ(won_vnd % won_vnd_count, 0);  // chosen so the average is exact
  EXPECT_EQ(ids_at(c, text(deal_size, "items_url")), won_vnd_ids);
  const auto& cycle = member(r.json, "average_cycle_days");
  // Σ days / count to 4 decimals (half up), shown with 2 to 4 of them.
  std::int64_t units = (cycle_days * 10000 * 2 + won) / (2 * won);
  std::string days =
      std::to_string(units / 10000) + "." + std::to_string(units % 10000 + 10000).substr(1);
  while (days.size() > days.find('.') + 3 && days.back() == '0')
    days.pop_back();
  EXPECT_EQ(text(cycle, "days"), days);

  // The open pipeline: the reopened and the untouched deal, at prospecting's 10 %.
  const auto& open = member(r.json, "open_pipeline");
  EXPECT_EQ(number(open, "count"), 2);
  EXPECT_EQ(amount(open, "unweighted"), "470000.00");
  EXPECT_EQ(amount(open, "weighted"), "47000.00");
  EXPECT_EQ(ids_at(c, text(open, "items_url")), (std::set<std::string>{deals[2].id, deals[6].id}));

  // A period without closed deals.
  r = c.get("/v1/dashboards/sales?from=2020-01-01&to=2020-03-31" + at_position());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(member(member(r.json, "won_revenue"), "by_month").items.size(), 3u);
  EXPECT_EQ(text(member(r.json, "win_rate"), "percent"), "0.00");
  EXPECT_EQ(amount(member(r.json, "average_deal_size"), "amount"), "0.00");

  for (const char* bad :
       {"?month=2026-13", "?from=2026-05-01&to=2026-04-01", "?date=today",
        "?month=2026-05&from=2026-05-01", "?colour=red", "?from=2000-01-01&to=2026-01-01"}) {
    EXPECT_EQ(c.get(std::string("/v1/dashboards/sales") + bad).status, 400) << bad;
  }
}

TEST_F(SalesReportsTest, DashboardActivitiesTasksAndAppointments) {
  CrmClient c(server_.port());
  std::string acc = create(c, "accounts", R"({"name":"Care Co"})");
  using namespace domain;
  auto log = [&](const std::string& id, const char* rep, const char* when) {
    activity::Logged e;
    e.activity_id = id;
    e.account_id = acc;
    e.kind = "call";
    e.subject = "call " + id;
    e.occurred_at = at(when);
    e.logged_by = rep;
    append<activity::Aggregate>(c, id, e);
  };
  log("a1", "rep-a", "2030-01-14T09:00:00Z");  // Monday of the week of 2030-01-15
  log("a2", "rep-a", "2030-01-15T09:00:00Z");
  log("a3", "rep-a", "2030-01-20T23:00:00Z");  // Sunday
  log("a4", "rep-b", "2030-01-16T09:00:00Z");
  log("a5", "rep-a", "2030-01-13T09:00:00Z");  // the week before
  log("a6", "rep-b", "2030-01-21T00:00:00Z");  // the week after

  auto task = [&](const std::string& id, const char* due) {
    task::Created e;
    e.task_id = id;
    e.title = "task " + id;
    e.assignee_id = "rep-a";
    e.due_date = day(due);
    e.account_id = acc;
    e.created_by = "rep-a";
    e.created_at = at("2030-01-01T08:00:00Z");
    append<task::Aggregate>(c, id, e);
  };
  task("t1", "2030-01-10");  // overdue
  task("t2", "2030-01-12");  // done
  append<task::Aggregate>(c, "t2", task::Completed{"t2", acc, "rep-a", at("2030-01-12T10:00:00Z")});
  task("t3", "2030-01-15");  // due today: not overdue
  task("t4", "2030-01-01");  // postponed
  append<task::Aggregate>(c, "t4",
                          task::DueDateChanged{"t4", acc, day("2030-02-01"), day("2030-01-01")});
  task("t5", "2030-01-14");  // done, then reopened: overdue
  append<task::Aggregate>(c, "t5", task::Completed{"t5", acc, "rep-a", at("2030-01-14T10:00:00Z")});
  append<task::Aggregate>(c, "t5", task::Reopened{"t5", acc});

  auto appointment = [&](const std::string& id, const char* starts) {
    appointment::Scheduled e;
    e.appointment_id = id;
    e.account_id = acc;
    e.subject = "visit " + id;
    e.starts_at = at(starts);
    e.ends_at = at(starts).plus_minutes(30);
    e.owner_id = "rep-a";
    append<appointment::Aggregate>(c, id, e);
  };
  appointment("p1", "2030-01-15T09:00:00Z");
  appointment("p2", "2030-01-15T23:30:00Z");
  appointment("p3", "2030-01-16T00:00:00Z");  // tomorrow
  appointment("p4", "2030-01-15T10:00:00Z");  // cancelled
  append<appointment::Aggregate>(c, "p4", appointment::Cancelled{"p4", acc, std::nullopt});
  appointment("p5", "2030-01-14T10:00:00Z");  // moved to today
  append<appointment::Aggregate>(c, "p5",
                                 appointment::Rescheduled{"p5", acc, at("2030-01-15T12:00:00Z"),
                                                          at("2030-01-15T13:00:00Z"), 15});

  Reply r = c.get("/v1/dashboards/sales?date=2030-01-15" + at_position());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& week = member(r.json, "activities_this_week");
  EXPECT_EQ(text(week, "from"), "2030-01-14");
  EXPECT_EQ(text(week, "to"), "2030-01-20");
  EXPECT_EQ(number(week, "total"), 4);
  const auto& reps = member(week, "by_rep").items;
  ASSERT_EQ(reps.size(), 2u) << r.body;
  EXPECT_EQ(text(reps[0], "rep"), "rep-a");
  EXPECT_EQ(number(reps[0], "count"), 3);
  EXPECT_EQ(text(reps[1], "rep"), "rep-b");
  EXPECT_EQ(number(reps[1], "count"), 1);
  // The drill-downs list the same records (through the care collections).
  EXPECT_EQ(ids_at(c, text(reps[0], "items_url")), (std::set<std::string>{"a1", "a2", "a3"}));
  EXPECT_EQ(ids_at(c, text(week, "items_url")), (std::set<std::string>{"a1", "a2", "a3", "a4"}));

  const auto& overdue = member(r.json, "overdue_tasks");
  EXPECT_EQ(number(overdue, "count"), 2);
  ASSERT_EQ(member(overdue, "items").items.size(), 2u);
  EXPECT_EQ(text(member(overdue, "items").items[0], "id"), "t1");
  EXPECT_EQ(text(member(overdue, "items").items[1], "id"), "t5");
  EXPECT_EQ(text(member(overdue, "items").items[1], "url"), "/v1/tasks/t5");
  EXPECT_EQ(ids_at(c, text(overdue, "items_url")), (std::set<std::string>{"t1", "t5"}));

  const auto& today = member(r.json, "todays_appointments");
  EXPECT_EQ(number(today, "count"), 3);
  std::vector<std::string> ids;
  for (const auto& item : member(today, "items").items)
    ids.push_back(text(item, "id"));
  EXPECT_EQ(ids, (std::vector<std::string>{"p1", "p5", "p2"}));
  EXPECT_EQ(ids_at(c, text(today, "items_url")), (std::set<std::string>{"p1", "p5", "p2"}));
}

TEST_F(SalesReportsTest, Account360) {
  CrmClient c(server_.port());
  using namespace domain;
  std::string x = create(c, "accounts", R"({"name":"Account X"})");
  std::string y = create(c, "accounts", R"({"name":"Account Y"})");
  auto deal = [&](const std::string& acc, const char* name) {
    return create(
        c, "opportunities",
        R"({"account_id":")" + acc + R"(","name":")" + name +
            R"(","amount":{"amount":"1000","currency":"VND"},"expected_close_date":"2026-06-30"})");
  };
  std::string o1 = deal(x, "Open deal"), o2 = deal(x, "Won deal"), o3 = deal(y, "Y deal");
  command(c, "/v1/opportunities/" + o2 + "/win", "{}");

  auto contact = [&](const std::string& id, const std::string& acc, const char* first,
                     const char* last) {
    contact::Created e;
    e.contact_id = id;
    e.account_id = acc;
    e.profile.first_name = first;
    e.profile.last_name = last;
    e.owner_id = "rep-a";
    e.created_by = "rep-a";
    e.created_at = at("2026-01-01T00:00:00Z");
    append<contact::Aggregate>(c, id, e);
  };
  contact("c1", x, "Binh", "Tran");
  contact("c2", x, "An", "Nguyen");
  contact("c3", x, "Chi", "Le");
  append<contact::Aggregate>(c, "c3", contact::LinkedToAccount{"c3", y, x});
  contact("c4", x, "Dung", "Pham");
  append<contact::Aggregate>(c, "c4", contact::Archived{"c4", x, std::nullopt});

  for (int i = 1; i <= 12; ++i) {  // more than a section lists
    activity::Logged e;
    e.activity_id = "a" + std::to_string(i);
    e.account_id = x;
    e.kind = "meeting";
    e.subject = "met " + e.activity_id;
    e.occurred_at = Timestamp{at("2026-01-01T09:00:00Z").ms + i * 86'400'000LL};
    e.logged_by = "rep-a";
    append<activity::Aggregate>(c, e.activity_id, e);
  }
  for (auto [id, when] :
       {std::pair{"ap1", "2030-01-01T09:00:00Z"}, std::pair{"ap2", "2020-01-01T09:00:00Z"},
        std::pair{"ap3", "2031-01-01T09:00:00Z"}}) {
    appointment::Scheduled e;
    e.appointment_id = id;
    e.account_id = x;
    e.subject = std::string("visit ") + id;
    e.starts_at = at(when);
    e.ends_at = at(when).plus_minutes(60);
    e.owner_id = "rep-a";
    append<appointment::Aggregate>(c, id, e);
  }
  append<appointment::Aggregate>(c, "ap3", appointment::Cancelled{"ap3", x, std::nullopt});
  for (auto id : {"t1", "t2"}) {
    task::Created e;
    e.task_id = id;
    e.title = std::string("task ") + id;
    e.assignee_id = "rep-a";
    e.due_date = day("2030-01-10");
    e.account_id = x;
    e.created_by = "rep-a";
    e.created_at = at("2026-01-01T00:00:00Z");
    append<task::Aggregate>(c, id, e);
  }
  append<task::Aggregate>(c, "t2", task::Completed{"t2", x, "rep-a", at("2026-01-02T00:00:00Z")});

  quote::Totals totals;
  totals.subtotal = totals.total = Money{Decimal::from_int(5000), "VND"};
  totals.discount = totals.tax = Money{Decimal{}, "VND"};
  quote::Line line;
  line.product_id = "p-1";
  line.quantity = Decimal::from_int(1);
  line.unit_price = Decimal::from_int(5000);
  quote::Created q;
  q.quote_id = "q1";
  q.account_id = x;
  q.currency = "VND";
  q.lines = {line};
  q.totals = totals;
  q.created_by = "rep-a";
  q.created_at = at("2026-03-01T00:00:00Z");
  append<quote::Aggregate>(c, "q1", q);
  append<quote::Aggregate>(c, "q1", quote::Accepted{"q1", x, "o1", at("2026-03-02T00:00:00Z")});
  order::Created o;
  o.order_id = "o1";
  o.account_id = x;
  o.quote_id = "q1";
  o.currency = "VND";
  o.lines = {line};
  o.totals = totals;
  o.created_by = "rep-a";
  o.created_at = at("2026-03-02T00:00:00Z");
  append<order::Aggregate>(c, "o1", o);
  contract::Created k;
  k.contract_id = "k1";
  k.account_id = x;
  k.title = "Support 2026";
  k.start_date = day("2026-01-01");
  k.end_date = day("2026-12-31");
  k.created_by = "rep-a";
  k.created_at = at("2026-03-03T00:00:00Z");
  append<contract::Aggregate>(c, "k1", k);

  Reply r = c.get("/v1/accounts/" + x + "/360" + at_position('?'));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(text(member(r.json, "account"), "name"), "Account X");
  auto ids = [&](std::string_view section) {
    std::vector<std::string> out;
    for (const auto& item : member(member(r.json, section), "items").items)
      out.push_back(text(item, "id"));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("contacts"), (V{"c2", "c1"}));  // by last name: Nguyen, Tran
  EXPECT_EQ(text(member(member(r.json, "contacts"), "items").items[0], "name"), "An Nguyen");
  EXPECT_EQ(ids("open_opportunities"), V{o1});
  // Newest first, ten of them, with the count of all.
  EXPECT_EQ(ids("recent_activities"),
            (V{"a12", "a11", "a10", "a9", "a8", "a7", "a6", "a5", "a4", "a3"}));
  EXPECT_EQ(number(member(r.json, "recent_activities"), "count"), 12);
  EXPECT_EQ(number(member(r.json, "contacts"), "count"), 2);
  EXPECT_EQ(number(member(r.json, "upcoming_appointments"), "count"), 1);
  EXPECT_EQ(number(member(r.json, "open_tasks"), "count"), 1);
  EXPECT_EQ(ids("upcoming_appointments"), V{"ap1"});
  EXPECT_EQ(ids("open_tasks"), V{"t1"});
  EXPECT_EQ(ids("quotes"), V{"q1"});
  EXPECT_EQ(ids("orders"), V{"o1"});
  EXPECT_EQ(ids("contracts"), V{"k1"});
  const auto& quote_item = member(member(r.json, "quotes"), "items").items.at(0);
  EXPECT_EQ(text(quote_item, "status"), "accepted");
  EXPECT_EQ(text(quote_item, "order_id"), "o1");
  EXPECT_EQ(amount(quote_item, "total"), "5000.00");
  EXPECT_EQ(text(member(member(r.json, "open_opportunities"), "items").items.at(0), "url"),
            "/v1/opportunities/" + o1);
  EXPECT_EQ(number(member(r.json, "open_opportunities"), "count"), 1);
  EXPECT_EQ(text(member(r.json, "open_opportunities"), "items_url"),
            "/v1/opportunities?account_id=" + x + "&status=open");
  EXPECT_EQ(ids_at(c, text(member(r.json, "open_opportunities"), "items_url")),
            std::set<std::string>{o1});
  EXPECT_EQ(ids_at(c, text(member(r.json, "contacts"), "items_url")),
            (std::set<std::string>{"c1", "c2"}));
  EXPECT_EQ(ids_at(c, text(member(r.json, "open_tasks"), "items_url")),
            std::set<std::string>{"t1"});
  EXPECT_EQ(ids_at(c, text(member(r.json, "contracts"), "items_url")), std::set<std::string>{"k1"});

  r = c.get("/v1/accounts/" + y + "/360" + at_position('?'));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids("contacts"), V{"c3"});
  EXPECT_EQ(number(member(r.json, "contacts"), "count"), 1);
  EXPECT_EQ(number(member(r.json, "recent_activities"), "count"), 0);
  EXPECT_EQ(ids("open_opportunities"), V{o3});
  EXPECT_EQ(ids("quotes"), V{});

  EXPECT_EQ(c.get("/v1/accounts/no-such/360").status, 404);
  EXPECT_EQ(c.get("/v1/accounts/" + x + "/360?x=1").status, 400);
}

}  // namespace
}  // namespace eventcrm::test
