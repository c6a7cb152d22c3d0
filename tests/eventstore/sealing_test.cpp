// Crypto-shredding in the event store: the AES-256-GCM primitives, sealed personal fields in
// the stored bytes, transparent reads, erasure by destroying the subject's key (with the key's
// and the values' bytes gone from every file) and a chain that still verifies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "eventstore/sealing.hpp"
#include "eventstore/store.hpp"
#include "support/temp_dir.hpp"

using namespace eventcrm::store;
using eventcrm::kErasedMarker;
using eventcrm::testing::TempDir;

namespace {

DataKey key_of(std::uint8_t fill) {
  DataKey k;
  k.fill(fill);
  return k;
}

// Every file under `dir` (WAL, SST, MANIFEST, key store…) holding `needle` as raw bytes.
std::vector<std::string> files_containing(const std::filesystem::path& dir,
                                          std::string_view needle) {
  std::vector<std::string> hits;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file())
      continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos)
      hits.push_back(entry.path().string());
  }
  return hits;
}

eventcrm::PersonalDataPolicy policy() {
  return {{"contact.created.v1", {"profile.first_name", "profile.email", "profile.phone"}},
          {"contact.updated.v1", {"changes.email"}}};
}

NewEvent created(std::string email, std::string id = {}) {
  NewEvent e;
  e.id = std::move(id);
  e.type = "contact.created.v1";
  e.data = R"({"contact_id":"c","profile":{"first_name":"Thu\u1ea7n","email":")" + email +
           R"(","phone":null,"title":"CFO"},"owner_id":"u-1"})";
  e.metadata.actor = "user-1";
  return e;
}

struct SealingFixture : ::testing::Test {
  TempDir dir;
  std::unique_ptr<EventStore> store;
  std::string keys_path;

  void SetUp() override { reopen(); }
  void reopen(bool with_policy = true) {
    if (store)
      store->close();
    store.reset();
    Options o;
    o.path = dir.str();
    if (with_policy)
      o.personal_data = policy();
    o.keys_path = keys_path;
    auto s = EventStore::open(o);
    ASSERT_TRUE(s) << s.error().message;
    store = std::move(*s);
  }
  std::string stored_data(std::uint64_t position) {
    Filter raw;
    raw.stored_form = true;
    auto page = store->read_all(position - 1, 1, raw);
    EXPECT_TRUE(page && page->events.size() == 1);
    return page->events.at(0).data;
  }
};

}  // namespace

TEST(Sealing, RoundTripsAndRejectsTheWrongKeyTamperingAndAnotherField) {
  DataKey k = key_of(7);
  std::string aad = sealing::associated_data("contact-1", "profile.email");
  std::string sealed = sealing::seal_value(k, aad, R"("lan@flow.example")");
  EXPECT_TRUE(sealed.starts_with(sealing::kPrefix));
  EXPECT_EQ(sealed.find("lan@"), std::string::npos);
  EXPECT_EQ(sealing::open_value(k, aad, sealed), R"("lan@flow.example")");
  // A fresh nonce per value: the same plaintext never seals to the same bytes.
  EXPECT_NE(sealing::seal_value(k, aad, R"("lan@flow.example")"), sealed);
  EXPECT_FALSE(sealing::open_value(key_of(8), aad, sealed));
  EXPECT_FALSE(
      sealing::open_value(k, sealing::associated_data("contact-2", "profile.email"), sealed));
  EXPECT_FALSE(
      sealing::open_value(k, sealing::associated_data("contact-1", "profile.phone"), sealed));
  for (std::size_t i = sealing::kPrefix.size(); i < sealed.size(); i += 5) {
    std::string tampered = sealed;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(sealing::open_value(k, aad, tampered)) << "byte " << i;
  }
  EXPECT_FALSE(sealing::open_value(k, aad, "sealed:v1:not base64!"));
  EXPECT_FALSE(sealing::open_value(k, aad, "plain text"));
}

TEST_F(SealingFixture, StoresPersonalFieldsSealedAndReadsThemBackExactly) {
  NewEvent e = created("lan@flow.example");
  const std::string original = e.data;
  auto r = store->append("contact-1", ExpectedVersion::no_stream(), {e});
  ASSERT_TRUE(r) << r.error().message;
  std::string stored = stored_data(r->first_position);
  EXPECT_EQ(stored.find("lan@flow.example"), std::string::npos) << stored;
  EXPECT_EQ(stored.find("Thu\\u1ea7n"), std::string::npos) << stored;
  EXPECT_NE(stored.find(R"("title":"CFO")"), std::string::npos) << "other fields stay as they are";
  EXPECT_NE(stored.find(R"("phone":null)"), std::string::npos);
  auto read = store->read_stream("contact-1", 0, Direction::forward, 10);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->at(0).data, original);
  auto by_id = store->get_event(r->event_ids[0]);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->data, original);
  auto sub = store->subscribe(0);
  auto got = sub->next(10, std::chrono::milliseconds(100));
  ASSERT_TRUE(got && got->size() == 1);
  EXPECT_EQ(got->at(0).data, original);
  EXPECT_TRUE(store->verify().ok);
}

TEST_F(SealingFixture, AnIdempotentRetryIsComparedInTheClear) {
  const std::string id = "0190a000-0000-7000-8000-000000000001";
  auto first = store->append("contact-1", ExpectedVersion::no_stream(), {created("a@x.io", id)});
  ASSERT_TRUE(first) << first.error().message;
  auto again = store->append("contact-1", ExpectedVersion::no_stream(), {created("a@x.io", id)});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->first_position, first->first_position);
  auto other = store->append("contact-1", ExpectedVersion::any(), {created("b@x.io", id)});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, errc::idempotency_conflict);
}

