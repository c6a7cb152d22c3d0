// Campaigns: the wizard steps each validated on its own, launch refused with the missing items,
// the lifecycle draft → scheduled → active → completed/cancelled, costs, tracking links and the
// activity stream's checks (responses, impressions).
#include "domain/campaign.hpp"

#include "given_when_then.hpp"

using namespace eventcrm::domain;
using eventcrm::testing::at;
using eventcrm::testing::day;
using eventcrm::testing::Fails;
using eventcrm::testing::run_cases;
using eventcrm::testing::vnd;

namespace {
using A = campaign::Aggregate;
using E = std::vector<campaign::Event>;
const Timestamp kNow = at("2026-03-02T10:00:00Z");  // the fixed context's time

const campaign::Created kDraft{"r-1",        "Spring webcast", "webcast",
                               std::nullopt, std::nullopt,     std::nullopt,
                               std::nullopt, "u-ann",          kNow};
const campaign::Segment kSegment{"contacts", {{"status", "active"}}};
const campaign::AudienceSet kAudience{"r-1", kSegment};
const campaign::BudgetSet kBudget{"r-1", vnd("5000000"), day("2026-03-01"), day("2026-03-31")};
const campaign::TrackingSet kTracking{"r-1", "https://example.com/spring", std::string("crm"),
                                      std::nullopt, std::nullopt};
const campaign::Launched kActive{"r-1", "active", day("2026-03-01"), day("2026-03-31"), "u-ann"};
}  // namespace

TEST(Campaign, CreateAndBasics) {
  run_cases<A>({
      {"create a draft",
       {},
       campaign::Create{"Spring webcast", "webcast", {}, {}, {}, {}},
       E{kDraft}},
      {"create with budget and period",
       {},
       campaign::Create{"Ads", "ads", std::string("awareness"), vnd("100"), day("2026-04-01"),
                        day("2026-04-30")},
       E{campaign::Created{"r-1", "Ads", "ads", std::string("awareness"), vnd("100"),
                           day("2026-04-01"), day("2026-04-30"), "u-ann", kNow}}},
      {"bad fields",
       {},
       campaign::Create{"",
                        "fax",
                        {},
                        Money{Decimal::from_int(-1), "dong"},
                        day("2026-04-30"),
                        day("2026-04-01")},
       Fails{errc::validation,
             {},
             {"name", "channel", "budget.currency", "budget.amount", "ends_on"}}},
      {"twice",
       {kDraft},
       campaign::Create{"X", "email", {}, {}, {}, {}},
       Fails{errc::already_exists}},
      {"basics step",
       {kDraft},
       campaign::SetBasics{"Spring webcast 2", "webcast", std::string("leads")},
       E{campaign::BasicsSet{"r-1", "Spring webcast 2", "webcast", std::string("leads")}}},
      {"basics unchanged: nothing",
       {kDraft},
       campaign::SetBasics{"Spring webcast", "webcast", {}},
       E{}},
      {"unknown campaign", {}, campaign::SetBasics{"X", "email", {}}, Fails{errc::not_found}},
  });
}

TEST(Campaign, WizardStepsValidatedAlone) {
  run_cases<A>({
      {"audience", {kDraft}, campaign::SetAudience{kSegment}, E{kAudience}},
      {"audience: unknown entity",
       {kDraft},
       campaign::SetAudience{{"deals", {}}},
       Fails{errc::validation, {}, {"segment.entity"}}},
      {"audience: a field the collection cannot filter on",
       {kDraft},
       campaign::SetAudience{{"leads", {{"email", "x"}, {"status", ""}}}},
       Fails{errc::validation, {}, {"segment.filters[0].field", "segment.filters[1].value"}}},
      {"budget",
       {kDraft},
       campaign::SetBudget{vnd("5000000"), day("2026-03-01"), day("2026-03-31")},
       E{kBudget}},
      {"budget needs a period",
       {kDraft},
       campaign::SetBudget{vnd("5"), {}, {}},
       Fails{errc::validation, {}, {"starts_on", "ends_on"}}},
      {"budget must be positive",
       {kDraft},
       campaign::SetBudget{vnd("0"), day("2026-03-01"), day("2026-03-31")},
       Fails{errc::validation, {}, {"budget.amount"}}},
      {"tracking",
       {kDraft},
       campaign::SetTracking{"https://example.com/spring", std::string("crm"), {}, {}},
       E{kTracking}},
      {"tracking: not a URL",
       {kDraft},
       campaign::SetTracking{"javascript:alert(1)", {}, {}, {}},
       Fails{errc::validation, {}, {"landing_url"}}},
  });
}

