// "As of" (R-AUD 2): a stream's events up to a past position or time.
#include <gtest/gtest.h>

#include "projections/as_of.hpp"
#include "projections/fixture.hpp"

using namespace eventcrm;

namespace {

projections::AsOf at_position(std::uint64_t p) {
  projections::AsOf a;
  a.position = p;
  return a;
}
projections::AsOf at_time(std::int64_t t) {
  projections::AsOf a;
  a.time_ms = t;
  return a;
}

using AsOfTest = eventcrm::testing::ProjectionFixture;

std::vector<std::string> types(const std::vector<store::RecordedEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(e.type);
  return out;
}

TEST_F(AsOfTest, BoundsAStreamByPositionOrTime) {
  const auto t0 = clock->ms.load();
  append("opportunity-1", "opportunity.opened.v1");
  append("lead-1", "lead.created.v1");
  clock->ms += 60'000;
  const auto p3 =
      append("opportunity-1", "opportunity.stage_changed.v1", R"({"stage":"proposal"})");
  clock->ms += 60'000;
  append("opportunity-1", "opportunity.won.v1");

  auto all = projections::state_as_of(*store, "opportunity-1", {});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 3u);
  auto at = projections::state_as_of(*store, "opportunity-1", at_position(p3));
  ASSERT_TRUE(at);
  EXPECT_EQ(types(*at),
            (std::vector<std::string>{"opportunity.opened.v1", "opportunity.stage_changed.v1"}));
  auto before = projections::state_as_of(*store, "opportunity-1", at_position(p3 - 1));
  EXPECT_EQ(before->size(), 1u);
  auto by_time = projections::state_as_of(*store, "opportunity-1", at_time(t0 + 90'000));
  EXPECT_EQ(types(*by_time), types(*at));
  EXPECT_TRUE(projections::state_as_of(*store, "opportunity-1", at_time(t0 - 1))->empty());
  EXPECT_TRUE(projections::state_as_of(*store, "opportunity-404", {})->empty());
  auto capped = projections::state_as_of(*store, "opportunity-1", {}, 2);
  EXPECT_FALSE(capped);

  EXPECT_EQ(*projections::position_at_time(*store, t0 - 1), 0u);
  EXPECT_EQ(*projections::position_at_time(*store, t0), 2u);
  EXPECT_EQ(*projections::position_at_time(*store, t0 + 60'000), 3u);
  EXPECT_EQ(*projections::position_at_time(*store, t0 + 10'000'000), 4u);
}

TEST_F(AsOfTest, LongStreamsAcrossPages) {
  append_many(1300, "lead-5");
  auto r = projections::state_as_of(*store, "lead-5", at_position(1200));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 1200u);
  EXPECT_EQ(r->back().position, 1200u);
}

}  // namespace
