// Duplicate detection on create: identity claims appended atomically with the record.
#include "app/duplicates.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "domain/account.hpp"
#include "domain/contact.hpp"
#include "domain/registry.hpp"
#include "support.hpp"

using namespace eventcrm;
using namespace eventcrm::domain;
using eventcrm::testing::RunnerFixture;

namespace {

contact::Create person(std::string last, std::optional<std::string> email,
                       std::optional<std::string> phone = std::nullopt) {
  contact::Create c;
  c.profile.last_name = std::move(last);
  c.profile.email = std::move(email);
  c.profile.phone = std::move(phone);
  return c;
}

app::Result<app::CommandResult> create(RunnerFixture& f, const std::string& id,
                                       const contact::Create& c, bool force = false,
                                       app::CommandOptions options = RunnerFixture::as("u-1")) {
  return app::create_unique<contact::Aggregate>(
      *f.runner, id, c, app::identities_of(c.profile.email, c.profile.phone), force, options);
}

std::size_t events_in(RunnerFixture& f, const std::string& stream) {
  auto events = f.store->read_stream(stream, 0, store::Direction::forward, 100);
  return events ? events->size() : 0;
}

}  // namespace

TEST(Duplicates, IdentitiesAreNormalised) {
  auto ids = app::identities_of(" Lan@MinhPhat.VN ", "0912 345 678", "0101-234 567");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0].kind, "email");
  EXPECT_EQ(ids[0].value, "lan@minhphat.vn");
  EXPECT_EQ(ids[1].value, "+84912345678");
  EXPECT_EQ(ids[2].value, "0101234567");
  // Malformed values claim nothing (the domain rejects them).
  EXPECT_TRUE(app::identities_of("not-an-email", "12", "--").empty());
  // The claim stream names neither the value nor the person.
  std::string stream = app::legacy_claim_stream("contact", ids[0]);
  EXPECT_TRUE(stream.starts_with("uniq-"));
  EXPECT_EQ(stream.size(), 5u + 64u);
  EXPECT_EQ(stream.find("minhphat"), std::string::npos);
  EXPECT_NE(stream, app::legacy_claim_stream("account", ids[0]));  // per category
  EXPECT_TRUE(app::is_claim_stream(stream));
  EXPECT_FALSE(app::is_claim_stream("contact-1"));
}

TEST(Duplicates, SameEmailOrPhoneIsRefusedNamingTheExistingRecord) {
  RunnerFixture f;
  auto first = create(f, "c-1", person("Nguyễn", "lan@minhphat.vn", "+84 912 345 678"));
  ASSERT_TRUE(first) << first.error().message;
  std::uint64_t head = f.store->head();
  EXPECT_EQ(head, 3u);  // the contact and two claims, one append

  auto again = create(f, "c-2", person("Trần", "LAN@minhphat.vn "));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, app::errc::already_exists);
  EXPECT_EQ(again.error().existing_id, "c-1");
  auto by_phone = create(f, "c-3", person("Lê", std::nullopt, "0912-345-678"));
  ASSERT_FALSE(by_phone);
  EXPECT_EQ(by_phone.error().existing_id, "c-1");
  EXPECT_NE(by_phone.error().message.find("phone"), std::string::npos);
  EXPECT_EQ(f.store->head(), head);  // nothing written
  EXPECT_EQ(events_in(f, "contact-c-2"), 0u);

  auto holder = app::claimant(*f.store, "contact", {"email", "lan@minhphat.vn"});
  ASSERT_TRUE(holder);
  EXPECT_EQ(*holder, std::optional<std::string>("c-1"));
  auto nobody = app::claimant(*f.store, "contact", {"email", "other@minhphat.vn"});
  ASSERT_TRUE(nobody);
  EXPECT_FALSE(*nobody);
}

TEST(Duplicates, ForceCreatesAndClaimsOnlyWhatIsFree) {
  RunnerFixture f;
  ASSERT_TRUE(create(f, "c-1", person("Nguyễn", "lan@minhphat.vn")));
  auto forced = create(f, "c-2", person("Nguyễn", "lan@minhphat.vn", "0912345678"), true);
  ASSERT_TRUE(forced) << forced.error().message;
  // The email stays with the first record; the free phone went to the forced one.
  EXPECT_EQ(*app::claimant(*f.store, "contact", {"email", "lan@minhphat.vn"}),
            std::optional<std::string>("c-1"));
  EXPECT_EQ(*app::claimant(*f.store, "contact", {"phone", "+84912345678"}),
            std::optional<std::string>("c-2"));
  auto third = create(f, "c-3", person("X", std::nullopt, "+84912345678"));
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().existing_id, "c-2");
}

