// Lead decisions and conversion: given events, when a command, then events or an error.
#include "domain/lead.hpp"

#include "given_when_then.hpp"

using namespace eventcrm::domain;
using eventcrm::testing::at;
using eventcrm::testing::Case;
using eventcrm::testing::day;
using eventcrm::testing::Fails;
using eventcrm::testing::fixed_context;
using eventcrm::testing::run_cases;
using eventcrm::testing::vnd;
using Lead = lead::Aggregate;

namespace {
using E = std::vector<lead::Event>;
const Timestamp kNow = at("2026-03-02T10:00:00Z");

lead::Created created() {
  lead::Utm utm;
  utm.source = "google";
  utm.campaign = "spring";
  return lead::Created{"r-1",
                       "Minh Phat",
                       "Lan",
                       "Nguyen",
                       std::string("lan@mp.vn"),
                       std::nullopt,
                       std::string("web_form"),
                       std::string("camp-1"),
                       utm,
                       "u-ann",
                       "u-ann",
                       kNow};
}
lead::Qualified qualified() {
  return {"r-1", std::string("camp-1"), "u-ann"};
}
lead::Disqualified disqualified() {
  return {"r-1", std::string("camp-1"), "no budget"};
}
}  // namespace

TEST(Lead, CreateQualifyDisqualifyAssign) {
  lead::Create c{"Minh Phat",
                 "Lan",
                 "Nguyen",
                 std::string("lan@mp.vn"),
                 std::nullopt,
                 std::string("web_form"),
                 std::string("camp-1"),
                 created().utm,
                 std::nullopt};
  lead::Create bad{"", "", "", std::string("not-mail"), std::string("12"), {}, {}, {}, {}};
  lead::Create for_bob = c;
  for_bob.owner_id = "u-bob";
  lead::Created bobs = created();
  bobs.owner_id = "u-bob";
  notification::Requested notice{"id-1",
                                 "u-bob",
                                 "assignment",
                                 "lead",
                                 "r-1",
                                 std::nullopt,
                                 "You were assigned the lead \"Minh Phat\"",
                                 "u-ann",
                                 kNow};
  run_cases<Lead>({
      {"create", {}, c, E{created()}},
      {"create for another rep notifies them", {}, for_bob, E{bobs, notice}},
      {"create twice", {created()}, c, Fails{errc::already_exists}},
      {"create invalid",
       {},
       bad,
       Fails{errc::validation, {}, {"company", "last_name", "email", "phone"}}},
      {"qualify", {created()}, lead::Qualify{}, E{qualified()}},
      {"qualify twice",
       {created(), qualified()},
       lead::Qualify{},
       Fails{errc::invalid_transition, {"convert", "disqualify", "assign"}}},
      {"requalify a disqualified lead",
       {created(), disqualified()},
       lead::Qualify{},
       E{qualified()}},
      {"disqualify", {created()}, lead::Disqualify{"no budget"}, E{disqualified()}},
      {"disqualify a qualified lead",
       {created(), qualified()},
       lead::Disqualify{"no budget"},
       E{disqualified()}},
      {"disqualify without a reason",
       {created()},
       lead::Disqualify{""},
       Fails{errc::validation, {}, {"reason"}}},
      {"disqualify twice",
       {created(), disqualified()},
       lead::Disqualify{"x"},
       Fails{errc::invalid_transition, {"qualify", "assign"}}},
      {"assign notifies",
       {created()},
       lead::Assign{"u-bob"},
       E{lead::Assigned{"r-1", "u-bob", std::string("u-ann")}, notice}},
      {"assign to the owner", {created()}, lead::Assign{"u-ann"}, E{}},
      {"assign nobody", {created()}, lead::Assign{""}, Fails{errc::validation, {}, {"owner_id"}}},
      {"missing", {}, lead::Qualify{}, Fails{errc::not_found}},
  });
}

TEST(Lead, AssignWithoutNotificationWhenTheSettingIsOff) {
  auto ctx = fixed_context();
  ctx.assignment_notifications = false;
  run_cases<Lead>({{"no notice",
                    {created()},
                    lead::Assign{"u-bob"},
                    E{lead::Assigned{"r-1", "u-bob", std::string("u-ann")}}}},
                  ctx);
}

