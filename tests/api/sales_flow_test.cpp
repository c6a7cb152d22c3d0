// The whole sales path through the real server, as a customer's journey: a web-form lead is
// qualified and converted (account + contact + opportunity in one write), the deal moves
// through the stages and is won while others stay open or are lost, and the pipeline report,
// the sales dashboard and the customer's history agree with figures computed here.
#include <gtest/gtest.h>

#include <ctime>

#include "crm_client.hpp"

namespace eventcrm::test {
namespace {

class SalesFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("sales-flow");
    ASSERT_TRUE(server_.start(dir_));
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  ServerProcess server_;
};

TEST_F(SalesFlowTest, WebFormLeadToWonDealShowsUpInEveryReport) {
  CrmClient c(server_.port());
  Reply r = c.post("/v1/web-forms/homepage/submissions",
                   R"({"company":"Flow Trading JSC","first_name":"Lan","last_name":"Tran",)"
                   R"("email":"lan.tran@flow.example","utm_source":"newsletter"})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string lead = r.str("id");
  ASSERT_EQ(c.post("/v1/leads/" + lead + "/qualify", "{}").status, 200);
  r = c.post("/v1/leads/" + lead + "/convert",
             R"({"opportunity":{"name":"Flow: 200 POS terminals","amount":)"
             R"({"amount":"200000000.00","currency":"VND"},"expected_close_date":"2026-12-15"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string account = r.str("account_id"), won_deal = r.str("opportunity_id");
  ASSERT_FALSE(account.empty());
  ASSERT_FALSE(r.str("contact_id").empty());

  auto create = [&](const std::string& name, const std::string& amount, const std::string& stage) {
    return c.create("opportunities", R"({"account_id":")" + account + R"(","name":")" + name +
                                         R"(","amount":{"amount":")" + amount +
                                         R"(","currency":"VND"},"expected_close_date":)"
                                         R"("2027-01-20","stage":")" +
                                         stage + "\"}");
  };
  std::string proposal = create("Flow: support contract", "100000000.00", "proposal");
  std::string negotiation = create("Flow: training", "40000000.00", "negotiation");
  std::string lost = create("Flow: spare parts", "10000000.00", "prospecting");
  ASSERT_EQ(c.post("/v1/opportunities/" + lost + "/lose", R"({"reason":"price"})").status, 200);

  for (const char* stage : {"qualification", "proposal", "negotiation"}) {
    r = c.post("/v1/opportunities/" + won_deal + "/change-stage",
               std::string(R"({"stage":")") + stage + "\"}");
    ASSERT_EQ(r.status, 200) << stage << ": " << r.body;
  }
  r = c.post("/v1/opportunities/" + won_deal + "/win", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string at = "min_position=" + std::to_string(r.num("position"));

  r = c.get("/v1/opportunities/" + won_deal + "?" + at);
  EXPECT_EQ(r.str("status"), "won");
  EXPECT_EQ(r.num("probability"), 100);

  // Open deals only: proposal 100M at 50 %, negotiation 40M at 75 %.
  r = c.get("/v1/reports/pipeline?group_by=stage&" + at);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& total = member(r.json, "total");
  EXPECT_EQ(Reply::text_of(total, "count"), "2") << r.body;
  EXPECT_EQ(text(member(total, "unweighted"), "amount"), "140000000.00");
  EXPECT_EQ(text(member(total, "weighted"), "amount"), "80000000.00");
  for (const auto& g : member(r.json, "groups").items) {
    std::string key = text(g, "key");
    std::string weighted = text(member(g, "weighted"), "amount");
    if (key == "proposal")
      EXPECT_EQ(weighted, "50000000.00");
    else if (key == "negotiation")
      EXPECT_EQ(weighted, "30000000.00");
    else
      EXPECT_EQ(Reply::text_of(g, "count"), "0") << key;
  }

  // The dashboard for this month: one deal won (200M), one lost → 50 %.
  std::time_t now = std::time(nullptr);
  char month[8];
  std::strftime(month, sizeof month, "%Y-%m", std::gmtime(&now));
  r = c.get("/v1/dashboards/sales?month=" + std::string(month) + "&" + at);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(text(member(member(r.json, "won_revenue"), "total"), "amount"), "200000000.00")
      << r.body;
  EXPECT_EQ(text(member(r.json, "win_rate"), "percent"), "50.00");
  EXPECT_EQ(text(member(member(r.json, "average_deal_size"), "amount"), "amount"), "200000000.00");

  // The auditors' view of the customer holds the whole story in log order.
  r = c.get("/v1/customers/" + account + "/history?limit=1000&" + at);
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> types;
  for (const auto& item : r.items().items)
    types.push_back(text(item, "type"));
  for (const char* want :
       {"account.created.v1", "contact.created.v1", "opportunity.created.v1",
        "opportunity.stage_changed.v1", "opportunity.won.v1", "opportunity.lost.v1"}) {
    EXPECT_NE(std::find(types.begin(), types.end(), want), types.end()) << want;
  }
}

}  // namespace
}  // namespace eventcrm::test
