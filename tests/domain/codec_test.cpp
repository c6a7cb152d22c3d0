// Every event type survives its codec, the registry knows every type, and the JSON shapes
// (money, dates, times) follow the API conventions.
#include <gtest/gtest.h>

#include <set>

#include "domain/account.hpp"
#include "domain/activity.hpp"
#include "domain/api_key.hpp"
#include "domain/appointment.hpp"
#include "domain/campaign.hpp"
#include "domain/contact.hpp"
#include "domain/contract.hpp"
#include "domain/json.hpp"
#include "domain/lead.hpp"
#include "domain/opportunity.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/quote.hpp"
#include "domain/registry.hpp"
#include "domain/reservation.hpp"
#include "domain/role.hpp"
#include "domain/settings.hpp"
#include "domain/stock.hpp"
#include "domain/task.hpp"
#include "domain/user.hpp"
#include "domain/voucher.hpp"
#include "domain/warehouse.hpp"
#include "given_when_then.hpp"

using namespace eventcrm::domain;
using eventcrm::testing::at;
using eventcrm::testing::day;
using eventcrm::testing::vnd;

namespace {
const Timestamp kT = at("2026-03-02T10:00:00.123Z");
const std::string kS = "s \"quoted\" \\ tiếng Việt \n";
const std::optional<std::string> kO = std::string("opt");

std::set<std::string> covered;

template <class A>
void round_trip(const typename A::Event& e) {
  std::string type(A::type_of(e));
  SCOPED_TRACE(type);
  covered.insert(type);
  std::string json = A::encode(e);
  auto back = A::decode(type, json);
  ASSERT_TRUE(back) << back.error().message << "\n" << json;
  EXPECT_TRUE(*back == e) << json;
  EXPECT_EQ(A::encode(*back), json);
  const EventTypeInfo* info = find_event_type(type);
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->check(type, json));
  EXPECT_FALSE(info->check(type, "{}"));  // required fields are required
}

notification::Requested notice() {
  return {"n-1", "u-bob", "assignment", "lead", "l-1", kO, kS, "u-ann", kT};
}
}  // namespace