TEST_F(SealingFixture, ForgettingASubjectErasesItsValuesEverywhereAndKeepsTheChain) {
  ASSERT_TRUE(store->append("contact-1", ExpectedVersion::no_stream(),
                            {created("forget.me@flow.example")}));
  ASSERT_TRUE(
      store->append("contact-2", ExpectedVersion::no_stream(), {created("keep.me@flow.example")}));
  NewEvent upd;
  upd.type = "contact.updated.v1";
  upd.data = R"({"contact_id":"c","changes":{"email":"forget.me.too@flow.example"}})";
  ASSERT_TRUE(store->append("contact-1", ExpectedVersion::exact(0), {upd}));
  ASSERT_TRUE(store->save_snapshot("contact-1", 1, "state forget.me@flow.example"));
  ASSERT_EQ(*store->unsealed_personal_values("contact-1"), 0u);

  ASSERT_TRUE(store->forget_subject("contact-1"));
  ASSERT_TRUE(store->forget_subject("contact-1")) << "idempotent";

  auto read = store->read_stream("contact-1", 0, Direction::forward, 10);
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 2u);
  std::string marker = "\"" + std::string(kErasedMarker) + "\"";
  EXPECT_NE(read->at(0).data.find(R"("email":)" + marker), std::string::npos) << read->at(0).data;
  EXPECT_NE(read->at(0).data.find(R"("first_name":)" + marker), std::string::npos);
  EXPECT_NE(read->at(0).data.find(R"("title":"CFO")"), std::string::npos);
  EXPECT_NE(read->at(1).data.find(R"("email":)" + marker), std::string::npos);
  EXPECT_FALSE(store->load_snapshot("contact-1")->bytes.size());
  auto kept = store->read_stream("contact-2", 0, Direction::forward, 10);
  EXPECT_NE(kept->at(0).data.find("keep.me@flow.example"), std::string::npos);
  EXPECT_TRUE(store->verify().ok);

  // Later writes for a forgotten subject never store its values.
  auto late = store->append("contact-1", ExpectedVersion::any(), {created("late@flow.example")});
  ASSERT_TRUE(late);
  EXPECT_NE(stored_data(late->first_position).find(marker), std::string::npos);

  store->close();
  for (std::string_view value :
       {"forget.me@flow.example", "forget.me.too@flow.example", "late@flow.example"}) {
    EXPECT_EQ(files_containing(dir.path(), value), std::vector<std::string>{}) << value;
  }
  reopen();
  read = store->read_stream("contact-1", 0, Direction::forward, 10);
  EXPECT_NE(read->at(0).data.find(R"("email":)" + marker), std::string::npos);
  kept = store->read_stream("contact-2", 0, Direction::forward, 10);
  EXPECT_NE(kept->at(0).data.find("keep.me@flow.example"), std::string::npos);
  EXPECT_TRUE(store->verify().ok);
}

TEST_F(SealingFixture, TheDestroyedKeyLeavesTheKeyStoreFiles) {
  ASSERT_TRUE(store->append("contact-1", ExpectedVersion::no_stream(), {created("k@x.io")}));
  // The key's bytes are only reachable through the key store; read them from its files by
  // opening the sealed value with every 32-byte window of every key-store file.
  std::string sealed = stored_data(1);
  auto at = sealed.find(sealing::kPrefix);
  ASSERT_NE(at, std::string::npos);
  std::string token = sealed.substr(at, sealed.find('"', at) - at);
  std::string aad = sealing::associated_data("contact-1", "profile.first_name");
  auto key_in_files = [&] {
    std::size_t found = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path() / "keys")) {
      if (!entry.is_regular_file())
        continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      for (std::size_t i = 0; i + 33 <= bytes.size(); ++i) {
        if (bytes[i] != 'K')
          continue;
        DataKey k;
        std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                  bytes.begin() + static_cast<std::ptrdiff_t>(i) + 33,
                  reinterpret_cast<char*>(k.data()));
        if (sealing::open_value(k, aad, token))
          ++found;
      }
    }
    return found;
  };
  EXPECT_GT(key_in_files(), 0u) << "the check must be able to find the key";
  ASSERT_TRUE(store->forget_subject("contact-1"));
  EXPECT_EQ(key_in_files(), 0u);
}

TEST_F(SealingFixture, AMissingKeyReadsAsErasedAndUnsealedValuesAreCounted) {
  ASSERT_TRUE(store->append("contact-1", ExpectedVersion::no_stream(), {created("m@x.io")}));
  // The same log with another (empty) key store: nothing opens, nothing fails.
  keys_path = (dir.path() / "other-keys").string();
  reopen();
  auto read = store->read_stream("contact-1", 0, Direction::forward, 10);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->at(0).data.find("m@x.io"), std::string::npos);
  EXPECT_NE(read->at(0).data.find(std::string(kErasedMarker)), std::string::npos);
  // Written by a store without a policy: stored in the clear, and said so.
  reopen(false);
  ASSERT_TRUE(store->append("contact-9", ExpectedVersion::no_stream(), {created("old@x.io")}));
  reopen();
  EXPECT_EQ(*store->unsealed_personal_values("contact-9"), 2u);  // first_name and email
  EXPECT_EQ(*store->unsealed_personal_values("contact-1"), 0u);
  read = store->read_stream("contact-9", 0, Direction::forward, 10);
  EXPECT_NE(read->at(0).data.find("old@x.io"), std::string::npos);
}