TEST(Campaign, LaunchListsWhatIsMissing) {
  run_cases<A>({
      {"empty draft",
       {kDraft},
       campaign::Launch{},
       Fails{errc::validation, {}, {"audience", "budget", "starts_on", "ends_on", "tracking"}}},
      {"review lists the same",
       {kDraft, kAudience},
       campaign::Review{},
       Fails{errc::validation, {}, {"budget", "starts_on", "ends_on", "tracking"}}},
      {"period already over",
       {kDraft, kAudience,
        campaign::BudgetSet{"r-1", vnd("1"), day("2026-01-01"), day("2026-01-31")}, kTracking},
       campaign::Launch{},
       Fails{errc::validation, {}, {"ends_on"}}},
      {"review a complete draft",
       {kDraft, kAudience, kBudget, kTracking},
       campaign::Review{},
       E{campaign::Reviewed{"r-1", "u-ann", kNow}}},
      {"launch: started already → active",
       {kDraft, kAudience, kBudget, kTracking},
       campaign::Launch{},
       E{kActive}},
      {"launch: starts later → scheduled",
       {kDraft, kAudience,
        campaign::BudgetSet{"r-1", vnd("1"), day("2026-04-01"), day("2026-04-30")}, kTracking},
       campaign::Launch{},
       E{campaign::Launched{"r-1", "scheduled", day("2026-04-01"), day("2026-04-30"), "u-ann"}}},
  });
}

TEST(Campaign, Lifecycle) {
  const campaign::Launched scheduled{"r-1", "scheduled", day("2026-04-01"), day("2026-04-30"),
                                     "u-ann"};
  const E launched{kDraft, kAudience, kBudget, kTracking, kActive};
  E completed = launched;
  completed.push_back(campaign::Completed{"r-1", kNow});
  E cancelled{kDraft, campaign::Cancelled{"r-1", "draft", "budget cut"}};
  run_cases<A>({
      {"start a scheduled campaign",
       {kDraft, scheduled},
       campaign::Start{},
       E{campaign::Started{"r-1", kNow}}},
      {"start an active one", launched, campaign::Start{},
       Fails{errc::invalid_transition, {"complete", "cancel", "costs", "tracking-links"}}},
      {"complete", launched, campaign::Complete{}, E{campaign::Completed{"r-1", kNow}}},
      {"complete a draft", {kDraft}, campaign::Complete{}, Fails{errc::invalid_transition}},
      {"cancel an active one", launched, campaign::Cancel{"no response"},
       E{campaign::Cancelled{"r-1", "active", "no response"}}},
      {"cancel needs a reason", launched, campaign::Cancel{""},
       Fails{errc::validation, {}, {"reason"}}},
      {"cancel a completed one", completed, campaign::Cancel{"x"},
       Fails{errc::invalid_transition, {"costs"}}},
      {"no wizard step after launch", launched, campaign::SetAudience{kSegment},
       Fails{errc::invalid_transition}},
      {"no launch twice", launched, campaign::Launch{}, Fails{errc::invalid_transition}},
      {"a link on a cancelled campaign", cancelled,
       campaign::CreateTrackingLink{"https://example.com", "abc123"},
       Fails{errc::invalid_transition}},
  });
}

