// The reminder scheduler against a real store and the real appointments read model, with a fake
// clock: a reminder is appended at its time and exactly once, across restarts, with reminders
// that fell due while nothing ran, and with two schedulers racing.
#include "app/reminders.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "domain/appointment.hpp"
#include "projections/appointments.hpp"
#include "projections/runtime.hpp"
#include "support.hpp"

namespace eventcrm::testing {
namespace {

namespace appointment = domain::appointment;
using namespace std::chrono_literals;
using domain::Timestamp;

constexpr std::string_view kDue = "appointment.reminder_due.v1";
constexpr std::string_view kSkipped = "appointment.reminder_skipped.v1";

class Reminders : public ::testing::Test {
 protected:
  void SetUp() override {
    store::Options o;
    o.path = (dir_.path() / "data").string();
    o.durability = store::Durability::relaxed;
    auto s = store::EventStore::open(o);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    runner_ = std::make_unique<app::CommandRunner>(*store_, clock_, ids_);
    open_read_model();
  }
  void TearDown() override {
    runtime_.reset();
    if (store_)
      store_->close();
  }

  // A fresh runtime over the same read-model database, as after a restart.
  void open_read_model() {
    index_.reset();
    runtime_.reset();
    projections::RuntimeOptions ro;
    ro.path = projections::readmodels_path((dir_.path() / "data").string());
    ro.poll = 10ms;
    auto rt = projections::Runtime::open(*store_, ro);
    ASSERT_TRUE(rt) << rt.error().message;
    runtime_ = std::move(*rt);
    ASSERT_TRUE(runtime_->add(projections::make_appointments()));
    runtime_->start();
    index_ = projections::make_reminder_index(*runtime_);
  }

  Timestamp now() const { return Timestamp{clock_.now.load()}; }
  void set_now(Timestamp t) { clock_.now = t.ms; }

  // Schedules an appointment starting `in_minutes` from now, lasting an hour.
  std::string schedule(std::int64_t in_minutes, int remind_minutes_before = 15) {
    std::string id = "ap-" + std::to_string(++n_);
    appointment::Schedule c;
    c.account_id = "acc-1";
    c.subject = "Demo " + id;
    c.starts_at = now().plus_minutes(in_minutes);
    c.ends_at = c.starts_at.plus_minutes(60);
    c.remind_minutes_before = remind_minutes_before;
    c.owner_id = "u-bob";
    auto r = runner_->run<appointment::Aggregate>(id, c, RunnerFixture::as("u-ann"));
    EXPECT_TRUE(r) << r.error().message;
    return id;
  }

  // Waits until the read model has applied the whole log.
  void settle() {
    ASSERT_TRUE(runtime_->wait_until_applied({}, store_->head(), 10s)) << "read model stuck";
  }

