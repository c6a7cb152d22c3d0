// The pipeline report and the sales dashboard narrowed to the caller's record-level reach,
// through the real server: two sales users in team north (ann, managed by maria; carl), one in
// team south (ben), their manager maria (team mgmt) and the bootstrap admin. Each principal's
// figures are checked against sums the test computes from the records it made and the owners
// that principal may see; `scope` says whether the figures were narrowed.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "crm_client.hpp"
#include "domain/activity.hpp"
#include "domain/appointment.hpp"
#include "domain/opportunity.hpp"
#include "domain/task.hpp"

namespace eventcrm::test {
namespace {

using domain::Date;
using domain::Timestamp;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string percent_text(std::int64_t n, std::int64_t total) {
  if (total == 0)
    return "0.00";
  std::int64_t hundredths = (n * 10000 * 2 + total) / (2 * total);
  return std::to_string(hundredths / 100) + "." + std::to_string(hundredths % 100 + 100).substr(1);
}

class SalesReportsReachTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("sales-reports-reach");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }

  // A user with the given role and team (and manager), and an API key for them.
  void user(CrmClient& admin, const std::string& name, const std::string& role,
            const std::string& team, const std::string& manager = "") {
    std::string body = R"({"name":")" + name + R"(","email":")" + name +
                       R"(@crm.example","roles":[")" + role + R"("],"team_id":")" + team + "\"" +
                       (manager.empty() ? "" : R"(,"manager_id":")" + ids_.at(manager) + "\"") +
                       "}";
    Reply r = admin.post("/v1/users", body);
    ASSERT_EQ(r.status, 201) << r.body;
    ids_[name] = r.str("id");
    r = admin.post("/v1/api-keys", R"({"user_id":")" + ids_[name] + "\"}");
    ASSERT_EQ(r.status, 201) << r.body;
    keys_[name] = r.str("key");
  }
  Headers as(const std::string& name) const {
    if (name == "admin")
      return {};  // the harness sends the bootstrap admin key
    return {{"Authorization", "Bearer " + keys_.at(name)}};
  }
  // The user id of a test name ("" stays "": no owner).
  std::string id(const std::string& name) const { return name.empty() ? "" : ids_.at(name); }

  template <class A>
  void append(CrmClient& c, const std::string& record, const typename A::Event& e) {
    std::string body = R"({"events":[{"type":")" + std::string(A::type_of(e)) + R"(","data":)" +
                       A::encode(e) + "}]}";
    Reply r = c.post("/v1/streams/" + std::string(A::category) + "-" + record, body);
    ASSERT_EQ(r.status, 201) << body << " → " << r.body;
    position_ = std::max(position_, r.num("position"));
  }
  void command(CrmClient& c, const std::string& path, const std::string& body) {
    Reply r = c.post(path, body);
    ASSERT_EQ(r.status, 200) << path << " " << body << " → " << r.body;
    position_ = std::max(position_, r.num("position"));
  }
  // The ids a list URL gives the user (every page).
  std::set<std::string> ids_at(CrmClient& c, const std::string& url, const std::string& who) {
    return c.all_ids(url, as(who), 20);
  }

  std::filesystem::path dir_;
  ServerProcess server_;
  std::map<std::string, std::string> ids_;
  std::map<std::string, std::string> keys_;
  std::int64_t position_ = 0;  // of the last write
};

int default_probability(const std::string& stage) {
  static const std::map<std::string, int> p = {
      {"prospecting", 10}, {"qualification", 25}, {"proposal", 50}, {"negotiation", 75}};
  return p.at(stage);
}

struct Deal {
  std::string owner;  // a test name, "" for none
  std::string stage;
  std::int64_t amount = 0;
  std::string currency = "VND";
  std::string fate = "open";  // open | won | lost
  std::string id = {};
};

struct Sums {
  std::int64_t count = 0, unweighted = 0, weighted = 0;
  std::set<std::string> ids;
  void add(const Deal& d) {
    ++count;
    unweighted += d.amount;
    weighted += d.amount * default_probability(d.stage) / 100;  // exact: multiples of 100
    ids.insert(d.id);
  }
};