TEST(Duplicates, ClaimsArePerCategory) {
  RunnerFixture f;
  ASSERT_TRUE(create(f, "c-1", person("Nguyễn", "sales@acme.vn")));
  account::Create a;
  a.profile.name = "Acme";
  a.profile.email = "sales@acme.vn";
  auto r = app::create_unique<account::Aggregate>(*f.runner, "a-1", a,
                                                  app::identities_of(a.profile.email, std::nullopt),
                                                  false, RunnerFixture::as("u-1"));
  EXPECT_TRUE(r) << r.error().message;
}

TEST(Duplicates, ValidationComesFirstAndWritesNothing) {
  RunnerFixture f;
  auto r = create(f, "c-1", person("", "lan@minhphat.vn"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, app::errc::validation);
  EXPECT_EQ(f.store->head(), 0u);
}

TEST(Duplicates, KeyedCreateReplaysItsFirstResult) {
  RunnerFixture f;
  auto options = RunnerFixture::as("u-1");
  options.idempotency_key = "u-1\nk-1";
  options.request_digest = "d-1";
  auto first = create(f, "c-1", person("Nguyễn", "lan@minhphat.vn"), false, options);
  ASSERT_TRUE(first) << first.error().message;
  auto again = create(f, "c-1", person("Nguyễn", "lan@minhphat.vn"), false, options);
  ASSERT_TRUE(again) << again.error().message;  // a replay, not a duplicate
  EXPECT_EQ(again->id, "c-1");
  EXPECT_EQ(again->version, first->version);
  EXPECT_EQ(again->position, first->position);
  EXPECT_EQ(f.store->head(), 2u);
}

TEST(Duplicates, ConcurrentCreatesWithOneEmailMakeOneRecord) {
  RunnerFixture f;
  constexpr int kThreads = 16;
  std::atomic<int> created{0}, refused{0};
  std::vector<std::string> holders(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = create(f, "c-" + std::to_string(i), person("P", "same@acme.vn"));
      if (r) {
        ++created;
      } else if (r.error().code == app::errc::already_exists) {
        ++refused;
        holders[static_cast<std::size_t>(i)] = r.error().existing_id;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
  auto holder = app::claimant(*f.store, "contact", {"email", "same@acme.vn"});
  ASSERT_TRUE(holder && *holder);
  for (const auto& h : holders) {
    if (!h.empty()) {
      EXPECT_EQ(h, **holder);
    }
  }
  EXPECT_EQ(events_in(f, "contact-" + **holder), 1u);
}

// With erasure support the store keeps a server secret, and claim streams are keyed digests:
// not the SHA-256 anyone can recompute from a guessed email. Claims made before still hold.
TEST(Duplicates, ClaimsAreKeyedWhenTheStoreKeepsKeysAndLegacyClaimsStillHold) {
  RunnerFixture f;
  eventcrm::testing::TempDir dir;
  store::Options o;
  o.path = dir.str();
  o.durability = store::Durability::relaxed;
  o.personal_data = domain::personal_data();
  auto sealed = std::move(*store::EventStore::open(o));
  auto ids = app::identities_of("lan@minhphat.vn", std::nullopt);
  auto keyed = app::claim_stream(*sealed, "contact", ids[0]);
  ASSERT_TRUE(keyed) << keyed.error().message;
  EXPECT_TRUE(keyed->starts_with("uniq-"));
  EXPECT_NE(*keyed, app::legacy_claim_stream("contact", ids[0]));
  EXPECT_EQ(*keyed, *app::claim_stream(*sealed, "contact", ids[0])) << "stable";
  // A store without keys names claims as before.
  EXPECT_EQ(*app::claim_stream(*f.store, "contact", ids[0]),
            app::legacy_claim_stream("contact", ids[0]));

  // A legacy claim (written before claims were keyed) blocks a create on the sealing store.
  std::vector<store::NewEvent> claim(1);
  claim[0].type = std::string(app::kIdentityClaimedType);
  claim[0].data = R"({"record":"c-old","category":"contact","kind":"email"})";
  ASSERT_TRUE(sealed->append(app::legacy_claim_stream("contact", ids[0]),
                             store::ExpectedVersion::no_stream(), claim));
  eventcrm::testing::FixedClock clock;
  eventcrm::testing::CountingIds gen;
  app::CommandRunner runner(*sealed, clock, gen);
  auto again = app::create_unique<contact::Aggregate>(
      runner, "c-new", person("Tran", "LAN@minhphat.vn"), ids, false, RunnerFixture::as("u-1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, app::errc::already_exists);
  EXPECT_EQ(again.error().existing_id, "c-old");
  auto forced = app::create_unique<contact::Aggregate>(
      runner, "c-new", person("Tran", "LAN@minhphat.vn"), ids, true, RunnerFixture::as("u-1"));
  ASSERT_TRUE(forced) << forced.error().message;
  auto holder = app::claimant(*sealed, "contact", ids[0]);
  ASSERT_TRUE(holder);
  EXPECT_EQ(*holder, std::optional<std::string>("c-old"));
  sealed->close();
}
