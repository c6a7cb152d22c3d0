// Account and contact decisions, and the normalised keys used to find duplicates.
#include "domain/account.hpp"
#include "domain/contact.hpp"
#include "domain/normalize.hpp"

#include "given_when_then.hpp"

using namespace eventcrm::domain;
using eventcrm::testing::at;
using eventcrm::testing::Fails;
using eventcrm::testing::run_cases;
using Account = account::Aggregate;
using Contact = contact::Aggregate;

namespace {
const Timestamp kNow = at("2026-03-02T10:00:00Z");
account::Profile profile(std::string name) {
  account::Profile p;
  p.name = std::move(name);
  p.email = "Sales@MinhPhat.VN";
  p.tax_id = "0101-234 567";
  return p;
}
account::Created acc_created() {
  return {"r-1", profile("Minh Phat"), "u-ann", std::nullopt, "u-ann", kNow};
}
contact::Profile person() {
  contact::Profile p;
  p.first_name = "Lan";
  p.last_name = "Nguyen";
  p.phone = "0912 345 678";
  return p;
}
contact::Created con_created() {
  return {"r-1", std::string("a-1"), person(), "u-ann", std::nullopt, "u-ann", kNow};
}
}  // namespace

TEST(Account, Commands) {
  using E = std::vector<account::Event>;
  account::Profile rename;
  rename.name = "Minh Phat JSC";
  rename.email = "Sales@MinhPhat.VN";  // unchanged: left out
  rename.address = "";                 // clearing an absent field: no change
  account::Profile renamed;
  renamed.name = "Minh Phat JSC";
  account::Profile clear_tax;
  clear_tax.tax_id = "";
  account::Profile bad;
  bad.name = "";
  bad.email = "nope";
  bad.phone = "call me";
  run_cases<Account>({
      {"create", {}, account::Create{profile("Minh Phat"), {}, {}}, E{acc_created()}},
      {"create without a name",
       {},
       account::Create{account::Profile{}, {}, {}},
       Fails{errc::validation, {}, {"name"}}},
      {"create twice",
       {acc_created()},
       account::Create{profile("X"), {}, {}},
       Fails{errc::already_exists}},
      {"update keeps real changes",
       {acc_created()},
       account::Update{rename},
       E{account::Updated{"r-1", renamed}}},
      {"update clears a field",
       {acc_created()},
       account::Update{clear_tax},
       E{account::Updated{"r-1", clear_tax}}},
      {"update invalid",
       {acc_created()},
       account::Update{bad},
       Fails{errc::validation, {}, {"name", "email", "phone"}}},
      {"assign owner",
       {acc_created()},
       account::AssignOwner{"u-bob"},
       E{account::OwnerAssigned{"r-1", "u-bob", std::string("u-ann")}}},
      {"archive",
       {acc_created()},
       account::Archive{std::string("merged")},
       E{account::Archived{"r-1", std::string("merged")}}},
      {"archived accounts refuse changes",
       {acc_created(), account::Archived{"r-1", std::nullopt}},
       account::Update{rename},
       Fails{errc::invalid_transition}},
      {"missing", {}, account::Archive{}, Fails{errc::not_found}},
  });
  account::State s;
  Account::apply(s, acc_created());
  EXPECT_EQ(s.normalized_email(), "sales@minhphat.vn");
  EXPECT_EQ(s.normalized_tax_id(), "0101234567");
  Account::apply(s, account::Updated{"r-1", clear_tax});
  EXPECT_EQ(s.normalized_tax_id(), std::nullopt);
}

TEST(Contact, Commands) {
  using E = std::vector<contact::Event>;
  contact::Profile title;
  title.title = "CFO";
  run_cases<Contact>({
      {"create", {}, contact::Create{person(), std::string("a-1"), {}, {}}, E{con_created()}},
      {"create without a last name",
       {},
       contact::Create{contact::Profile{}, {}, {}, {}},
       Fails{errc::validation, {}, {"last_name"}}},
      {"update",
       {con_created()},
       contact::Update{title},
       E{contact::Updated{"r-1", std::string("a-1"), title}}},
      {"update with nothing new", {con_created()}, contact::Update{person()}, E{}},
      {"link to another account",
       {con_created()},
       contact::LinkAccount{"a-2"},
       E{contact::LinkedToAccount{"r-1", "a-2", std::string("a-1")}}},
      {"link to the same account", {con_created()}, contact::LinkAccount{"a-1"}, E{}},
      {"unlink",
       {con_created()},
       contact::UnlinkAccount{},
       E{contact::UnlinkedFromAccount{"r-1", "a-1"}}},
      {"unlink when not linked",
       {con_created(), contact::UnlinkedFromAccount{"r-1", "a-1"}},
       contact::UnlinkAccount{},
       Fails{errc::invalid_transition, {"link-account"}}},
      {"assign owner",
       {con_created()},
       contact::AssignOwner{"u-bob"},
       E{contact::OwnerAssigned{"r-1", std::string("a-1"), "u-bob", std::string("u-ann")}}},
      {"archive",
       {con_created()},
       contact::Archive{},
       E{contact::Archived{"r-1", std::string("a-1"), std::nullopt}}},
      {"archived refuses",
       {con_created(), contact::Archived{"r-1", {}, {}}},
       contact::LinkAccount{"a-2"},
       Fails{errc::invalid_transition}},
  });
  contact::State s;
  Contact::apply(s, con_created());
  EXPECT_EQ(s.normalized_phone(), "+84912345678");
}

TEST(Normalize, EmailPhoneTaxId) {
  EXPECT_EQ(normalize_email("  Lan.Nguyen@Example.COM "), "lan.nguyen@example.com");
  EXPECT_EQ(normalize_email("a@b"), std::nullopt);
  EXPECT_EQ(normalize_email("a@@b.c"), std::nullopt);
  EXPECT_EQ(normalize_phone("+84 912-345-678"), "+84912345678");
  EXPECT_EQ(normalize_phone("0084 (912) 345.678"), "+84912345678");
  EXPECT_EQ(normalize_phone("0912345678"), "+84912345678");
  EXPECT_EQ(normalize_phone("12"), std::nullopt);
  EXPECT_EQ(normalize_phone("0912x345678"), std::nullopt);
  EXPECT_EQ(normalize_tax_id(" 0101-234.567 "), "0101234567");
  EXPECT_EQ(normalize_tax_id("--"), std::nullopt);
}