TEST_F(SalesReportsReachTest, PipelineAndDashboardCoverOnlyOwnersWithinReach) {
  CrmClient c(server_.port());
  user(c, "maria", "manager", "mgmt");
  user(c, "ann", "sales", "north", "maria");
  user(c, "carl", "sales", "north");
  user(c, "ben", "sales", "south");
  ASSERT_FALSE(HasFatalFailure());
  // Whose records each principal sees: a sales user their team's, the manager the teams of the
  // people they manage and their own, the admin everyone's (records without an owner too).
  const std::map<std::string, std::set<std::string>> reach = {
      {"admin", {"ann", "carl", "ben", "maria", ""}},
      {"ann", {"ann", "carl"}},
      {"ben", {"ben"}},
      {"maria", {"ann", "carl", "maria"}},
  };

  std::string acc = c.create("accounts", R"({"name":"Reach Co"})");
  std::vector<Deal> deals = {
      {"ann", "proposal", 100000},
      {"ann", "prospecting", 20000},
      {"ann", "proposal", 500, "USD"},
      {"carl", "qualification", 40000},
      {"ben", "proposal", 300000},
      {"ben", "negotiation", 400000},
      {"ben", "proposal", 700, "EUR"},
      {"ben", "prospecting", 10000},  // reassigned to ann below
      {"maria", "qualification", 80000},
      {"ann", "proposal", 60000, "VND", "won"},
      {"ben", "proposal", 90000, "VND", "won"},  // won, then reassigned to carl below
      {"ben", "proposal", 30000, "VND", "won"},
      {"ben", "proposal", 50000, "VND", "lost"},
      {"maria", "proposal", 70000, "VND", "lost"},
  };
  for (Deal& d : deals) {
    d.id = c.create("opportunities",
                    R"({"account_id":")" + acc + R"(","name":"Deal","amount":{"amount":")" +
                        std::to_string(d.amount) + R"(","currency":")" + d.currency +
                        R"("},"expected_close_date":"2030-06-30",)" + R"("stage":")" + d.stage +
                        R"(","owner_id":")" + id(d.owner) + "\"}");
    ASSERT_FALSE(d.id.empty());
    position_ = std::max(position_, c.last_position);
    if (d.fate == "won")
      command(c, "/v1/opportunities/" + d.id + "/win", "{}");
    else if (d.fate == "lost")
      command(c, "/v1/opportunities/" + d.id + "/lose", R"({"reason":"price"})");
  }
  // Reassigned: the open deal's pipeline figures and the won deal's revenue follow the owner.
  command(c, "/v1/opportunities/" + deals[7].id + "/assign",
          R"({"owner_id":")" + id("ann") + "\"}");
  deals[7].owner = "ann";
  command(c, "/v1/opportunities/" + deals[10].id + "/assign",
          R"({"owner_id":")" + id("carl") + "\"}");
  deals[10].owner = "carl";
  // An opportunity without an owner (the API always sets one; an imported event may not).
  {
    domain::opportunity::Created e;
    e.opportunity_id = "opp-ownerless";
    e.account_id = acc;
    e.name = "Nobody's";
    e.amount = {*domain::Decimal::parse("7000"), "VND"};
    e.expected_close_date = *Date::parse("2030-06-30");
    e.probability = 10;
    e.stage = "prospecting";
    e.created_at = *Timestamp::parse("2030-01-01T00:00:00Z");
    append<domain::opportunity::Aggregate>(c, "opp-ownerless", e);
    deals.push_back({"", "prospecting", 7000, "VND", "open", "opp-ownerless"});
  }

  // Activities, overdue tasks and today's appointments (the dashboard's day: 2030-01-15).
  int n = 0;
  std::map<std::string, std::int64_t> activities = {
      {"ann", 2}, {"carl", 1}, {"ben", 3}, {"maria", 1}};
  for (const auto& [who, count] : activities) {
    for (std::int64_t i = 0; i < count; ++i) {
      domain::activity::Logged e;
      e.activity_id = "act-" + std::to_string(++n);
      e.account_id = acc;
      e.kind = "call";
      e.subject = "call";
      e.occurred_at = *Timestamp::parse("2030-01-16T09:00:00Z");
      e.logged_by = id(who);
      append<domain::activity::Aggregate>(c, e.activity_id, e);
    }
  }
  std::map<std::string, std::string> tasks = {
      {"task-1", "ann"}, {"task-2", "ben"}, {"task-3", "ben"}, {"task-4", "maria"}};
  for (const auto& [task_id, who] : tasks) {
    domain::task::Created e;
    e.task_id = task_id;
    e.title = "follow up";
    e.assignee_id = id(who);
    e.due_date = *Date::parse("2030-01-10");
    e.account_id = acc;
    e.created_by = id(who);
    e.created_at = *Timestamp::parse("2030-01-01T08:00:00Z");
    append<domain::task::Aggregate>(c, task_id, e);
  }
  std::map<std::string, std::string> appointments = {
      {"appt-1", "ann"}, {"appt-2", "ben"}, {"appt-3", "carl"}};
  for (const auto& [appt_id, who] : appointments) {
    domain::appointment::Scheduled e;
    e.appointment_id = appt_id;
    e.account_id = acc;
    e.subject = "visit";
    e.starts_at = *Timestamp::parse("2030-01-15T10:00:00Z");
    e.ends_at = e.starts_at.plus_minutes(30);
    e.owner_id = id(who);
    append<domain::appointment::Aggregate>(c, appt_id, e);
  }
  ASSERT_FALSE(HasFatalFailure());
  // Every later query waits for this position (the last write).
  std::string at = "min_position=" + std::to_string(position_);

  // Open deals in VND each principal should count (the test's own model, spelled out).
  const std::map<std::string, std::int64_t> open_in_vnd = {
      {"admin", 8}, {"ann", 4}, {"ben", 2}, {"maria", 5}};
  for (const auto& [who, owners] : reach) {
    SCOPED_TRACE(who);
    auto sees = [&owners = owners](const std::string& owner) { return owners.count(owner) > 0; };
    const std::string scope = who == "admin" ? "all" : "reach";

    // ---- the pipeline, by stage and by owner ----
    std::map<std::string, Sums> by_stage, by_owner;
    Sums total;
    std::map<std::string, std::int64_t> excluded;
    for (const Deal& d : deals) {
      if (d.fate != "open" || !sees(d.owner))
        continue;
      if (d.currency != "VND") {
        ++excluded[d.currency];
        continue;
      }
      by_stage[d.stage].add(d);
      by_owner[id(d.owner)].add(d);
      total.add(d);
    }
    EXPECT_EQ(total.count, open_in_vnd.at(who));
    Reply r = c.get("/v1/reports/pipeline?" + at, as(who));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.str("scope"), scope);
    std::vector<std::string> keys;
    for (const auto& g : member(r.json, "groups").items) {
      std::string key = text(g, "key");
      keys.push_back(key);
      Sums e = by_stage.count(key) ? by_stage[key] : Sums{};
      EXPECT_EQ(number(g, "count"), e.count) << key;
      EXPECT_EQ(amount(g, "unweighted"), money_text(e.unweighted)) << key;
      EXPECT_EQ(amount(g, "weighted"), money_text(e.weighted)) << key;
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"prospecting", "qualification", "proposal",
                                              "negotiation"}));
    const auto& t = member(r.json, "total");
    EXPECT_EQ(number(t, "count"), total.count);
    EXPECT_EQ(amount(t, "unweighted"), money_text(total.unweighted));
    EXPECT_EQ(amount(t, "weighted"), money_text(total.weighted));
    // The drill-down, asked by the same principal, lists the same deals (lists are narrowed too).
    EXPECT_EQ(ids_at(c, text(t, "items_url"), who), total.ids);
    const auto& ex = member(r.json, "excluded");
    std::int64_t excluded_count = 0;
    std::vector<std::string> currencies, expected_currencies;
    for (const auto& [currency, count] : excluded) {
      excluded_count += count;
      expected_currencies.push_back(currency);
    }
    for (const auto& cur : member(ex, "currencies").items)
      currencies.push_back(cur.text);
    EXPECT_EQ(number(ex, "count"), excluded_count);
    EXPECT_EQ(currencies, expected_currencies);

    r = c.get("/v1/reports/pipeline?group_by=owner&" + at, as(who));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.str("scope"), scope);
    std::map<std::string, std::int64_t> owner_counts, expected_owner_counts;
    for (const auto& g : member(r.json, "groups").items) {
      std::string owner = text(g, "key");
      owner_counts[owner] = number(g, "count");
      auto it = by_owner.find(owner);
      EXPECT_EQ(amount(g, "unweighted"),
                money_text(it == by_owner.end() ? -1 : it->second.unweighted))
          << owner;
    }
    for (const auto& [owner, s] : by_owner)
      expected_owner_counts[owner] = s.count;
    EXPECT_EQ(owner_counts, expected_owner_counts);
    EXPECT_EQ(number(member(r.json, "total"), "count"), total.count);

    // ---- the dashboard: won and lost (closed today, so in the default period) ----
    std::int64_t won = 0, lost = 0, won_vnd = 0;
    for (const Deal& d : deals) {
      if (!sees(d.owner))
        continue;
      if (d.fate == "won") {
        ++won;
        won_vnd += d.amount;
      } else if (d.fate == "lost") {
        ++lost;
      }
    }
    r = c.get("/v1/dashboards/sales?" + at, as(who));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.str("scope"), scope);
    EXPECT_EQ(amount(member(r.json, "won_revenue"), "total"), money_text(won_vnd));
    EXPECT_EQ(number(member(r.json, "won_revenue"), "count"), won);
    const auto& rate = member(r.json, "win_rate");
    EXPECT_EQ(number(rate, "won"), won);
    EXPECT_EQ(number(rate, "lost"), lost);
    EXPECT_EQ(text(rate, "percent"), percent_text(won, won + lost));
    const auto& open = member(r.json, "open_pipeline");
    EXPECT_EQ(number(open, "count"), total.count);
    EXPECT_EQ(amount(open, "unweighted"), money_text(total.unweighted));
    EXPECT_EQ(amount(open, "weighted"), money_text(total.weighted));

    // ---- activities by rep, overdue tasks, today's appointments ----
    r = c.get("/v1/dashboards/sales?date=2030-01-15&" + at, as(who));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.str("scope"), scope);
    std::map<std::string, std::int64_t> reps, expected_reps;
    std::int64_t activities_total = 0;
    for (const auto& [rep, count] : activities) {
      if (sees(rep)) {
        expected_reps[id(rep)] = count;
        activities_total += count;
      }
    }
    const auto& week = member(r.json, "activities_this_week");
    for (const auto& rep : member(week, "by_rep").items)
      reps[text(rep, "rep")] = number(rep, "count");
    EXPECT_EQ(reps, expected_reps);
    EXPECT_EQ(number(week, "total"), activities_total);

    std::set<std::string> overdue, expected_overdue;
    for (const auto& [task_id, assignee] : tasks) {
      if (sees(assignee))
        expected_overdue.insert(task_id);
    }
    const auto& tasks_json = member(r.json, "overdue_tasks");
    for (const auto& item : member(tasks_json, "items").items)
      overdue.insert(text(item, "id"));
    EXPECT_EQ(number(tasks_json, "count"), static_cast<std::int64_t>(expected_overdue.size()));
    EXPECT_EQ(overdue, expected_overdue);

    std::set<std::string> today, expected_today;
    for (const auto& [appt_id, owner] : appointments) {
      if (sees(owner))
        expected_today.insert(appt_id);
    }
    const auto& today_json = member(r.json, "todays_appointments");
    for (const auto& item : member(today_json, "items").items)
      today.insert(text(item, "id"));
    EXPECT_EQ(number(today_json, "count"), static_cast<std::int64_t>(expected_today.size()));
    EXPECT_EQ(today, expected_today);
  }
}

}  // namespace
}  // namespace eventcrm::test
