// The command runner against a real store: versions, conflicts, retries, metadata.
#include "app/command_runner.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "domain/opportunity.hpp"
#include "support.hpp"

using namespace eventcrm;
using namespace eventcrm::domain;
using eventcrm::testing::RunnerFixture;
using Opportunity = domain::opportunity::Aggregate;

namespace {
opportunity::Create create_cmd(std::optional<std::string> owner = std::nullopt) {
  return opportunity::Create{"acc-1",
                             "ERP rollout",
                             Money{Decimal::from_int(100'000), "VND"},
                             *Date::parse("2026-06-30"),
                             std::nullopt,
                             std::nullopt,
                             std::move(owner),
                             std::string("camp-1"),
                             std::nullopt,
                             std::nullopt};
}
}  // namespace

TEST(CommandRunner, CreateChangeStageWin) {
  RunnerFixture f;
  std::string id = f.runner->new_id();
  auto created = f.runner->run<Opportunity>(id, create_cmd(), RunnerFixture::as("u-ann"));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->id, id);
  EXPECT_EQ(created->version, 0);
  EXPECT_EQ(created->position, 1u);

  auto staged = f.runner->run<Opportunity>(
      id, opportunity::ChangeStage{"proposal", std::nullopt, std::nullopt},
      RunnerFixture::as("u-ann", 0));
  ASSERT_TRUE(staged) << staged.error().message;
  EXPECT_EQ(staged->version, 1);

  auto won = f.runner->run<Opportunity>(id, opportunity::Win{}, RunnerFixture::as("u-ann", 1));
  ASSERT_TRUE(won) << won.error().message;
  EXPECT_EQ(won->version, 2);
  EXPECT_EQ(won->position, 3u);

  auto loaded = f.runner->load<Opportunity>(id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->state.status, opportunity::Status::won);
  EXPECT_EQ(loaded->state.stage, "proposal");
  EXPECT_EQ(loaded->version, 2);

  auto events = f.store->read_stream("opportunity-" + id, 0, store::Direction::forward, 10);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].type, "opportunity.created.v1");
  EXPECT_EQ((*events)[1].type, "opportunity.stage_changed.v1");
  EXPECT_EQ((*events)[2].type, "opportunity.won.v1");
  EXPECT_EQ((*events)[2].metadata.actor, "u-ann");
  EXPECT_EQ((*events)[2].metadata.correlation_id, "corr-1");
  EXPECT_NE((*events)[1].data.find(R"("to_stage":"proposal")"), std::string::npos);
  EXPECT_NE((*events)[0].data.find(R"("amount":{"amount":"100000.00","currency":"VND"})"),
            std::string::npos);

  // A closed opportunity refuses another stage change and says what is allowed.
  auto again = f.runner->run<Opportunity>(
      id, opportunity::ChangeStage{"proposal", std::nullopt, std::nullopt},
      RunnerFixture::as("u-ann"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, app::errc::invalid_transition);
  EXPECT_EQ(again.error().allowed, (std::vector<std::string>{"reopen", "assign"}));
}

TEST(CommandRunner, ErrorsComeBackAsValues) {
  RunnerFixture f;
  auto missing = f.runner->run<Opportunity>("nope", opportunity::Win{}, RunnerFixture::as("u"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, app::errc::not_found);

  auto bad_id = f.runner->run<Opportunity>("a b/c", opportunity::Win{}, RunnerFixture::as("u"));
  ASSERT_FALSE(bad_id);
  EXPECT_EQ(bad_id.error().code, app::errc::not_found);

  auto invalid = create_cmd();
  invalid.name.clear();
  auto rejected = f.runner->run<Opportunity>("o-1", invalid, RunnerFixture::as("u"));
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, app::errc::validation);
  ASSERT_EQ(rejected.error().fields.size(), 1u);
  EXPECT_EQ(rejected.error().fields[0].field, "name");

  ASSERT_TRUE(f.runner->run<Opportunity>("o-1", create_cmd(), RunnerFixture::as("u")));
  auto twice = f.runner->run<Opportunity>("o-1", create_cmd(), RunnerFixture::as("u"));
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, app::errc::already_exists);
  EXPECT_EQ(f.store->head(), 1u);  // nothing appended by the failures
}

TEST(CommandRunner, StaleExpectedVersionIsAConflictWithTheCurrentVersion) {
  RunnerFixture f;
  ASSERT_TRUE(f.runner->run<Opportunity>("o-1", create_cmd(), RunnerFixture::as("u")));
  ASSERT_TRUE(f.runner->run<Opportunity>(
      "o-1", opportunity::ChangeStage{"proposal", std::nullopt, std::nullopt},
      RunnerFixture::as("u", 0)));
  auto stale = f.runner->run<Opportunity>(
      "o-1", opportunity::ChangeStage{"negotiation", std::nullopt, std::nullopt},
      RunnerFixture::as("u", 0));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, app::errc::conflict);
  EXPECT_EQ(stale.error().current_version, 1);
  EXPECT_EQ(f.store->head(), 2u);
}