  // Events of `type` per appointment stream.
  std::map<std::string, std::vector<store::RecordedEvent>> events(std::string_view type) {
    store::Filter f;
    f.types.push_back(std::string(type));
    auto page = store_->read_all(0, 10'000, f);
    EXPECT_TRUE(page) << page.error().message;
    std::map<std::string, std::vector<store::RecordedEvent>> out;
    if (page) {
      for (auto& e : page->events)
        out[e.stream.substr(appointment::kCategory.size() + 1)].push_back(e);
    }
    return out;
  }

  TempDir dir_;
  FixedClock clock_;
  CountingIds ids_;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<app::CommandRunner> runner_;
  std::unique_ptr<projections::Runtime> runtime_;
  std::unique_ptr<app::ReminderIndex> index_;
  int n_ = 0;
};

TEST_F(Reminders, FiresAtTheSetTimeExactlyOnce) {
  const Timestamp t0 = now();
  std::string id = schedule(60, 15);  // reminder at t0 + 45 min
  settle();
  app::ReminderScheduler scheduler(*runner_, clock_, *index_);
  EXPECT_EQ(scheduler.tick(), 0u);
  set_now(Timestamp{t0.plus_minutes(45).ms - 1});
  EXPECT_EQ(scheduler.tick(), 0u);
  EXPECT_TRUE(events(kDue).empty());

  set_now(t0.plus_minutes(45));
  EXPECT_EQ(scheduler.tick(), 1u);
  // Asked again before and after the read model has seen it: nothing more.
  EXPECT_EQ(scheduler.tick(), 0u);
  settle();
  set_now(t0.plus_minutes(50));
  EXPECT_EQ(scheduler.tick(), 0u);

  auto due = events(kDue);
  ASSERT_EQ(due.size(), 1u);
  ASSERT_EQ(due[id].size(), 1u);
  const store::RecordedEvent& e = due[id][0];
  EXPECT_EQ(e.metadata.actor, "system:reminders");
  auto decoded = appointment::Aggregate::decode(e.type, e.data);
  ASSERT_TRUE(decoded);
  const auto& r = std::get<appointment::ReminderDue>(*decoded);
  EXPECT_EQ(r.remind_at, t0.plus_minutes(45));
  EXPECT_EQ(r.starts_at, t0.plus_minutes(60));
  EXPECT_EQ(r.owner_id, "u-bob");

  // The read model says it was sent.
  auto view = runtime_->view(projections::kAppointments);
  ASSERT_TRUE(view);
  auto doc = (*view)->get("d/" + id);
  ASSERT_TRUE(doc);
  EXPECT_NE(doc->find("\"reminder\":\"sent\""), std::string::npos) << *doc;
  EXPECT_EQ(scheduler.stats().recorded, 1u);
}

TEST_F(Reminders, ARescheduleArmsANewReminderAndFinishedOnesNeverFire) {
  const Timestamp t0 = now();
  std::string moved = schedule(30, 10);
  std::string cancelled = schedule(30, 10);
  std::string completed = schedule(30, 10);
  app::ReminderScheduler scheduler(*runner_, clock_, *index_);
  set_now(t0.plus_minutes(20));
  ASSERT_TRUE(runner_->run<appointment::Aggregate>(cancelled, appointment::Cancel{},
                                                   RunnerFixture::as("u-ann")));
  ASSERT_TRUE(runner_->run<appointment::Aggregate>(completed, appointment::Complete{},
                                                   RunnerFixture::as("u-ann")));
  settle();
  EXPECT_EQ(scheduler.tick(), 1u);  // only `moved`

  // Moved to tomorrow: a new reminder at its new time, once.
  appointment::Reschedule later{t0.plus_minutes(24 * 60), {}, 30};
  ASSERT_TRUE(runner_->run<appointment::Aggregate>(moved, later, RunnerFixture::as("u-ann")));
  settle();
  EXPECT_EQ(scheduler.tick(), 0u);
  set_now(t0.plus_minutes(24 * 60 - 30));
  EXPECT_EQ(scheduler.tick(), 1u);
  settle();
  EXPECT_EQ(scheduler.tick(), 0u);

  auto due = events(kDue);
  ASSERT_EQ(due.size(), 1u);
  ASSERT_EQ(due[moved].size(), 2u);
  auto second = appointment::Aggregate::decode(due[moved][1].type, due[moved][1].data);
  ASSERT_TRUE(second);
  EXPECT_EQ(std::get<appointment::ReminderDue>(*second).remind_at, t0.plus_minutes(24 * 60 - 30));
}

TEST_F(Reminders, DueWhileStoppedFiresOnStartAndNotAgainAfterARestart) {
  const Timestamp t0 = now();
  std::string a = schedule(60, 15);    // due t0+45, ends t0+120
  std::string b = schedule(100, 15);   // due t0+85, ends t0+160
  std::string gone = schedule(20, 5);  // due t0+15, ends t0+80: over before we look again
  settle();
  {
    app::ReminderScheduler first(*runner_, clock_, *index_);
    first.start();
    first.stop();
    EXPECT_TRUE(events(kDue).empty());
  }
  // The server is down while time passes: a's and b's reminders fall due, gone's appointment ends.
  runtime_.reset();
  set_now(t0.plus_minutes(90));
  open_read_model();
  settle();
  {
    app::ReminderScheduler second(*runner_, clock_, *index_);
    EXPECT_EQ(second.tick(), 3u);  // two reminders and one skip
  }
  auto due = events(kDue);
  EXPECT_EQ(due.size(), 2u);
  EXPECT_EQ(due[a].size(), 1u);
  EXPECT_EQ(due[b].size(), 1u);
  auto skipped = events(kSkipped);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[gone].size(), 1u);