TEST(Codec, EveryEventTypeRoundTrips) {
  account::Profile p{kS, kO, kO, kO, kO, kO, kO};
  round_trip<account::Aggregate>(account::Created{"a-1", p, "u", kO, "u", kT});
  round_trip<account::Aggregate>(account::Updated{"a-1", p});
  round_trip<account::Aggregate>(account::OwnerAssigned{"a-1", "u", kO});
  round_trip<account::Aggregate>(account::Archived{"a-1", kO});
  round_trip<account::Aggregate>(account::Forgotten{"a-1", "u", kT});

  contact::Profile cp{kO, kO, kO, kO, kO};
  round_trip<contact::Aggregate>(contact::Created{"c-1", kO, cp, "u", kO, "u", kT});
  round_trip<contact::Aggregate>(contact::Updated{"c-1", kO, cp});
  round_trip<contact::Aggregate>(contact::OwnerAssigned{"c-1", kO, "u", kO});
  round_trip<contact::Aggregate>(contact::LinkedToAccount{"c-1", "a-1", kO});
  round_trip<contact::Aggregate>(contact::UnlinkedFromAccount{"c-1", "a-1"});
  round_trip<contact::Aggregate>(contact::Archived{"c-1", kO, kO});
  round_trip<contact::Aggregate>(contact::Forgotten{"c-1", kO, "u", kT});

  round_trip<lead::Aggregate>(lead::Created{"l-1", kS, "f", "l", kO, kO, kO, kO,
                                            lead::Utm{kO, kO, kO, kO, kO}, "u", "u", kT});
  round_trip<lead::Aggregate>(lead::Qualified{"l-1", kO, "u"});
  round_trip<lead::Aggregate>(lead::Disqualified{"l-1", kO, kS});
  round_trip<lead::Aggregate>(lead::Assigned{"l-1", "u", kO});
  round_trip<lead::Aggregate>(lead::Converted{"l-1", "a", "c", "o", true, kO});
  round_trip<lead::Aggregate>(notice());
  round_trip<lead::Aggregate>(lead::Forgotten{"l-1", "u", kT});

  Money m{*Decimal::parse("1250.1234"), "VND"};
  round_trip<opportunity::Aggregate>(opportunity::Created{
      "o-1", "a-1", kO, kO, kS, m, day("2026-12-31"), 25, "qualification", "u", kO, "u", kT});
  round_trip<opportunity::Aggregate>(
      opportunity::StageChanged{"o-1", "a-1", "prospecting", "proposal", 50, kT});
  round_trip<opportunity::Aggregate>(
      opportunity::Updated{"o-1", "a-1", kO, m, day("2027-01-01"), 99});
  round_trip<opportunity::Aggregate>(
      opportunity::Won{"o-1", "a-1", m, "negotiation", kO, day("2026-03-02")});
  round_trip<opportunity::Aggregate>(
      opportunity::Lost{"o-1", "a-1", kS, "proposal", kO, day("2026-03-02")});
  round_trip<opportunity::Aggregate>(opportunity::Reopened{"o-1", "a-1", "lost", "proposal", 50});
  round_trip<opportunity::Aggregate>(opportunity::Assigned{"o-1", "a-1", "u", kO});

  round_trip<activity::Aggregate>(
      activity::Logged{"x-1", "a-1", "visit", kO, kO, kO, kS, kO, kO, 45, kT, "u"});

  round_trip<appointment::Aggregate>(
      appointment::Scheduled{"p-1", "a-1", kO, kO, kS, kO, kT, kT.plus_minutes(30), 10, "u"});
  round_trip<appointment::Aggregate>(
      appointment::Rescheduled{"p-1", "a-1", kT, kT.plus_minutes(60), 5});
  round_trip<appointment::Aggregate>(appointment::Completed{"p-1", "a-1", kO, kT});
  round_trip<appointment::Aggregate>(appointment::Cancelled{"p-1", "a-1", kO});
  round_trip<appointment::Aggregate>(
      appointment::ReminderDue{"p-1", "a-1", "u", kS, kT, kT.plus_minutes(-10)});
  round_trip<appointment::Aggregate>(
      appointment::ReminderSkipped{"p-1", "a-1", kT.plus_minutes(-10), kT.plus_minutes(30)});

  round_trip<task::Aggregate>(
      task::Created{"t-1", kS, kO, "u", day("2026-03-03"), kO, kO, kO, "u", kT});
  round_trip<task::Aggregate>(task::Assigned{"t-1", kO, "u", kO});
  round_trip<task::Aggregate>(task::DueDateChanged{"t-1", kO, day("2026-03-04"), std::nullopt});
  round_trip<task::Aggregate>(task::Completed{"t-1", kO, "u", kT});
  round_trip<task::Aggregate>(task::Reopened{"t-1", kO});

  round_trip<settings::Aggregate>(settings::Changed{"k", "v", kO});

  std::vector<quote::Line> lines = {{"p-1", kO, *Decimal::parse("2.5"), *Decimal::parse("10.0001"),
                                     *Decimal::parse("7.5"), *Decimal::parse("10")}};
  quote::Totals totals{m, m, m, m};
  round_trip<quote::Aggregate>(
      quote::Created{"q-1", "a-1", kO, kO, "VND", lines, totals, day("2026-04-01"), "u", kT});
  round_trip<quote::Aggregate>(quote::LinesReplaced{"q-1", "a-1", lines, totals});
  round_trip<quote::Aggregate>(quote::Sent{"q-1", "a-1", kT});
  round_trip<quote::Aggregate>(quote::Accepted{"q-1", "a-1", "ord-1", kT});
  round_trip<quote::Aggregate>(quote::Rejected{"q-1", "a-1", kO});
  round_trip<order::Aggregate>(
      order::Created{"ord-1", "a-1", "q-1", kO, "VND", lines, totals, "u", kT});
  round_trip<order::Aggregate>(order::Cancelled{"ord-1", "a-1", kS});
  round_trip<contract::Aggregate>(contract::Created{
      "k-1", "a-1", kO, kS, day("2026-01-01"), day("2026-12-31"), day("2026-11-30"), m, "u", kT});
  round_trip<contract::Aggregate>(contract::DocumentAttached{
      "k-1", "a-1", "d-1", kS, "application/pdf", 1 << 20, std::string(64, 'f')});
  round_trip<contract::Aggregate>(
      contract::Renewed{"k-1", "a-1", day("2026-12-31"), day("2027-12-31"), std::nullopt});
  round_trip<contract::Aggregate>(contract::Terminated{"k-1", "a-1", kS, day("2026-06-01")});

  round_trip<user::Aggregate>(user::Created{"u-1", "n", "e@x.example", {"sales"}, kO, kO, "u", kT});
  round_trip<user::Aggregate>(user::ProfileChanged{"u-1", "n", "e@x.example", kO, kO, "u", kT});
  round_trip<user::Aggregate>(user::RoleGranted{"u-1", "admin", "u", kT});
  round_trip<user::Aggregate>(user::RoleRevoked{"u-1", "admin", "u", kT});
  round_trip<user::Aggregate>(user::Deactivated{"u-1", "u", kT});
  round_trip<user::Aggregate>(user::Reactivated{"u-1", "u", kT});
  round_trip<api_key::Aggregate>(
      api_key::Issued{"k-1", "u-1", "ab12cd34", std::string(64, 'a'), kT, "u", kT});
  round_trip<api_key::Aggregate>(api_key::Revoked{"k-1", "u-1", "u", kT});
  round_trip<role::Aggregate>(role::Defined{"reader", kO, {"accounts:read"}, "u", kT});
  round_trip<role::Aggregate>(
      role::PermissionsChanged{"reader", {"accounts:read"}, {"leads:read"}, "u", kT});

  const campaign::Segment seg{"contacts", {{"status", "active"}, {"owner_id", kS}}};
  round_trip<campaign::Aggregate>(
      campaign::Created{"c-1", kS, "email", kO, m, day("2026-04-01"), std::nullopt, "u", kT});
  round_trip<campaign::Aggregate>(campaign::BasicsSet{"c-1", kS, "sms", kO});
  round_trip<campaign::Aggregate>(campaign::AudienceSet{"c-1", seg});
  round_trip<campaign::Aggregate>(
      campaign::BudgetSet{"c-1", m, day("2026-04-01"), day("2026-04-30")});
  round_trip<campaign::Aggregate>(campaign::TrackingSet{"c-1", "https://x.example/", kO, kO, kO});
  round_trip<campaign::Aggregate>(campaign::Reviewed{"c-1", "u", kT});
  round_trip<campaign::Aggregate>(
      campaign::Launched{"c-1", "active", day("2026-04-01"), day("2026-04-30"), "u"});
  round_trip<campaign::Aggregate>(campaign::Started{"c-1", kT});
  round_trip<campaign::Aggregate>(campaign::Completed{"c-1", kT});
  round_trip<campaign::Aggregate>(campaign::Cancelled{"c-1", "active", kS});
  round_trip<campaign::Aggregate>(
      campaign::CostRecorded{"c-1", "k-1", m, day("2026-04-02"), "media", kO, "u"});
  round_trip<campaign::Aggregate>(
      campaign::TrackingLinkCreated{"c-1", "abc123", "https://x.example/?a=b", kT});
  round_trip<campaign::Activity>(campaign::ClicksRecorded{
      "c-1", {{"abc123", kT, kO, std::nullopt}, {"abc123", kT, std::nullopt, kO}}});
  round_trip<campaign::Activity>(
      campaign::ImpressionsRecorded{"c-1", 1'000'000, day("2026-04-02"), kO});
  round_trip<campaign::Activity>(
      campaign::ResponseRecorded{"c-1", kO, "opened", kO, std::nullopt, kT});

  // Warehouse.
  const Decimal q = *Decimal::parse("12.5");
  round_trip<product::Aggregate>(
      product::Created{"p-1", "AB-1", kS, "pcs", 2, "VND", q, std::nullopt, q, true, "u", kT});
  round_trip<product::Aggregate>(product::Updated{"p-1", kO, std::nullopt, q, q, q, false});
  round_trip<warehouse::Aggregate>(warehouse::Created{"w-1", "HN", kS, "u", kT});
  round_trip<warehouse::Aggregate>(warehouse::NegativeStockSet{"w-1", true});
  round_trip<stock::Aggregate>(stock::Received{"p-1", "w-1", "d-1", q, q, kO, q, q});
  round_trip<stock::Aggregate>(stock::Issued{"p-1", "w-1", "d-1", q, q, kO, kO, q, q, q});
  round_trip<stock::Aggregate>(stock::TransferredOut{"p-1", "w-1", "d-1", "w-2", q, q, q, q});
  round_trip<stock::Aggregate>(stock::TransferredIn{"p-1", "w-2", "d-1", "w-1", q, q, q, q});
  round_trip<stock::Aggregate>(stock::Adjusted{"p-1", "w-1", "d-1", q, q, kS, q, q, q});
  round_trip<stock::Aggregate>(stock::Reserved{"p-1", "w-1", "o-1", kO, q, q});
  round_trip<stock::Aggregate>(stock::Released{"p-1", "w-1", "o-1", kO, q, q, kO});
  round_trip<reservation::Aggregate>(
      reservation::Made{"o-1", "a-1", "w-1", {{"p-1", q}, {"p-2", q}}});
  round_trip<reservation::Aggregate>(reservation::Fulfilled{"o-1", "a-1", "d-1"});
  round_trip<reservation::Aggregate>(reservation::Released{"o-1", "a-1", kO});
  round_trip<voucher::Aggregate>(voucher::Recorded{"v-1", voucher::Kind::payment, vnd("10.5"),
                                                   "cash", day("2026-03-02"), kO, kO, kO, kO, kS,
                                                   "u", kT});
  round_trip<voucher::Aggregate>(voucher::Voided{"v-1", kO, kO, kS});

  std::set<std::string> known;
  for (const auto& info : event_types()) {
    EXPECT_TRUE(known.insert(std::string(info.type)).second) << "listed twice: " << info.type;
    EXPECT_TRUE(covered.count(std::string(info.type))) << "no round-trip sample: " << info.type;
  }
  EXPECT_EQ(known, covered);
}

