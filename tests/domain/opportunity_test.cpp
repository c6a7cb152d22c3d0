// Opportunity decisions: given events, when a command, then events or an error.
#include "domain/opportunity.hpp"

#include "given_when_then.hpp"

using namespace eventcrm::domain;
using namespace eventcrm::domain::opportunity;
using Opp = eventcrm::domain::opportunity::Aggregate;
using eventcrm::testing::at;
using eventcrm::testing::Case;
using eventcrm::testing::day;
using eventcrm::testing::Fails;
using eventcrm::testing::run_cases;
using eventcrm::testing::vnd;

namespace {
using E = std::vector<Event>;
const Timestamp kNow = at("2026-03-02T10:00:00Z");

Created created(std::string owner = "u-ann") {
  return Created{"r-1",         "acc-1",          std::nullopt,          std::nullopt,
                 "ERP rollout", vnd("100000"),    day("2026-06-30"),     10,
                 "prospecting", std::move(owner), std::string("camp-1"), "u-ann",
                 kNow};
}
StageChanged to_stage(std::string from, std::string to, int p) {
  return StageChanged{"r-1", "acc-1", std::move(from), std::move(to), p, kNow};
}
Won won() {
  return Won{"r-1", "acc-1", vnd("100000"), "prospecting", "camp-1", day("2026-03-02")};
}
Lost lost(std::string reason) {
  return Lost{"r-1", "acc-1", std::move(reason), "prospecting", "camp-1", day("2026-03-02")};
}
const std::vector<std::string> kClosed = {"reopen", "assign"};
const std::vector<std::string> kOpen = {"change-stage", "update", "win", "lose", "assign"};
}  // namespace

TEST(Opportunity, Create) {
  Create ok{"acc-1",      "ERP rollout", vnd("100000"), day("2026-06-30"), std::nullopt,
            std::nullopt, std::nullopt,  "camp-1",      std::nullopt,      std::nullopt};
  Create for_bob = ok;
  for_bob.owner_id = "u-bob";
  Create at_proposal = ok;
  at_proposal.stage = "proposal";
  Created proposal = created();
  proposal.stage = "proposal";
  proposal.probability = 50;
  Create bad{"",           "",           Money{Decimal::from_int(-1), "dong"},
             std::nullopt, std::nullopt, 101,
             std::nullopt, std::nullopt, std::nullopt,
             std::nullopt};
  Create bad_stage = ok;
  bad_stage.stage = "won";
  notification::Requested notice{"id-1",
                                 "u-bob",
                                 "assignment",
                                 "opportunity",
                                 "r-1",
                                 std::string("acc-1"),
                                 "You were assigned the opportunity \"ERP rollout\"",
                                 "u-ann",
                                 kNow};
  run_cases<Opp>({
      {"defaults to the first stage, its probability and the actor as owner", {}, ok, E{created()}},
      {"a given stage sets its default probability", {}, at_proposal, E{proposal}},
      {"an owner other than the actor is notified", {}, for_bob, E{created("u-bob"), notice}},
      {"twice", {created()}, ok, Fails{errc::already_exists}},
      {"invalid fields",
       {},
       bad,
       Fails{errc::validation,
             {},
             {"account_id", "name", "amount", "amount", "expected_close_date", "probability"}}},
      {"won is not an open stage", {}, bad_stage, Fails{errc::validation, {}, {"stage"}}},
  });
}

TEST(Opportunity, CreateWithoutNotificationsWhenTheSettingIsOff) {
  auto ctx = eventcrm::testing::fixed_context();
  ctx.assignment_notifications = false;
  Create c{"acc-1",      "ERP rollout", vnd("100000"), day("2026-06-30"), std::nullopt,
           std::nullopt, "u-bob",       "camp-1",      std::nullopt,      std::nullopt};
  run_cases<Opp>({{"no notice", {}, c, E{created("u-bob")}}}, ctx);
}

