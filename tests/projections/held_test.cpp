// What an offline build's held state costs and which of it a partial flush writes out.
#include "projections/held.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace eventcrm::projections {
namespace {

class MapBatch final : public Batch {
 public:
  void put(std::string_view key, std::string_view value) override {
    rows[std::string(key)] = std::string(value);
  }
  void del(std::string_view key) override { rows.erase(std::string(key)); }
  std::optional<std::string> get(std::string_view key) override {
    auto it = rows.find(std::string(key));
    return it == rows.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  std::map<std::string, std::string> rows;
};

TEST(FlushCutoff, ReleasesTheLeastRecentlyTouchedFirst) {
  const std::vector<std::uint64_t> touched{50, 10, 90, 30, 70};
  // 25 bytes at 10 a record: three records, those last touched at 10, 30 and 50.
  EXPECT_EQ(flush_cutoff(touched, 10, 25), 50u);
  EXPECT_EQ(flush_cutoff(touched, 10, 30), 50u);
  EXPECT_EQ(flush_cutoff(touched, 10, 1), 10u);
}

TEST(FlushCutoff, AllOrNothing) {
  const std::vector<std::uint64_t> touched{5, 1, 9};
  EXPECT_EQ(flush_cutoff(touched, 10, 30), UINT64_MAX);
  EXPECT_EQ(flush_cutoff(touched, 10, 1'000), UINT64_MAX);
  // The final flush asks for everything: no overflow on the way.
  EXPECT_EQ(flush_cutoff(touched, 10, INT64_MAX), UINT64_MAX);
  // Positions start at 1: a cutoff of 0 writes nothing out.
  EXPECT_EQ(flush_cutoff(touched, 10, 0), 0u);
  EXPECT_EQ(flush_cutoff({}, 10, 100), UINT64_MAX);
}

TEST(HeldCost, LearnsWhatTheRowsOfARecordTakeAtEachFlush) {
  HeldCost cost(100, 1'000);
  EXPECT_EQ(cost.of(3), 3 * 1'100);
  MapBatch inner;
  CountingBatch counted(inner);
  counted.put("k1", std::string(52, 'v'));  // 2 + 52 + 48 bytes of overhead: 102
  counted.put_new("k2", std::string(52, 'v'));
  counted.del("k3");  // 2 + 48
  EXPECT_EQ(counted.bytes(), 102 + 102 + 50);
  EXPECT_EQ(inner.rows.size(), 2u);
  ASSERT_TRUE(counted.get("k1"));
  cost.learn(counted, 2);
  EXPECT_EQ(cost.per_record(), 100 + 127);
  cost.learn(counted, 0);  // nothing written: nothing learnt
  EXPECT_EQ(cost.per_record(), 100 + 127);
}

}  // namespace
}  // namespace eventcrm::projections