TEST(Codec, JsonShapesFollowTheApiConventions) {
  opportunity::Created c{"o-1",
                         "a-1",
                         {},
                         {},
                         "Deal",
                         vnd("1250"),
                         day("2026-06-30"),
                         10,
                         "prospecting",
                         "u",
                         {},
                         "u",
                         at("2026-03-02T17:30:00+07:00")};
  std::string json = opportunity::Aggregate::encode(c);
  EXPECT_NE(json.find(R"("amount":{"amount":"1250.00","currency":"VND"})"), std::string::npos);
  EXPECT_NE(json.find(R"("expected_close_date":"2026-06-30")"), std::string::npos);
  EXPECT_NE(json.find(R"("created_at":"2026-03-02T10:30:00.000Z")"), std::string::npos);
  EXPECT_EQ(json.find("contact_id"), std::string::npos);  // absent optionals are left out

  auto bad = [](std::string_view type, std::string_view body) {
    auto r = opportunity::Aggregate::decode(type, body);
    return r ? std::string("decoded") : r.error().message;
  };
  EXPECT_EQ(bad("opportunity.nope.v1", "{}"), "unknown event type opportunity.nope.v1");
  EXPECT_NE(bad("opportunity.reopened.v1", "{"), "decoded");
  EXPECT_NE(
      bad("opportunity.reopened.v1",
          R"({"opportunity_id":"o","account_id":"a","previous_status":"won","stage":"s","probability":1.5})"),
      "decoded");
  EXPECT_EQ(
      bad("opportunity.reopened.v1",
          R"({"opportunity_id":"o","account_id":"a","previous_status":"won","stage":"s","probability":1,"later":[1]})"),
      "decoded");  // unknown members are tolerated (later versions may add fields)
  EXPECT_NE(
      bad("opportunity.won.v1",
          R"({"opportunity_id":"o","account_id":"a","amount":{"amount":1250,"currency":"VND"},"stage":"s","closed_on":"2026-01-01"})"),
      "decoded");  // money amounts are decimal strings
  EXPECT_NE(
      bad("opportunity.won.v1",
          R"({"opportunity_id":"o","account_id":"a","amount":{"amount":"1","currency":"VND"},"stage":"s","closed_on":"2026-02-30"})"),
      "decoded");
}