TEST(Opportunity, ChangeStage) {
  std::vector<std::string> from_prospecting = {"qualification", "proposal", "negotiation", "won",
                                               "lost"};
  run_cases<Opp>({
      {"forward with the stage's default probability",
       {created()},
       ChangeStage{"proposal", std::nullopt, std::nullopt},
       E{to_stage("prospecting", "proposal", 50)}},
      {"with an explicit probability",
       {created()},
       ChangeStage{"qualification", 30, std::nullopt},
       E{to_stage("prospecting", "qualification", 30)}},
      {"backward",
       {created(), to_stage("prospecting", "negotiation", 75)},
       ChangeStage{"qualification", std::nullopt, std::nullopt},
       E{to_stage("negotiation", "qualification", 25)}},
      {"to won wins", {created()}, ChangeStage{"won", std::nullopt, std::nullopt}, E{won()}},
      {"to lost with a reason loses",
       {created()},
       ChangeStage{"lost", std::nullopt, std::string("price")},
       E{lost("price")}},
      {"to lost without a reason",
       {created()},
       ChangeStage{"lost", std::nullopt, std::nullopt},
       Fails{errc::validation, {}, {"reason"}}},
      {"to the same stage lists the allowed ones",
       {created()},
       ChangeStage{"prospecting", std::nullopt, std::nullopt},
       Fails{errc::invalid_transition, from_prospecting}},
      {"to an unknown stage lists the allowed ones",
       {created()},
       ChangeStage{"signed", std::nullopt, std::nullopt},
       Fails{errc::invalid_transition, from_prospecting}},
      {"probability out of range",
       {created()},
       ChangeStage{"proposal", 120, std::nullopt},
       Fails{errc::validation, {}, {"probability"}}},
      {"when won",
       {created(), won()},
       ChangeStage{"proposal", std::nullopt, std::nullopt},
       Fails{errc::invalid_transition, kClosed}},
      {"when missing",
       {},
       ChangeStage{"proposal", std::nullopt, std::nullopt},
       Fails{errc::not_found}},
  });
}

TEST(Opportunity, UpdateWinLoseReopenAssign) {
  Updated amount_and_date{"r-1",         "acc-1",           std::nullopt,
                          vnd("250000"), day("2026-07-31"), std::nullopt};
  notification::Requested notice{"id-1",
                                 "u-bob",
                                 "assignment",
                                 "opportunity",
                                 "r-1",
                                 std::string("acc-1"),
                                 "You were assigned the opportunity \"ERP rollout\"",
                                 "u-ann",
                                 kNow};
  run_cases<Opp>({
      {"update changed fields only",
       {created()},
       Update{std::string("ERP rollout"), vnd("250000"), day("2026-07-31"), 10},
       E{amount_and_date}},
      {"update with nothing new", {created()}, Update{std::nullopt, vnd("100000"), {}, {}}, E{}},
      {"update with a bad amount",
       {created()},
       Update{std::nullopt, Money{Decimal::from_int(-5), "VND"}, {}, {}},
       Fails{errc::validation, {}, {"amount"}}},
      {"update when lost",
       {created(), lost("price")},
       Update{},
       Fails{errc::invalid_transition, kClosed}},
      {"win", {created()}, Win{}, E{won()}},
      {"win twice", {created(), won()}, Win{}, Fails{errc::invalid_transition, kClosed}},
      {"lose", {created()}, Lose{"budget cut"}, E{lost("budget cut")}},
      {"lose without a reason", {created()}, Lose{""}, Fails{errc::validation, {}, {"reason"}}},
      {"lose when won", {created(), won()}, Lose{"x"}, Fails{errc::invalid_transition, kClosed}},
      {"reopen a won one at its stage",
       {created(), won()},
       Reopen{},
       E{Reopened{"r-1", "acc-1", "won", "prospecting", 10}}},
      {"reopen a lost one at a given stage",
       {created(), lost("price")},
       Reopen{std::string("negotiation")},
       E{Reopened{"r-1", "acc-1", "lost", "negotiation", 75}}},
      {"reopen an open one", {created()}, Reopen{}, Fails{errc::invalid_transition, kOpen}},
      {"reopen at an unknown stage",
       {created(), won()},
       Reopen{std::string("won")},
       Fails{errc::validation, {}, {"stage"}}},
      {"assign notifies the rep",
       {created()},
       Assign{"u-bob"},
       E{Assigned{"r-1", "acc-1", "u-bob", std::string("u-ann")}, notice}},
      {"assign to oneself does not notify",
       {created("u-bob")},
       Assign{"u-ann"},
       E{Assigned{"r-1", "acc-1", "u-ann", std::string("u-bob")}}},
      {"assign to the current owner", {created()}, Assign{"u-ann"}, E{}},
      {"assign a closed one",
       {created(), won()},
       Assign{"u-ann2"},
       E{Assigned{"r-1", "acc-1", "u-ann2", std::string("u-ann")},
         notification::Requested{
             "id-1", "u-ann2", "assignment", "opportunity", "r-1", std::string("acc-1"),
             "You were assigned the opportunity \"ERP rollout\"", "u-ann", kNow}}},
      {"assign nobody", {created()}, Assign{""}, Fails{errc::validation, {}, {"owner_id"}}},
  });
}

TEST(Opportunity, StateFollowsTheEvents) {
  State s;
  for (const Event& e : E{created(), to_stage("prospecting", "proposal", 50), won()}) {
    Opp::apply(s, e);
  }
  EXPECT_EQ(s.status, Status::won);
  EXPECT_EQ(s.stage, "proposal");
  EXPECT_EQ(s.probability, 100);
  Opp::apply(s, Reopened{"r-1", "acc-1", "won", "negotiation", 75});
  EXPECT_EQ(s.status, Status::open);
  EXPECT_EQ(s.probability, 75);
}