  // Restarted again, later: nothing fires twice. A restart before the read model has applied
  // the reminders would find nothing to do either (the domain decides), which the next scheduler
  // shows by asking at once.
  runtime_.reset();
  set_now(t0.plus_minutes(95));
  open_read_model();
  {
    app::ReminderScheduler third(*runner_, clock_, *index_);
    EXPECT_EQ(third.tick(), 0u);
    settle();
    EXPECT_EQ(third.tick(), 0u);
  }
  EXPECT_EQ(events(kDue).size(), 2u);
  EXPECT_EQ(events(kDue)[a].size(), 1u);
  EXPECT_EQ(events(kSkipped).size(), 1u);
}

TEST_F(Reminders, TwoSchedulersAtOnceStillRemindOncePerAppointment) {
  const Timestamp t0 = now();
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i)
    ids.push_back(schedule(20 + i % 5, 15));
  settle();
  // Each scheduler with its own runner, as two servers over one log would be.
  CountingIds other_ids;
  app::CommandRunner other_runner(*store_, clock_, other_ids);
  auto other_index = projections::make_reminder_index(*runtime_);
  app::ReminderOptions fast;
  fast.poll = 2ms;
  app::ReminderScheduler one(*runner_, clock_, *index_, fast);
  app::ReminderScheduler two(other_runner, clock_, *other_index, fast);
  one.start();
  two.start();
  set_now(t0.plus_minutes(30));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (events(kDue).size() < ids.size() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  // Let them race over the lagging read model a little longer.
  std::this_thread::sleep_for(100ms);
  one.stop();
  two.stop();

  auto due = events(kDue);
  EXPECT_EQ(due.size(), ids.size());
  for (const std::string& id : ids)
    EXPECT_EQ(due[id].size(), 1u) << id;
  EXPECT_EQ(one.stats().recorded + two.stats().recorded, ids.size());
  EXPECT_EQ(one.stats().errors + two.stats().errors, 0u)
      << one.stats().last_error << two.stats().last_error;
}

TEST_F(Reminders, ConcurrentPassesOverTheSameDueSet) {
  const Timestamp t0 = now();
  for (int i = 0; i < 20; ++i)
    schedule(10, 10);
  settle();
  set_now(t0.plus_minutes(5));
  // Many schedulers asking at the same instant: every append but one per appointment loses the
  // expected-version race and decides again on fresh state.
  std::vector<std::unique_ptr<app::ReminderScheduler>> schedulers;
  for (int i = 0; i < 4; ++i)
    schedulers.push_back(std::make_unique<app::ReminderScheduler>(*runner_, clock_, *index_));
  std::atomic<std::size_t> appended{0};
  std::vector<std::thread> threads;
  for (auto& s : schedulers)
    threads.emplace_back([&appended, &s] { appended += s->tick(); });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(appended.load(), 20u);
  auto due = events(kDue);
  EXPECT_EQ(due.size(), 20u);
  for (const auto& [id, list] : due)
    EXPECT_EQ(list.size(), 1u) << id;
}

TEST_F(Reminders, AStaleIndexCannotCauseASecondReminder) {
  // An index that keeps listing the appointment as pending (a read model far behind, or wrong),
  // each time as if it had changed: the domain still records one reminder.
  class Stale final : public app::ReminderIndex {
   public:
    explicit Stale(std::string id) : id_(std::move(id)) {}
    std::optional<std::vector<app::DueReminder>> due(Timestamp, std::size_t) override {
      return std::vector<app::DueReminder>{{id_, ++version_}};
    }

   private:
    std::string id_;
    std::int64_t version_ = 0;
  };
  const Timestamp t0 = now();
  std::string id = schedule(10, 15);
  Stale stale(id);
  app::ReminderScheduler scheduler(*runner_, clock_, stale);
  EXPECT_EQ(scheduler.tick(), 1u);
  for (int i = 0; i < 5; ++i) {
    set_now(t0.plus_minutes(i));
    EXPECT_EQ(scheduler.tick(), 0u);
  }
  app::ReminderScheduler another(*runner_, clock_, stale);
  EXPECT_EQ(another.tick(), 0u);
  EXPECT_EQ(events(kDue)[id].size(), 1u);
}

TEST_F(Reminders, NoIndexYetIsNotAnError) {
  class Unavailable final : public app::ReminderIndex {
   public:
    std::optional<std::vector<app::DueReminder>> due(Timestamp, std::size_t) override {
      ++asked;
      return std::nullopt;
    }
    std::atomic<int> asked{0};
  } unavailable;
  app::ReminderOptions fast;
  fast.poll = 1ms;
  app::ReminderScheduler s(*runner_, clock_, unavailable, fast);
  s.start();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (unavailable.asked < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  s.stop();
  EXPECT_GE(unavailable.asked.load(), 3);
  EXPECT_EQ(s.stats().errors, 0u);
  EXPECT_EQ(store_->head(), 0u);
}

}  // namespace
}  // namespace eventcrm::testing