TEST(Json, ParserIsStrict) {
  EXPECT_TRUE(json::parse(R"({"a":[1,-2.5e3,true,false,null,"\u00e9\ud83d\ude00"]})"));
  for (const char* bad : {"{\"a\":1,\"a\":2}", "{\"a\":1} x", "[1,]", "{'a':1}", "\"\x01\"",
                          "\"\xc3\x28\"", "01", "\"\\ud800\"", "{\"a\":}", ""}) {
    EXPECT_FALSE(json::parse(bad)) << bad;
  }
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(json::parse(deep));
  auto v = json::parse(R"("\u00e9\ud83d\ude00")");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->text, "\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(Time, DatesAndTimestamps) {
  EXPECT_EQ(day("2024-02-29").to_string(), "2024-02-29");
  EXPECT_FALSE(Date::parse("2026-02-29"));
  EXPECT_FALSE(Date::parse("2026-1-01"));
  EXPECT_EQ(at("2026-03-02T10:00:00Z").ms, 1'772'445'600'000);
  EXPECT_EQ(at("2026-03-02T17:00:00.5+07:00").to_string(), "2026-03-02T10:00:00.500Z");
  EXPECT_FALSE(Timestamp::parse("2026-03-02 10:00:00Z"));
  EXPECT_FALSE(Timestamp::parse("2026-03-02T10:00:00"));
  EXPECT_EQ(Timestamp{-1}.to_string(), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(at("2026-03-02T23:59:59Z").date(), day("2026-03-02"));
}
