// Lead conversion writes the lead, account, contact and opportunity streams atomically.
#include "app/lead_conversion.hpp"

#include <gtest/gtest.h>

#include "support.hpp"

using namespace eventcrm;
using namespace eventcrm::domain;
using eventcrm::testing::RunnerFixture;

namespace {
void create_qualified_lead(RunnerFixture& f, const std::string& id) {
  lead::Create c;
  c.company = "Công ty Minh Phát";
  c.first_name = "Lan";
  c.last_name = "Nguyễn";
  c.email = "Lan@MinhPhat.vn";
  c.campaign_id = "camp-7";
  ASSERT_TRUE(f.runner->run<lead::Aggregate>(id, c, RunnerFixture::as("u-ann")));
  ASSERT_TRUE(f.runner->run<lead::Aggregate>(id, lead::Qualify{}, RunnerFixture::as("u-ann")));
}
lead::Convert convert_cmd() {
  lead::Convert c;
  c.amount = Money{Decimal::from_int(250'000'000), "VND"};
  c.expected_close_date = Date::parse("2026-09-30");
  return c;
}
std::vector<std::string> types(RunnerFixture& f, const std::string& stream) {
  std::vector<std::string> out;
  auto events = f.store->read_stream(stream, 0, store::Direction::forward, 100);
  if (events) {
    for (const auto& e : *events)
      out.push_back(e.type);
  }
  return out;
}
}  // namespace

TEST(LeadConversion, CreatesAccountContactAndOpportunityInOneAppend) {
  RunnerFixture f;
  create_qualified_lead(f, "l-1");
  std::uint64_t before = f.store->head();
  auto r = app::convert_lead(*f.runner, "l-1", convert_cmd(), RunnerFixture::as("u-ann", 1));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->account_created);
  EXPECT_EQ(r->lead.version, 2);
  EXPECT_EQ(r->lead.position, before + 4);  // one event per stream, one commit
  EXPECT_EQ(types(f, "lead-l-1").back(), "lead.converted.v1");
  EXPECT_EQ(types(f, "account-" + r->account_id), std::vector<std::string>{"account.created.v1"});
  EXPECT_EQ(types(f, "contact-" + r->contact_id), std::vector<std::string>{"contact.created.v1"});
  EXPECT_EQ(types(f, "opportunity-" + r->opportunity_id),
            std::vector<std::string>{"opportunity.created.v1"});

  auto opp = f.runner->load<opportunity::Aggregate>(r->opportunity_id);
  ASSERT_TRUE(opp);
  EXPECT_EQ(opp->state.campaign_id, "camp-7");
  EXPECT_EQ(opp->state.account_id, r->account_id);
  EXPECT_EQ(opp->state.name, "Công ty Minh Phát");
  auto person = f.runner->load<contact::Aggregate>(r->contact_id);
  ASSERT_TRUE(person);
  EXPECT_EQ(person->state.account_id, r->account_id);
  EXPECT_EQ(person->state.normalized_email(), "lan@minhphat.vn");
  auto acc = f.runner->load<account::Aggregate>(r->account_id);
  ASSERT_TRUE(acc);
  EXPECT_EQ(acc->state.profile.name, "Công ty Minh Phát");

  // Converted is final.
  auto again = app::convert_lead(*f.runner, "l-1", convert_cmd(), RunnerFixture::as("u-ann"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, app::errc::invalid_transition);
}

TEST(LeadConversion, LinksAnExistingAccountInThreeStreams) {
  RunnerFixture f;
  account::Create acc;
  acc.profile.name = "Minh Phát";
  ASSERT_TRUE(f.runner->run<account::Aggregate>("a-1", acc, RunnerFixture::as("u-ann")));
  create_qualified_lead(f, "l-1");
  auto cmd = convert_cmd();
  cmd.account_id = "a-1";
  std::uint64_t before = f.store->head();
  auto r = app::convert_lead(*f.runner, "l-1", cmd, RunnerFixture::as("u-ann"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->account_created);
  EXPECT_EQ(r->account_id, "a-1");
  EXPECT_EQ(r->lead.position, before + 3);
  EXPECT_EQ(types(f, "account-a-1").size(), 1u);

  create_qualified_lead(f, "l-2");
  cmd.account_id = "a-missing";
  auto missing = app::convert_lead(*f.runner, "l-2", cmd, RunnerFixture::as("u-ann"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, app::errc::validation);
}

TEST(LeadConversion, WritesNothingWhenAnyStreamFails) {
  RunnerFixture f;
  create_qualified_lead(f, "l-1");
  // The ids the conversion will use next: account id-1, contact id-2, opportunity id-3.
  ASSERT_TRUE(f.store->append("opportunity-id-3", store::ExpectedVersion::any(),
                              {store::NewEvent{"", "test.squatted.v1", "{}", {}}}));
  std::uint64_t before = f.store->head();
  auto r = app::convert_lead(*f.runner, "l-1", convert_cmd(), RunnerFixture::as("u-ann", 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, app::errc::conflict);
  EXPECT_EQ(r.error().current_version, 1);  // the lead's
  EXPECT_EQ(f.store->head(), before);
  EXPECT_EQ(types(f, "lead-l-1").size(), 2u);
  EXPECT_TRUE(types(f, "account-id-1").empty());
  EXPECT_TRUE(types(f, "contact-id-2").empty());

  // Without If-Match the runner decides again with fresh ids.
  auto retried = app::convert_lead(*f.runner, "l-1", convert_cmd(), RunnerFixture::as("u-ann"));
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_NE(retried->opportunity_id, "id-3");
}

TEST(LeadConversion, OnlyQualifiedLeadsConvert) {
  RunnerFixture f;
  lead::Create c;
  c.company = "X";
  c.last_name = "Y";
  ASSERT_TRUE(f.runner->run<lead::Aggregate>("l-1", c, RunnerFixture::as("u-ann")));
  auto r = app::convert_lead(*f.runner, "l-1", convert_cmd(), RunnerFixture::as("u-ann"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, app::errc::invalid_transition);
  EXPECT_EQ(r.error().allowed, (std::vector<std::string>{"qualify", "disqualify", "assign"}));
  auto missing = app::convert_lead(*f.runner, "l-404", convert_cmd(), RunnerFixture::as("u"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, app::errc::not_found);
}
