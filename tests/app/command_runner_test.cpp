// The command runner against a real store: versions, conflicts, retries, metadata.
#include "app/command_runner.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
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
// ---- run_async: decided on the calling thread, answered once durable ----

namespace {
// Stands in for the server's command workers: runs the jobs given to it on a thread of its own.
class Later {
 public:
  Later() : thread_([this] { loop(); }) {}
  ~Later() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  std::function<void(app::CommandRunner::Job)> runner() {
    return [this](app::CommandRunner::Job job) {
      {
        std::lock_guard lock(mu_);
        jobs_.push_back(std::move(job));
        ++given_;
      }
      cv_.notify_all();
    };
  }
  int given() {
    std::lock_guard lock(mu_);
    return given_;
  }

 private:
  void loop() {
    for (;;) {
      app::CommandRunner::Job job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty())
          return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<app::CommandRunner::Job> jobs_;
  int given_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

template <class A>
std::future<app::Result<app::CommandResult>> run_async(app::CommandRunner& runner, std::string id,
                                                       typename A::Command cmd,
                                                       app::CommandOptions options, Later& later) {
  auto promise = std::make_shared<std::promise<app::Result<app::CommandResult>>>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto future = promise->get_future();
  runner.run_async<A>(
      std::move(id), std::move(cmd), std::move(options),
      [promise, calls](app::Result<app::CommandResult> r) {
        // Answered exactly once: a second answer would throw here (promise already satisfied).
        EXPECT_EQ(calls->fetch_add(1), 0);
        promise->set_value(std::move(r));
      },
      later.runner());
  return future;
}
}  // namespace

TEST(CommandRunnerAsync, AnswersOnceTheEventsAreDurable) {
  RunnerFixture f;
  Later later;
  std::string id = f.runner->new_id();
  auto created =
      run_async<Opportunity>(*f.runner, id, create_cmd(), RunnerFixture::as("u"), later).get();
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->id, id);
  EXPECT_EQ(created->version, 0);
  EXPECT_EQ(created->position, 1u);
  EXPECT_EQ(f.store->head(), 1u);  // visible, so durable, by the time of the answer

  auto staged = run_async<Opportunity>(
                    *f.runner, id, opportunity::ChangeStage{"proposal", std::nullopt, std::nullopt},
                    RunnerFixture::as("u", 0), later)
                    .get();
  ASSERT_TRUE(staged) << staged.error().message;
  EXPECT_EQ(staged->version, 1);
  EXPECT_EQ(later.given(), 0);  // nothing had to be decided again
}

TEST(CommandRunnerAsync, ErrorsDecidedOnTheCallingThreadAnswerAtOnce) {
  RunnerFixture f;
  Later later;
  auto missing =
      run_async<Opportunity>(*f.runner, "nope", opportunity::Win{}, RunnerFixture::as("u"), later);
  ASSERT_EQ(missing.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  auto r = missing.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, app::errc::not_found);

  ASSERT_TRUE(f.runner->run<Opportunity>("o-1", create_cmd(), RunnerFixture::as("u")));
  auto stale =
      run_async<Opportunity>(*f.runner, "o-1",
                             opportunity::ChangeStage{"proposal", std::nullopt, std::nullopt},
                             RunnerFixture::as("u", 5), later)
          .get();
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, app::errc::conflict);
  EXPECT_EQ(stale.error().current_version, 0);
  EXPECT_EQ(f.store->head(), 1u);
  EXPECT_EQ(later.given(), 0);
}

TEST(CommandRunnerAsync, WithTheSameIfMatchExactlyOneWinsAndNoneIsDecidedAgain) {
  RunnerFixture f;
  Later later;
  ASSERT_TRUE(f.runner->run<Opportunity>("o-1", create_cmd(), RunnerFixture::as("u")));
  std::vector<std::future<app::Result<app::CommandResult>>> answers;
  const char* stages[] = {"qualification", "proposal", "negotiation"};
  // Decided on version 0 before the first is durable, the store refuses them; decided after, they
  // see version 1. Either way a conflict.
  for (int t = 0; t < 20; ++t) {
    answers.push_back(run_async<Opportunity>(
        *f.runner, "o-1", opportunity::ChangeStage{stages[t % 3], std::nullopt, std::nullopt},
        RunnerFixture::as("u-" + std::to_string(t), 0), later));
  }
  int ok = 0, conflicts = 0;
  for (auto& a : answers) {
    auto r = a.get();
    if (r)
      ++ok;
    else if (r.error().code == app::errc::conflict)
      ++conflicts;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(conflicts, 19);
  EXPECT_EQ(later.given(), 0);  // an If-Match conflict is answered, never decided again
  EXPECT_EQ(*f.store->stream_version("opportunity-o-1"), 1);
}

TEST(CommandRunnerAsync, WithoutIfMatchAConflictIsDecidedAgainByLater) {
  app::RunnerOptions options;
  options.max_attempts = 100;
  RunnerFixture f(options);
  Later later;
  ASSERT_TRUE(f.runner->run<Opportunity>("o-1", create_cmd(), RunnerFixture::as("u")));
  std::vector<std::future<app::Result<app::CommandResult>>> answers;
  for (int t = 0; t < 20; ++t) {
    opportunity::Update u;
    u.probability = 11 + t;  // all different: every update changes something
    answers.push_back(run_async<Opportunity>(*f.runner, "o-1", u, RunnerFixture::as("u"), later));
  }
  for (auto& a : answers) {
    auto r = a.get();
    EXPECT_TRUE(r) << r.error().message;
  }
  EXPECT_GT(later.given(), 0);  // the 20 were decided on the same version: most lost a race
  auto loaded = f.runner->load<Opportunity>("o-1");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->version, 20);
}

TEST(CommandRunnerAsync, AKeyedCommandIsAnsweredWithItsFirstResult) {
  RunnerFixture f;
  Later later;
  auto keyed = RunnerFixture::as("u");
  keyed.idempotency_key = "u\nk-1";
  keyed.request_digest = app::digest_of("the request");
  std::string id = f.runner->new_id(keyed);
  auto first = run_async<Opportunity>(*f.runner, id, create_cmd(), keyed, later).get();
  ASSERT_TRUE(first) << first.error().message;
  // The same key again, sequentially and then racing: the first result, nothing written.
  auto again = run_async<Opportunity>(*f.runner, id, create_cmd(), keyed, later).get();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->position, first->position);
  EXPECT_EQ(again->version, first->version);

  auto racing = keyed;
  racing.idempotency_key = "u\nk-2";
  std::string id2 = f.runner->new_id(racing);
  auto a = run_async<Opportunity>(*f.runner, id2, create_cmd(), racing, later);
  auto b = run_async<Opportunity>(*f.runner, id2, create_cmd(), racing, later);
  auto ra = a.get(), rb = b.get();
  ASSERT_TRUE(ra) << ra.error().message;
  ASSERT_TRUE(rb) << rb.error().message;
  EXPECT_EQ(ra->position, rb->position);
  EXPECT_EQ(f.store->head(), 2u);  // one event per key

  auto other = keyed;
  other.request_digest = app::digest_of("another request");
  auto mismatch = run_async<Opportunity>(*f.runner, id, create_cmd(), other, later).get();
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, app::errc::idempotency_mismatch);
}

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