TEST(Campaign, CostsAndLinks) {
  run_cases<A>({
      {"a cost on a draft",
       {kDraft},
       campaign::RecordCost{vnd("1200000"), day("2026-03-02"), "media", {}, {}},
       E{campaign::CostRecorded{
           "r-1", "id-1", vnd("1200000"), day("2026-03-02"), "media", {}, "u-ann"}}},
      {"a cost in another currency than the budget",
       {kDraft, kBudget},
       campaign::RecordCost{Money{Decimal::from_int(5), "USD"}, day("2026-03-02"), "media", {}, {}},
       Fails{errc::validation, {}, {"amount.currency"}}},
      {"a cost on a completed campaign is still taken",
       {kDraft, kAudience, kBudget, kTracking, kActive, campaign::Completed{"r-1", kNow}},
       campaign::RecordCost{vnd("1"), day("2026-03-02"), "agency", std::string("late invoice"),
                            std::string("cost-7")},
       E{campaign::CostRecorded{"r-1", "cost-7", vnd("1"), day("2026-03-02"), "agency",
                                std::string("late invoice"), "u-ann"}}},
      {"a bad cost",
       {kDraft},
       campaign::RecordCost{vnd("-1"), day("2026-03-02"), "", {}, std::string("")},
       Fails{errc::validation, {}, {"amount.amount", "category", "cost_id"}}},
      {"a tracking link",
       {kDraft},
       campaign::CreateTrackingLink{"https://example.com/a?b=c", "k3y9Zq"},
       E{campaign::TrackingLinkCreated{"r-1", "k3y9Zq", "https://example.com/a?b=c", kNow}}},
      {"a link with a bad code",
       {kDraft},
       campaign::CreateTrackingLink{"https://example.com/", "a/b"},
       Fails{errc::validation, {}, {"code"}}},
  });
  EXPECT_EQ(campaign::tracking_code("3f1c2a9e-77b0-4c1d-9a2b-0c4d5e6f7a8b"), "3f1c2a9e77b04c1d");
  EXPECT_FALSE(campaign::valid_target_url("http://"));
  EXPECT_FALSE(campaign::valid_target_url("https://a b"));
  EXPECT_FALSE(campaign::valid_target_url("ftp://x"));
  EXPECT_TRUE(campaign::valid_target_url("http://localhost:8080/x"));
}

TEST(Campaign, StateSnapshotRoundTrips) {
  campaign::State s;
  for (const campaign::Event& e : std::vector<campaign::Event>{
           kDraft, kAudience, kBudget, kTracking, kActive,
           campaign::TrackingLinkCreated{"r-1", "abc", "https://example.com/", kNow}})
    A::apply(s, e);
  campaign::State back;
  ASSERT_TRUE(A::decode_state(A::encode_state(s), back));
  EXPECT_EQ(back.status, campaign::Status::active);
  EXPECT_EQ(back.segment, s.segment);
  EXPECT_EQ(back.budget, s.budget);
  EXPECT_EQ(back.ends_on, s.ends_on);
  EXPECT_EQ(back.landing_url, s.landing_url);
  EXPECT_EQ(back.currency, std::optional<std::string>("VND"));
  EXPECT_EQ(back.links, 1);
  EXPECT_FALSE(A::decode_state("{\"status\":\"lost\"}", back));
}

TEST(CampaignActivity, Responses) {
  using Act = campaign::Activity;
  using AE = std::vector<campaign::ActivityEvent>;
  campaign::RecordResponses ok{{
      {std::string("r1"), "opened", std::string("c-1"), {}, at("2026-03-01T08:00:00Z")},
      {std::string("r1"), "clicked", std::string("c-1"), {}, {}},  // same id: recorded once
      {{}, "unsubscribed", {}, std::string("l-1"), {}},
  }};
  campaign::RecordResponses bad{{
      {{}, "liked", std::string("c-1"), {}, {}},
      {{}, "opened", std::string("c-1"), std::string("l-1"), {}},
      {std::string(""), "opened", {}, {}, {}},
  }};
  run_cases<Act>({
      {"responses",
       {},
       ok,
       AE{campaign::ResponseRecorded{"r-1",
                                     std::string("r1"),
                                     "opened",
                                     std::string("c-1"),
                                     {},
                                     at("2026-03-01T08:00:00Z")},
          campaign::ResponseRecorded{"r-1", {}, "unsubscribed", {}, std::string("l-1"), kNow}}},
      {"bad responses",
       {},
       bad,
       Fails{errc::validation,
             {},
             {"responses[0].kind", "responses[1]", "responses[2]", "responses[2].id"}}},
      {"none", {}, campaign::RecordResponses{}, Fails{errc::validation, {}, {"responses"}}},
      {"impressions",
       {},
       campaign::RecordImpressions{1500, {}, std::string("adnet")},
       AE{campaign::ImpressionsRecorded{"r-1", 1500, day("2026-03-02"), std::string("adnet")}}},
      {"no impressions",
       {},
       campaign::RecordImpressions{0, {}, {}},
       Fails{errc::validation, {}, {"count"}}},
  });
}
