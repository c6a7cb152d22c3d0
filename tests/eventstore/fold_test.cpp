// Folding a stream into state, with and without snapshots.
#include <gtest/gtest.h>

#include "eventstore/fold.hpp"
#include "support/temp_dir.hpp"

using namespace eventcrm::store;

namespace {
struct Counter {
  long sum = 0;
  int applied = 0;
};
void apply(Counter& c, const RecordedEvent& e) {
  c.sum += std::stol(e.data.substr(5, e.data.size() - 6));  // {"n":N}
  ++c.applied;
}
}  // namespace

TEST(Fold, FoldsAStreamAcrossPagesAndUsesSnapshots) {
  eventcrm::testing::TempDir dir;
  Options o;
  o.path = dir.str();
  auto store = std::move(*EventStore::open(o));
  for (int i = 1; i <= 1000; i += 100) {
    std::vector<NewEvent> batch;
    for (int k = i; k < i + 100; ++k) {
      batch.push_back(NewEvent{"", "counter.added.v1", "{\"n\":" + std::to_string(k) + "}", {}});
    }
    ASSERT_TRUE(store->append("counter-1", ExpectedVersion::any(), std::move(batch)));
  }
  auto plain = fold_stream<Counter>(*store, "counter-1", apply, nullptr, 64);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->state.sum, 500500);
  EXPECT_EQ(plain->version, 999);

  SnapshotPolicy<Counter> policy;
  policy.every = 100;
  policy.encode = [](const Counter& c) { return std::to_string(c.sum); };
  policy.decode = [](std::string_view b, Counter& c) {
    c.sum = std::stol(std::string(b));
    return true;
  };
  auto first = fold_stream<Counter>(*store, "counter-1", apply, &policy);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->events_read, 1000u);
  ASSERT_TRUE(store->append("counter-1", ExpectedVersion::exact(999),
                            {NewEvent{"", "counter.added.v1", R"({"n":5})", {}}}));
  auto second = fold_stream<Counter>(*store, "counter-1", apply, &policy);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->events_read, 1u);  // started from the snapshot
  EXPECT_EQ(second->state.sum, 500505);
  EXPECT_EQ(second->version, 1000);

  auto missing = fold_stream<Counter>(*store, "counter-2", apply, &policy);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->version, -1);
}
