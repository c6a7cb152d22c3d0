// Campaign activity in the app layer on a real store: the tracking-link map (loaded from the log,
// then following it), the click recorder (batched, every click in the log after a flush or a
// stop, header values cleaned) and responses idempotent by id.
#include <gtest/gtest.h>

#include <thread>

#include "app/marketing.hpp"
#include "app/tracking.hpp"
#include "domain/contact.hpp"
#include "support.hpp"

namespace eventcrm::testing {
namespace {

namespace campaign = domain::campaign;
using namespace std::chrono_literals;

std::string make_campaign(RunnerFixture& f, const std::string& name) {
  std::string id = "camp-" + name;
  auto r = f.runner->run<campaign::Aggregate>(id, campaign::Create{name, "ads", {}, {}, {}, {}},
                                              RunnerFixture::as("u-1"));
  EXPECT_TRUE(r) << r.error().message;
  return id;
}

void make_link(RunnerFixture& f, const std::string& id, const std::string& code) {
  auto r = f.runner->run<campaign::Aggregate>(
      id, campaign::CreateTrackingLink{"https://example.com/" + code, code},
      RunnerFixture::as("u-1"));
  ASSERT_TRUE(r) << r.error().message;
}

// Every click in the campaign's activity stream, in log order.
std::vector<campaign::Click> clicks_in_log(store::EventStore& store, const std::string& id,
                                           std::size_t* events = nullptr) {
  std::vector<campaign::Click> out;
  auto page = store.read_stream("campaign_activity-" + id, 0, store::Direction::forward, 100'000);
  if (!page)
    return out;
  for (const auto& e : *page) {
    auto ev = campaign::Activity::decode(e.type, e.data);
    EXPECT_TRUE(ev);
    if (ev && std::holds_alternative<campaign::ClicksRecorded>(*ev)) {
      const auto& batch = std::get<campaign::ClicksRecorded>(*ev);
      EXPECT_LE(batch.clicks.size(), 5000u);
      EXPECT_LT(e.data.size(), 400u * 1024);  // bounded by bytes too
      out.insert(out.end(), batch.clicks.begin(), batch.clicks.end());
      if (events)
        ++*events;
    }
  }
  return out;
}

TEST(Tracking, LinksFromTheLogAndThenLive) {
  RunnerFixture f;
  app::RandomIdGenerator uuids;
  std::string a = make_campaign(f, "a");
  make_link(f, a, "codeA1");
  auto t = app::Tracking::start(*f.store, f.clock, uuids);
  ASSERT_TRUE(t) << t.error().message;
  auto link = (*t)->find("codeA1");
  ASSERT_TRUE(link);  // loaded before start() returned
  EXPECT_EQ(link->campaign_id, a);
  EXPECT_EQ(link->target_url, "https://example.com/codeA1");
  EXPECT_FALSE((*t)->find("nope"));
  // A link appended by another writer shows up without a restart.
  make_link(f, a, "codeA2");
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!(*t)->find("codeA2") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_TRUE((*t)->find("codeA2"));
  (*t)->stop();
}

TEST(Tracking, EveryClickReachesTheLogInBatches) {
  RunnerFixture f;
  app::RandomIdGenerator uuids;
  std::string a = make_campaign(f, "a"), b = make_campaign(f, "b");
  make_link(f, a, "codeA");
  make_link(f, b, "codeB");
  auto t = app::Tracking::start(*f.store, f.clock, uuids);
  ASSERT_TRUE(t);
  app::Tracking& tracking = **t;
  const auto la = tracking.find("codeA");
  ASSERT_TRUE(la);
  const auto lb = tracking.find("codeB");
  ASSERT_TRUE(lb);
  constexpr int kThreads = 4, kPerThread = 1500;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < kPerThread; ++k) {
        if ((i + k) % 3 == 0)
          tracking.record("codeB", lb, "Agent\xC3\xA9/" + std::to_string(k), "");
        else
          tracking.record("codeA", la, std::string(1000, 'x'), "https://ref.example/");
      }
    });
  }
  for (auto& th : threads)
    th.join();
  tracking.flush();
  std::size_t events = 0;
  auto ca = clicks_in_log(*f.store, a, &events);
  auto cb = clicks_in_log(*f.store, b, &events);
  EXPECT_EQ(ca.size() + cb.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(cb.size(), 2000u);
  EXPECT_LT(events, ca.size() + cb.size());  // batched: many clicks per event
  for (const auto& c : ca) {
    EXPECT_EQ(c.code, "codeA");
    EXPECT_EQ(c.user_agent->size(), 256u);  // truncated
    EXPECT_EQ(*c.referrer, "https://ref.example/");
  }
  ASSERT_FALSE(cb.empty());
  EXPECT_TRUE(
      cb[0].user_agent->starts_with("Agent?"
                                    "?/"));  // non-ASCII replaced
  EXPECT_FALSE(cb[0].referrer);
  auto s = tracking.status();
  EXPECT_EQ(s.clicks_received, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(s.clicks_appended, s.clicks_received);
  EXPECT_EQ(s.clicks_dropped, 0u);
  EXPECT_EQ(s.pending, 0u);
  tracking.stop();
}

TEST(Tracking, StopAppendsWhatIsBuffered) {
  RunnerFixture f;
  app::RandomIdGenerator uuids;
  std::string a = make_campaign(f, "a");
  make_link(f, a, "codeA");
  app::TrackingOptions slow;
  slow.flush_interval = std::chrono::milliseconds(10'000);  // only stop() will flush
  auto t = app::Tracking::start(*f.store, f.clock, uuids, slow);
  ASSERT_TRUE(t);
  const auto la = (*t)->find("codeA");
  ASSERT_TRUE(la);
  for (int i = 0; i < 120; ++i)
    (*t)->record("codeA", la, "UA", "");
  (*t)->stop();
  EXPECT_EQ(clicks_in_log(*f.store, a).size(), 120u);
  (*t)->record("codeA", la, "UA", "");  // after stop: counted as dropped, never written
  EXPECT_EQ((*t)->status().clicks_dropped, 1u);
}

TEST(CampaignActivity, ResponsesAreRecordedOncePerId) {
  RunnerFixture f;
  std::string a = make_campaign(f, "a");
  domain::contact::Create person;
  person.profile.last_name = "Nguyen";
  auto contact = f.runner->run<domain::contact::Aggregate>("c-1", person, RunnerFixture::as("u-1"));
  ASSERT_TRUE(contact) << contact.error().message;
  campaign::RecordResponses batch;
  for (int i = 0; i < 50; ++i)
    batch.responses.push_back(
        {std::string("r-") + std::to_string(i), "opened", std::string("c-1"), {}, {}});
  auto first = app::record_activity(*f.runner, a, batch, RunnerFixture::as("u-1"));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->recorded, 50u);
  // Half of them again plus 10 new ones: only the new ones are written.
  campaign::RecordResponses again;
  for (int i = 25; i < 60; ++i)
    again.responses.push_back(
        {std::string("r-") + std::to_string(i), "opened", std::string("c-1"), {}, {}});
  auto second = app::record_activity(*f.runner, a, again, RunnerFixture::as("u-1"));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->recorded, 10u);
  EXPECT_EQ(second->duplicates, 25u);
  auto v = f.store->stream_version("campaign_activity-" + a);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 59);  // 60 responses, versions 0..59

  campaign::RecordResponses unknown{{{{}, "opened", std::string("c-404"), {}, {}}}};
  auto bad = app::record_activity(*f.runner, a, unknown, RunnerFixture::as("u-1"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, app::errc::validation);
  ASSERT_EQ(bad.error().fields.size(), 1u);
  EXPECT_EQ(bad.error().fields[0].field, "responses[0].contact_id");
  auto none = app::record_activity(*f.runner, "camp-none", batch, RunnerFixture::as("u-1"));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, app::errc::not_found);
}

}  // namespace
}  // namespace eventcrm::testing
