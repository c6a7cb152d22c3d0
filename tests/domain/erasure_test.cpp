// Erasure decisions: Forget on contacts, leads and accounts (allowed in every state, nothing new
// once forgotten, every other command refused afterwards), the state's personal fields replaced by
// the marker, and the personal-data policy the event store is given.
#include "domain/account.hpp"
#include "domain/contact.hpp"
#include "domain/lead.hpp"
#include "domain/registry.hpp"

#include <algorithm>

#include "given_when_then.hpp"

using namespace eventcrm::domain;
using eventcrm::kErasedMarker;
using eventcrm::testing::at;
using eventcrm::testing::Fails;
using eventcrm::testing::fixed_context;
using eventcrm::testing::run_cases;

namespace {
const Timestamp kNow = at("2026-03-02T10:00:00Z");

contact::Created contact_created() {
  contact::Profile p;
  p.first_name = "Lan";
  p.last_name = "Nguyen";
  p.email = "lan@flow.example";
  p.title = "CFO";
  return {"r-1", std::string("a-1"), p, "u-ann", std::nullopt, "u-ann", kNow};
}
lead::Created lead_created() {
  return {"r-1",
          "Flow Trading",
          "Lan",
          "Tran",
          std::string("lan@flow.example"),
          std::nullopt,
          std::nullopt,
          std::nullopt,
          lead::Utm{},
          "u-ann",
          "u-ann",
          kNow};
}
account::Created account_created() {
  account::Profile p;
  p.name = "Lan Tran";
  p.phone = "0912 345 678";
  p.tax_id = "0101234567";
  return {"r-1", p, "u-ann", std::nullopt, "u-ann", kNow};
}
}  // namespace

TEST(Erasure, ContactForget) {
  using E = std::vector<contact::Event>;
  const contact::Forgotten forgotten{"r-1", std::string("a-1"), "u-ann", kNow};
  contact::Profile edit;
  edit.email = "new@flow.example";
  run_cases<contact::Aggregate>({
      {"forget", {contact_created()}, contact::Forget{}, E{forgotten}},
      {"forget an archived contact",
       {contact_created(), contact::Archived{"r-1", std::string("a-1"), std::nullopt}},
       contact::Forget{},
       E{forgotten}},
      {"forget twice", {contact_created(), forgotten}, contact::Forget{}, E{}},
      {"forget an unknown contact", {}, contact::Forget{}, Fails{errc::not_found}},
      {"no edit after forget",
       {contact_created(), forgotten},
       contact::Update{edit},
       Fails{errc::invalid_transition}},
      {"no archive after forget",
       {contact_created(), forgotten},
       contact::Archive{},
       Fails{errc::invalid_transition}},
  });
  contact::State s;
  contact::Aggregate::apply(s, contact_created());
  contact::Aggregate::apply(s, forgotten);
  EXPECT_TRUE(s.forgotten);
  EXPECT_EQ(s.profile.first_name, std::string(kErasedMarker));
  EXPECT_EQ(s.profile.email, std::string(kErasedMarker));
  EXPECT_EQ(s.profile.phone, std::nullopt) << "absent fields stay absent";
  EXPECT_EQ(s.profile.title, "CFO") << "not personal";
}

TEST(Erasure, LeadForget) {
  using E = std::vector<lead::Event>;
  const lead::Forgotten forgotten{"r-1", "u-ann", kNow};
  run_cases<lead::Aggregate>({
      {"forget", {lead_created()}, lead::Forget{}, E{forgotten}},
      {"forget twice", {lead_created(), forgotten}, lead::Forget{}, E{}},
      {"no qualify after forget",
       {lead_created(), forgotten},
       lead::Qualify{},
       Fails{errc::invalid_transition}},
  });
  lead::State s;
  lead::Aggregate::apply(s, lead_created());
  lead::Aggregate::apply(s, lead::Qualified{"r-1", std::nullopt, "u-ann"});
  lead::Aggregate::apply(s, forgotten);
  EXPECT_EQ(s.last_name, std::string(kErasedMarker));
  EXPECT_EQ(s.email, std::string(kErasedMarker));
  EXPECT_EQ(s.company, "Flow Trading");
  auto converted = lead::decide_conversion(s, nullptr, lead::Convert{}, fixed_context());
  ASSERT_FALSE(converted);
  EXPECT_EQ(converted.error().code, errc::invalid_transition);
}

TEST(Erasure, AccountForget) {
  using E = std::vector<account::Event>;
  const account::Forgotten forgotten{"r-1", "u-ann", kNow};
  run_cases<account::Aggregate>({
      {"forget", {account_created()}, account::Forget{}, E{forgotten}},
      {"forget twice", {account_created(), forgotten}, account::Forget{}, E{}},
  });
  account::State s;
  account::Aggregate::apply(s, account_created());
  account::Aggregate::apply(s, forgotten);
  EXPECT_EQ(s.profile.phone, std::string(kErasedMarker));
  EXPECT_EQ(s.profile.tax_id, std::string(kErasedMarker));
  EXPECT_EQ(s.profile.name, "Lan Tran") << "an account's name is not sealed";
  account::State decoded;
  ASSERT_TRUE(account::Aggregate::decode_state(account::Aggregate::encode_state(s), decoded));
  EXPECT_TRUE(decoded.forgotten) << "snapshots keep the forgotten flag";
}

TEST(Erasure, ThePolicyNamesEveryPersonalFieldOnce) {
  auto policy = personal_data();
  auto paths = [&](std::string_view type) {
    for (const auto& pf : policy) {
      if (pf.type == type)
        return pf.paths;
    }
    return std::vector<std::string>{};
  };
  EXPECT_EQ(paths("contact.created.v1"),
            (std::vector<std::string>{"profile.first_name", "profile.last_name", "profile.email",
                                      "profile.phone"}));
  EXPECT_EQ(paths("lead.created.v1"),
            (std::vector<std::string>{"first_name", "last_name", "email", "phone"}));
  EXPECT_EQ(paths("account.updated.v1").size(), 4u);
  EXPECT_TRUE(paths("opportunity.created.v1").empty());
  for (const auto& pf : policy)
    EXPECT_NE(find_event_type(pf.type), nullptr) << pf.type;
}
