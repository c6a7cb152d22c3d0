// app::forget: the erasure of a contact through the command runner on a sealing store —
// idempotent, refusing further commands, and refused for records whose personal data was
// stored before sealing (or by a store that seals nothing).
#include "app/forget.hpp"

#include <gtest/gtest.h>

#include "common/personal_data.hpp"
#include "domain/contact.hpp"
#include "domain/registry.hpp"
#include "support.hpp"

using namespace eventcrm;
using namespace eventcrm::domain;
using eventcrm::testing::CountingIds;
using eventcrm::testing::FixedClock;
using eventcrm::testing::RunnerFixture;
using eventcrm::testing::TempDir;

namespace {

struct Sealing {
  TempDir dir;
  FixedClock clock;
  CountingIds ids;
  std::unique_ptr<store::EventStore> store;
  std::unique_ptr<app::CommandRunner> runner;

  explicit Sealing(bool seal = true) { open(seal); }
  ~Sealing() { store->close(); }
  void open(bool seal) {
    if (store)
      store->close();
    store::Options o;
    o.path = dir.str();
    o.durability = store::Durability::relaxed;
    if (seal)
      o.personal_data = domain::personal_data();
    store = std::move(*store::EventStore::open(o));
    runner = std::make_unique<app::CommandRunner>(*store, clock, ids);
  }
  void create_contact(const std::string& id) {
    contact::Create c;
    c.profile.first_name = "Lan";
    c.profile.last_name = "Nguyen";
    c.profile.email = "lan@flow.example";
    ASSERT_TRUE(runner->run<contact::Aggregate>(id, c, RunnerFixture::as("u-1")));
  }
};

}  // namespace

TEST(Forget, ErasesOnceAnswersTheSameAgainAndRefusesLaterCommands) {
  Sealing s;
  s.create_contact("c-1");
  auto first = app::forget<contact::Aggregate>(*s.runner, "c-1", contact::Forget{},
                                               RunnerFixture::as("admin"));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->version, 1);
  EXPECT_EQ(first->position, s.store->head());
  auto again = app::forget<contact::Aggregate>(*s.runner, "c-1", contact::Forget{},
                                               RunnerFixture::as("admin"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->version, first->version);
  EXPECT_EQ(again->position, first->position);
  EXPECT_EQ(s.store->head(), first->position) << "nothing appended the second time";

  auto events = s.store->read_stream("contact-c-1", 0, store::Direction::forward, 10);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->at(0).data.find("lan@flow.example"), std::string::npos);
  EXPECT_NE(events->at(0).data.find(std::string(kErasedMarker)), std::string::npos);
  EXPECT_EQ(events->at(1).type, "contact.forgotten.v1");
  EXPECT_EQ(events->at(1).metadata.actor, "admin");

  contact::Update edit;
  edit.changes.email = "new@flow.example";
  auto refused = s.runner->run<contact::Aggregate>("c-1", edit, RunnerFixture::as("u-1"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, app::errc::invalid_transition);
  auto missing = app::forget<contact::Aggregate>(*s.runner, "c-404", contact::Forget{},
                                                 RunnerFixture::as("admin"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, app::errc::not_found);
}

TEST(Forget, RefusesPersonalDataStoredBeforeSealingAndStoresThatSealNothing) {
  Sealing s(false);
  s.create_contact("c-old");
  auto unsealed = app::forget<contact::Aggregate>(*s.runner, "c-old", contact::Forget{},
                                                  RunnerFixture::as("admin"));
  ASSERT_FALSE(unsealed);
  EXPECT_EQ(unsealed.error().code, app::errc::invalid_transition);
  EXPECT_NE(unsealed.error().message.find("does not seal"), std::string::npos);

  s.open(true);
  const auto head = s.store->head();
  auto legacy = app::forget<contact::Aggregate>(*s.runner, "c-old", contact::Forget{},
                                                RunnerFixture::as("admin"));
  ASSERT_FALSE(legacy);
  EXPECT_EQ(legacy.error().code, app::errc::invalid_transition);
  EXPECT_NE(legacy.error().message.find("3 personal values"), std::string::npos)
      << legacy.error().message;
  EXPECT_EQ(s.store->head(), head) << "nothing appended";
  // A contact created since sealing is on can be forgotten on the same store.
  s.create_contact("c-new");
  EXPECT_TRUE(app::forget<contact::Aggregate>(*s.runner, "c-new", contact::Forget{},
                                              RunnerFixture::as("admin")));
}