TEST(CommandRunner, ConcurrentChangeStageWithTheSameVersionHasExactlyOneWinner) {
  RunnerFixture f;
  ASSERT_TRUE(f.runner->run<Opportunity>("o-1", create_cmd(), RunnerFixture::as("u")));
  const char* stages[] = {"qualification", "proposal", "negotiation"};
  std::atomic<int> ok{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 20; ++t) {
    threads.emplace_back([&, t] {
      auto r = f.runner->run<Opportunity>(
          "o-1", opportunity::ChangeStage{stages[t % 3], std::nullopt, std::nullopt},
          RunnerFixture::as("u-" + std::to_string(t), 0));
      if (r) {
        ++ok;
      } else if (r.error().code == app::errc::conflict && r.error().current_version == 1) {
        ++conflicts;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(conflicts.load(), 19);
  EXPECT_EQ(other.load(), 0);
  auto v = f.store->stream_version("opportunity-o-1");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 1);
}

TEST(CommandRunner, WithoutIfMatchAConflictIsDecidedAgainOnFreshState) {
  app::RunnerOptions options;
  options.max_attempts = 100;
  RunnerFixture f(options);
  ASSERT_TRUE(f.runner->run<Opportunity>("o-1", create_cmd(), RunnerFixture::as("u")));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 20; ++t) {
    threads.emplace_back([&, t] {
      opportunity::Update u;
      u.probability = 11 + t;  // all different: every update changes something
      if (f.runner->run<Opportunity>("o-1", u, RunnerFixture::as("u")))
        ++ok;
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok.load(), 20);
  auto loaded = f.runner->load<Opportunity>("o-1");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->version, 20);
}

TEST(CommandRunner, AssignmentNotificationFollowsTheSetting) {
  RunnerFixture f;
  ASSERT_TRUE(f.runner->run<Opportunity>("o-1", create_cmd(), RunnerFixture::as("u-ann")));
  auto assigned =
      f.runner->run<Opportunity>("o-1", opportunity::Assign{"u-bob"}, RunnerFixture::as("u-ann"));
  ASSERT_TRUE(assigned);
  EXPECT_EQ(assigned->version, 2);  // assigned + notification.requested
  auto last = f.store->read_stream("opportunity-o-1", 2, store::Direction::forward, 1);
  ASSERT_TRUE(last);
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ((*last)[0].type, "notification.requested.v1");
  EXPECT_NE((*last)[0].data.find(R"("recipient_id":"u-bob")"), std::string::npos);

  auto off = f.runner->run<settings::Aggregate>(
      settings::kGlobalId,
      settings::Change{std::string(settings::kAssignmentNotifications), "false"},
      RunnerFixture::as("admin"));
  ASSERT_TRUE(off) << off.error().message;
  auto reassigned =
      f.runner->run<Opportunity>("o-1", opportunity::Assign{"u-cat"}, RunnerFixture::as("u-ann"));
  ASSERT_TRUE(reassigned);
  EXPECT_EQ(reassigned->version, 3);  // no notification this time

  auto bad = f.runner->run<settings::Aggregate>(
      settings::kGlobalId, settings::Change{"no.such.key", "1"}, RunnerFixture::as("admin"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, app::errc::validation);
}

TEST(CommandRunner, LongSettingsStreamsAreSnapshotted) {
  app::RunnerOptions options;
  options.snapshot_every = 5;
  RunnerFixture f(options);
  for (int i = 0; i < 12; ++i) {
    auto r = f.runner->run<settings::Aggregate>(
        settings::kGlobalId,
        settings::Change{std::string(settings::kAssignmentNotifications), i % 2 ? "true" : "false"},
        RunnerFixture::as("admin"));
    ASSERT_TRUE(r) << r.error().message;
  }
  auto snap = f.store->load_snapshot("settings-global");
  ASSERT_TRUE(snap);
  EXPECT_GE(snap->version, 4);
  auto loaded = f.runner->load<settings::Aggregate>(settings::kGlobalId);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->version, 11);
  EXPECT_TRUE(loaded->state.assignment_notifications());
}

// Record ids are UUID version 7 and strictly increasing, thousands per millisecond included,
// so lists sorted by creation break ties in creation order.
TEST(RandomIdGenerator, MakesIncreasingVersion7Uuids) {
  app::RandomIdGenerator ids;
  std::string previous = ids.next();
  for (int i = 0; i < 20'000; ++i) {
    std::string id = ids.next();
    ASSERT_TRUE(store::valid_uuid(id)) << id;
    ASSERT_EQ(id[14], '7') << id;
    ASSERT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
    ASSERT_LT(previous, id);
    previous = id;
  }
}