TEST(Lead, ConversionCreatesAccountContactAndOpportunity) {
  lead::State s;
  for (const lead::Event& e : E{created(), qualified()})
    Lead::apply(s, e);
  lead::Convert c;
  c.amount = vnd("5000000");
  c.expected_close_date = day("2026-09-30");
  c.stage = "qualification";
  auto ctx = fixed_context();
  auto r = lead::decide_conversion(s, nullptr, c, ctx);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->account_id, "id-1");
  EXPECT_EQ(r->contact_id, "id-2");
  EXPECT_EQ(r->opportunity_id, "id-3");
  ASSERT_TRUE(r->account);
  EXPECT_EQ(r->account->profile.name, "Minh Phat");
  EXPECT_EQ(r->account->lead_id, "r-1");
  EXPECT_EQ(r->contact.account_id, "id-1");
  EXPECT_EQ(r->contact.profile.email, "lan@mp.vn");
  ASSERT_EQ(r->opportunity_events.size(), 1u);  // the owner converts: no notification
  const auto& opp = std::get<opportunity::Created>(r->opportunity_events[0]);
  EXPECT_EQ(opp.campaign_id, "camp-1");
  EXPECT_EQ(opp.lead_id, "r-1");
  EXPECT_EQ(opp.contact_id, "id-2");
  EXPECT_EQ(opp.probability, 25);
  E converted{lead::Converted{"r-1", "id-1", "id-2", "id-3", true, std::string("camp-1")}};
  EXPECT_TRUE(r->lead_events == converted);
  Lead::apply(s, r->lead_events[0]);
  EXPECT_EQ(s.status, lead::Status::converted);
  EXPECT_EQ(s.account_id, "id-1");
}

TEST(Lead, ConversionRules) {
  lead::State open, qualified_state, converted;
  Lead::apply(open, created());
  qualified_state = open;
  Lead::apply(qualified_state, qualified());
  converted = qualified_state;
  Lead::apply(converted, lead::Converted{"r-1", "a", "c", "o", true, std::nullopt});
  lead::Convert c;
  c.amount = vnd("1");
  c.expected_close_date = day("2026-09-30");
  auto ctx = fixed_context();

  auto not_qualified = lead::decide_conversion(open, nullptr, c, ctx);
  ASSERT_FALSE(not_qualified);
  EXPECT_EQ(not_qualified.error().code, errc::invalid_transition);
  EXPECT_EQ(not_qualified.error().allowed,
            (std::vector<std::string>{"qualify", "disqualify", "assign"}));
  auto twice = lead::decide_conversion(converted, nullptr, c, ctx);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, errc::invalid_transition);
  EXPECT_TRUE(twice.error().allowed.empty());
  EXPECT_EQ(lead::decide_conversion(lead::State{}, nullptr, c, ctx).error().code, errc::not_found);

  lead::Convert link = c;
  link.account_id = "a-9";
  account::State archived;
  archived.exists = archived.archived = true;
  auto to_archived = lead::decide_conversion(qualified_state, &archived, link, ctx);
  ASSERT_FALSE(to_archived);
  EXPECT_EQ(to_archived.error().fields.at(0).field, "account_id");
  account::State live;
  live.exists = true;
  auto linked = lead::decide_conversion(qualified_state, &live, link, ctx);
  ASSERT_TRUE(linked);
  EXPECT_FALSE(linked->account);
  EXPECT_EQ(linked->account_id, "a-9");
  EXPECT_EQ(linked->contact_id, "id-1");

  lead::Convert bad = c;
  bad.expected_close_date.reset();
  bad.amount = Money{Decimal::from_int(-1), "VND"};
  auto invalid = lead::decide_conversion(qualified_state, nullptr, bad, ctx);
  ASSERT_FALSE(invalid);
  ASSERT_EQ(invalid.error().fields.size(), 2u);
  EXPECT_EQ(invalid.error().fields[0].field, "opportunity.amount");
  EXPECT_EQ(invalid.error().fields[1].field, "opportunity.expected_close_date");
}
