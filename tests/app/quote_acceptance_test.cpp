// Accepting a quote writes the quote's acceptance and the new order atomically.
#include "app/quote_acceptance.hpp"

#include <gtest/gtest.h>

#include "domain/order.hpp"
#include "domain/quote.hpp"
#include "support.hpp"

using namespace eventcrm;
using namespace eventcrm::domain;
using eventcrm::testing::RunnerFixture;

namespace {
Decimal dec(const char* s) {
  return *Decimal::parse(s);
}
void create_sent_quote(RunnerFixture& f, const std::string& id) {
  quote::Create c;
  c.account_id = "a-1";
  c.opportunity_id = "o-1";
  c.currency = "VND";
  c.lines = {{"p-1", std::string("Licence"), dec("3"), dec("1000000"), dec("10"), dec("10")},
             {"", std::string("Setup"), dec("1"), dec("500000"), dec("0"), dec("0")}};
  ASSERT_TRUE(f.runner->run<quote::Aggregate>(id, c, RunnerFixture::as("u-ann")));
  ASSERT_TRUE(f.runner->run<quote::Aggregate>(id, quote::Send{}, RunnerFixture::as("u-ann")));
}
std::vector<std::string> types(RunnerFixture& f, const std::string& stream) {
  std::vector<std::string> out;
  auto events = f.store->read_stream(stream, 0, store::Direction::forward, 100);
  if (events) {
    for (const auto& e : *events)
      out.push_back(e.type);
  }
  return out;
}
app::CommandOptions keyed(const std::string& key, const std::string& digest) {
  auto o = RunnerFixture::as("u-ann");
  o.idempotency_key = key;
  o.request_digest = digest;
  return o;
}
}  // namespace

TEST(QuoteAcceptance, CreatesTheOrderInTheSameAppend) {
  RunnerFixture f;
  create_sent_quote(f, "q-1");
  std::uint64_t before = f.store->head();
  auto r = app::accept_quote(*f.runner, "q-1", RunnerFixture::as("u-bob", 1));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->quote.version, 2);
  EXPECT_EQ(r->quote.position, before + 2);  // one event per stream, one commit
  EXPECT_EQ(types(f, "quote-q-1").back(), "quote.accepted.v1");
  EXPECT_EQ(types(f, "order-" + r->order_id), std::vector<std::string>{"order.created.v1"});

  auto q = f.runner->load<quote::Aggregate>("q-1");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->state.order_id, r->order_id);
  auto o = f.runner->load<order::Aggregate>(r->order_id);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->state.status, order::Status::open);
  EXPECT_EQ(o->state.quote_id, "q-1");
  EXPECT_EQ(o->state.account_id, "a-1");
  EXPECT_TRUE(o->state.totals == q->state.totals);
  auto events = f.store->read_stream("order-" + r->order_id, 0, store::Direction::forward, 1);
  ASSERT_TRUE(events && events->size() == 1u);
  EXPECT_EQ(events->front().metadata.actor, "u-bob");
  auto created = order::Aggregate::decode(events->front().type, events->front().data);
  ASSERT_TRUE(created);
  EXPECT_EQ(std::get<order::Created>(*created).lines, q->state.lines);

  // Accepted is final: a second acceptance is an invalid transition with nothing allowed.
  before = f.store->head();
  auto again = app::accept_quote(*f.runner, "q-1", RunnerFixture::as("u-ann"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, app::errc::invalid_transition);
  EXPECT_TRUE(again.error().allowed.empty());
  EXPECT_EQ(f.store->head(), before);
}

TEST(QuoteAcceptance, OnlySentQuotesAndTheRightVersion) {
  RunnerFixture f;
  quote::Create c;
  c.account_id = "a-1";
  c.currency = "VND";
  c.lines = {{"p-1", {}, dec("1"), dec("10"), dec("0"), dec("0")}};
  ASSERT_TRUE(f.runner->run<quote::Aggregate>("q-1", c, RunnerFixture::as("u-ann")));
  auto draft = app::accept_quote(*f.runner, "q-1", RunnerFixture::as("u-ann"));
  ASSERT_FALSE(draft);
  EXPECT_EQ(draft.error().code, app::errc::invalid_transition);
  EXPECT_EQ(draft.error().allowed, (std::vector<std::string>{"replace-lines", "send"}));

  ASSERT_TRUE(f.runner->run<quote::Aggregate>("q-1", quote::Send{}, RunnerFixture::as("u-ann")));
  auto stale = app::accept_quote(*f.runner, "q-1", RunnerFixture::as("u-ann", 0));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, app::errc::conflict);
  EXPECT_EQ(stale.error().current_version, 1);

  auto missing = app::accept_quote(*f.runner, "q-404", RunnerFixture::as("u-ann"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, app::errc::not_found);
}

TEST(QuoteAcceptance, WritesNothingWhenTheOrderStreamIsTaken) {
  RunnerFixture f;
  create_sent_quote(f, "q-1");
  // The id the acceptance will use next (ids id-1.. are drawn only by the acceptance here).
  ASSERT_TRUE(f.store->append("order-id-1", store::ExpectedVersion::any(),
                              {store::NewEvent{"", "test.squatted.v1", "{}", {}}}));
  std::uint64_t before = f.store->head();
  auto pinned = app::accept_quote(*f.runner, "q-1", RunnerFixture::as("u-ann", 1));
  ASSERT_FALSE(pinned);
  EXPECT_EQ(pinned.error().code, app::errc::conflict);
  EXPECT_EQ(pinned.error().current_version, 1);  // the quote's
  EXPECT_EQ(f.store->head(), before);
  EXPECT_EQ(types(f, "quote-q-1").size(), 2u);

  // Without If-Match it decides again with a fresh order id.
  auto retried = app::accept_quote(*f.runner, "q-1", RunnerFixture::as("u-ann"));
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_NE(retried->order_id, "id-1");
}

TEST(QuoteAcceptance, AnIdempotencyKeyAnswersTheFirstAcceptanceAgain) {
  RunnerFixture f;
  create_sent_quote(f, "q-1");
  auto first = app::accept_quote(*f.runner, "q-1", keyed("u-ann\nk-1", "digest-a"));
  ASSERT_TRUE(first) << first.error().message;
  std::uint64_t head = f.store->head();
  auto again = app::accept_quote(*f.runner, "q-1", keyed("u-ann\nk-1", "digest-a"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->order_id, first->order_id);
  EXPECT_EQ(again->quote.version, first->quote.version);
  EXPECT_EQ(again->quote.position, first->quote.position);
  EXPECT_EQ(f.store->head(), head);
  auto other = app::accept_quote(*f.runner, "q-1", keyed("u-ann\nk-1", "digest-b"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, app::errc::idempotency_mismatch);
}
