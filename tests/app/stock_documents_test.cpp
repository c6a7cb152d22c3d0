// Stock documents against a real store: many threads issuing and receiving the same stock, with
// and without the in-process serialisation, never take a balance below zero; conflicts are
// decided again; a transfer writes both halves or nothing; keyed documents replay.
#include "app/stock_documents.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "domain/product.hpp"
#include "domain/stock.hpp"
#include "domain/warehouse.hpp"
#include "support.hpp"

namespace eventcrm::testing {
namespace {

using domain::Decimal;

Decimal dec(std::int64_t v) {
  return Decimal::from_int(v);
}

struct StockFixture : RunnerFixture {
  std::string make_product(const std::string& sku) {
    std::string id = runner->new_id();
    auto r = runner->run<domain::product::Aggregate>(
        id, domain::product::Create{sku, "Item " + sku, "pcs", 0, {}, {}, {}, {}}, as("u-1"));
    EXPECT_TRUE(r) << r.error().message;
    return id;
  }
  std::string make_warehouse(const std::string& code) {
    std::string id = runner->new_id();
    auto r = runner->run<domain::warehouse::Aggregate>(id, domain::warehouse::Create{code, code},
                                                       as("u-1"));
    EXPECT_TRUE(r) << r.error().message;
    return id;
  }
  app::StockDocument doc(app::DocumentKind kind, const std::string& wh, const std::string& p,
                         std::int64_t qty) {
    app::StockDocument d;
    d.kind = kind;
    d.warehouse_id = wh;
    app::StockLine line;
    line.product_id = p;
    line.quantity = dec(qty);
    if (kind == app::DocumentKind::receipt)
      line.unit_cost = domain::Money{dec(10), ""};
    d.lines.push_back(line);
    return d;
  }
  // The stream's balances in order, from the log.
  std::vector<Decimal> on_hand_history(const std::string& p, const std::string& w) {
    auto events = store->read_stream(
        domain::stream_name(domain::stock::kCategory, domain::stock::stock_id(p, w)), 0,
        store::Direction::forward, 1'000'000);
    std::vector<Decimal> out;
    for (const auto& e : *events) {
      auto ev = domain::stock::Aggregate::decode(e.type, e.data);
      EXPECT_TRUE(ev);
      std::visit(
          [&](const auto& x) {
            if constexpr (requires { x.on_hand; })
              out.push_back(x.on_hand);
          },
          *ev);
    }
    return out;
  }
};

void contend(bool serialize) {
  StockFixture f;
  const std::string wh = f.make_warehouse("W1");
  const std::vector<std::string> products{f.make_product("A"), f.make_product("B")};
  std::map<std::string, std::int64_t> expected;
  std::mutex mu;
  std::atomic<int> accepted{0}, refused{0}, retried{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t) + 1u);
      app::StockOptions limits;
      limits.serialize = serialize;
      for (int i = 0; i < 150; ++i) {
        const std::string& p = products[rng() % 2];
        const bool in = rng() % 2 == 0;
        const std::int64_t qty = 1 + static_cast<std::int64_t>(rng() % 5);
        auto r = app::record_stock_document(
            *f.runner,
            f.doc(in ? app::DocumentKind::receipt : app::DocumentKind::issue, wh, p, qty),
            RunnerFixture::as("u-" + std::to_string(t)), limits);
        if (r) {
          ++accepted;
          if (r->attempts > 1)
            ++retried;
          std::lock_guard lock(mu);
          expected[p] += in ? qty : -qty;
        } else {
          ASSERT_TRUE(r.error().shortage.has_value()) << r.error().error.message;
          ++refused;
        }
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(accepted + refused, 8 * 150);
  EXPECT_GT(refused.load(), 0);
  if (serialize)
    EXPECT_EQ(retried.load(), 0);
  else
    EXPECT_GT(retried.load(), 0) << "no conflict happened: the retry path was not exercised";
  for (const auto& p : products) {
    auto history = f.on_hand_history(p, wh);
    ASSERT_FALSE(history.empty());
    for (Decimal d : history)
      EXPECT_GE(d, Decimal{});
    EXPECT_EQ(history.back(), dec(expected[p]));
  }
}

TEST(StockDocuments, ConcurrentDocumentsRacingToTheStoreAreDecidedAgain) {
  contend(false);
}

TEST(StockDocuments, ConcurrentDocumentsSerialisedInProcess) {
  contend(true);
}

TEST(StockDocuments, TransferIsAtomicAndKeyedDocumentsReplay) {
  StockFixture f;
  const std::string hn = f.make_warehouse("HN"), sg = f.make_warehouse("SG");
  const std::string a = f.make_product("A"), b = f.make_product("B");
  auto opts = RunnerFixture::as("u-1");
  opts.idempotency_key = "k-1";
  opts.request_digest = "d-1";
  auto first =
      app::record_stock_document(*f.runner, f.doc(app::DocumentKind::receipt, hn, a, 5), opts);
  ASSERT_TRUE(first);
  auto again =
      app::record_stock_document(*f.runner, f.doc(app::DocumentKind::receipt, hn, a, 5), opts);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->document_id, first->document_id);
  EXPECT_EQ(again->position, first->position);
  EXPECT_EQ(f.on_hand_history(a, hn).size(), 1u);

  // A transfer of A (there) and B (not there): nothing moves.
  app::StockDocument t = f.doc(app::DocumentKind::transfer, hn, a, 3);
  t.to_warehouse_id = sg;
  t.lines.push_back({b, dec(1), {}, {}, {}});
  const auto head = f.store->head();
  auto refused = app::record_stock_document(*f.runner, t, RunnerFixture::as("u-1"));
  ASSERT_FALSE(refused);
  ASSERT_TRUE(refused.error().shortage);
  EXPECT_EQ(refused.error().shortage->product_id, b);
  EXPECT_EQ(refused.error().shortage->available, Decimal{});
  EXPECT_EQ(f.store->head(), head);
  t.lines.pop_back();
  auto moved = app::record_stock_document(*f.runner, t, RunnerFixture::as("u-1"));
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->movements, 2u);
  EXPECT_EQ(f.on_hand_history(a, hn).back(), dec(2));
  EXPECT_EQ(f.on_hand_history(a, sg).back(), dec(3));

  // References are checked before anything is decided.
  auto unknown = app::record_stock_document(
      *f.runner, f.doc(app::DocumentKind::issue, hn, "nope", 1), RunnerFixture::as("u-1"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().error.code, app::errc::validation);
  ASSERT_EQ(unknown.error().error.fields.size(), 1u);
  EXPECT_EQ(unknown.error().error.fields[0].field, "lines[0].product_id");
}

}  // namespace
}  // namespace eventcrm::testing
