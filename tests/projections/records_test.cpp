// Collection lists over real read-model rows: a sort and its descending form share one index
// (the descending one reads it backward), so paging through "-name" must give exactly the reverse
// of "name", ties, filters, cursors and scan budgets included.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "projections/fixture.hpp"
#include "projections/records.hpp"

using namespace eventcrm;
using namespace std::chrono_literals;

namespace {

using RecordsTest = eventcrm::testing::ProjectionFixture;

const projections::records::Spec& spec() {
  static const projections::records::Spec s{{"name", "-name", "-size"}, {"owner"}, {"name"}};
  return s;
}

// One record per `item-<id>` stream; its data is {"v":"<name>|<owner>|<size>"}; the document is
// the id.
class Items final : public projections::Projection {
 public:
  std::string name() const override { return "items"; }
  std::uint32_t version() const override { return 1; }
  void apply(const store::RecordedEvent& e, projections::Batch& batch) override {
    const std::string d = e.data.substr(6, e.data.size() - 8);
    const auto a = d.find('|'), b = d.rfind('|');
    projections::records::Record r;
    r.id = e.stream.substr(5);
    r.doc = r.id;
    r.facets = {{"name", d.substr(0, a)}, {"owner", d.substr(a + 1, b - a - 1)}};
    r.sort_keys = {{"name", projections::records::key_text(d.substr(0, a))},
                   {"size", projections::records::key_int(std::stoll(d.substr(b + 1)))}};
    projections::records::Table table(batch, spec());
    table.put(r, e.stream_version == 0);
  }
};

std::string item(const std::string& v) {
  return R"({"v":")" + v + "\"}";
}

// Every id a list gives, page after page of `limit`, with a scan budget of `budget` rows.
std::vector<std::string> all_pages(const projections::View& view, projections::records::ListQuery q,
                                   std::size_t limit, std::size_t budget) {
  q.limit = limit;
  q.scan_budget = budget;
  std::vector<std::string> ids;
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = projections::records::list(view, spec(), q);
    EXPECT_TRUE(page);
    if (!page)
      break;
    EXPECT_LE(page->docs.size(), limit);
    ids.insert(ids.end(), page->docs.begin(), page->docs.end());
    if (page->next_cursor.empty())
      break;
    q.cursor = page->next_cursor;
  }
  return ids;
}

TEST_F(RecordsTest, DescendingSortsReadTheAscendingIndexBackwardPageByPage) {
  // 40 records: names with ties (8 distinct), two owners, sizes with ties; some renamed later.
  for (int i = 0; i < 40; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "%03d", i);
    append(std::string("item-") + id, "item.set.v1",
           item("Name " + std::to_string(i % 8) + "|" + (i % 3 ? "ann" : "bob") + "|" +
                std::to_string((i * 7) % 10 - 5)));
  }
  for (int i = 0; i < 40; i += 5) {
    char id[8];
    std::snprintf(id, sizeof id, "%03d", i);
    append(std::string("item-") + id, "item.set.v1",
           item("Renamed " + std::to_string(i % 4) + "|bob|" + std::to_string(i)));
  }
  open_runtime();
  ASSERT_TRUE(runtime->add(std::make_unique<Items>()));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({"items"}, store->head(), 10s));
  auto view = runtime->view("items");
  ASSERT_TRUE(view);

  for (std::string owner : {"", "bob"}) {
    projections::records::ListQuery q;
    if (!owner.empty())
      q.equals = {{"owner", owner}};
    q.sort = "name";
    const auto up = all_pages(**view, q, 1000, 50'000);
    ASSERT_EQ(up.size(), owner.empty() ? 40u : 19u) << owner;
    q.sort = "-name";
    auto down = all_pages(**view, q, 1000, 50'000);
    std::reverse(down.begin(), down.end());
    EXPECT_EQ(down, up) << owner;
    // Small pages and a small scan budget (short pages, cursors mid-scan) change nothing.
    for (std::size_t limit : {1u, 3u, 7u}) {
      for (std::size_t budget : {2u, 5u, 50'000u}) {
        q.sort = "name";
        EXPECT_EQ(all_pages(**view, q, limit, budget), up) << owner << limit << "/" << budget;
        q.sort = "-name";
        auto paged = all_pages(**view, q, limit, budget);
        std::reverse(paged.begin(), paged.end());
        EXPECT_EQ(paged, up) << owner << limit << "/" << budget;
      }
    }
  }

  // A descending-only sort: the largest sizes first, ties newest id first.
  projections::records::ListQuery q;
  q.sort = "-size";
  const auto by_size = all_pages(**view, q, 4, 50'000);
  ASSERT_EQ(by_size.size(), 40u);
  EXPECT_EQ(by_size.front(), "035");  // renamed with size 35, the largest
  // A text filter over a backward scan.
  q.text = "renamed 3";
  EXPECT_EQ(all_pages(**view, q, 1, 3), (std::vector<std::string>{"035", "015"}));

  // The rows: one index per sort key (name, size), each unfiltered and per owner, per record.
  auto rows = runtime->dump("items");
  ASSERT_TRUE(rows);
  std::size_t index_rows = 0;
  for (const auto& [k, v] : *rows)
    index_rows += k.rfind("i/", 0) == 0;
  EXPECT_EQ(index_rows, 40u * 2 * 2);
}

TEST_F(RecordsTest, CursorsThatAreNotOursAreRejected) {
  open_runtime();
  ASSERT_TRUE(runtime->add(std::make_unique<Items>()));
  runtime->start();
  append("item-1", "item.set.v1", item("A|ann|1"));
  ASSERT_TRUE(runtime->wait_until_applied({"items"}, store->head(), 10s));
  auto view = runtime->view("items");
  ASSERT_TRUE(view);
  projections::records::ListQuery q;
  for (std::string sort : {"name", "-name"}) {
    q.sort = sort;
    q.cursor = "zz";
    EXPECT_FALSE(projections::records::list(**view, spec(), q));
    q.cursor = "ffff";  // well-formed, past every row: an empty page, not an error
    auto page = projections::records::list(**view, spec(), q);
    ASSERT_TRUE(page);
  }
  q.sort = "size";  // not offered (only "-size" is)
  q.cursor.clear();
  EXPECT_FALSE(projections::records::list(**view, spec(), q));
}

}  // namespace
