// Audit exports: the file holds exactly the selected events, and the manifest's figures (count,
// positions, last chain hash, SHA-256 of the file) match what an auditor recomputes.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>
#include <sstream>

#include "eventstore/cloudevents.hpp"
#include "projections/customer_history.hpp"
#include "projections/export.hpp"
#include "projections/fixture.hpp"

using namespace eventcrm;
using namespace std::chrono_literals;

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string sha256_hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_sha256(), nullptr);
  std::string out;
  char buf[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    out += buf;
  }
  return out;
}

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

using ExportTest = eventcrm::testing::ProjectionFixture;

TEST_F(ExportTest, RangeExportAsNdjsonWithAVerifiableManifest) {
  append_many(50);
  projections::ExportOptions o;
  o.from = 11;
  o.to = 30;
  o.out_dir = (dir.path() / "out").string();
  auto m = projections::export_events(*store, nullptr, o);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->count, 20u);
  EXPECT_EQ(m->first_position, 11u);
  EXPECT_EQ(m->last_position, 30u);
  EXPECT_EQ(m->last_hash, store::to_hex(store->get_at(30)->hash));
  EXPECT_EQ(m->previous_hash, store::to_hex(store->get_at(10)->hash));
  const std::string file = slurp(dir.path() / "out" / "events.ndjson");
  EXPECT_EQ(lines(file), 20u);
  EXPECT_EQ(m->file_sha256, sha256_hex(file));
  std::string first;
  store::append_cloudevent_json(first, *store->get_at(11));
  EXPECT_EQ(file.substr(0, file.find('\n')), first);
  const std::string manifest = slurp(dir.path() / "out" / "manifest.json");
  EXPECT_EQ(manifest, m->json);
  EXPECT_NE(manifest.find("\"file_sha256\": \"" + sha256_hex(file) + "\""), std::string::npos);
  EXPECT_NE(manifest.find("\"count\": 20"), std::string::npos);
}

TEST_F(ExportTest, AccountExportAsCsvQuotesFields) {
  append("account-A", "account.created.v1", R"({"name":"Acme, \"the\" best"})", "user-1",
         "new customer");
  append("account-B", "account.created.v1", R"({"name":"Other"})");
  append("contact-C", "contact.created.v1", R"({"account_id":"A"})");
  open_runtime();
  ASSERT_TRUE(runtime->add(projections::make_customer_history()));
  runtime->start();
  ASSERT_TRUE(runtime->wait_until_applied({}, store->head(), 5s));
  projections::ExportOptions o;
  o.account_id = "A";
  o.format = projections::ExportFormat::csv;
  o.out_dir = (dir.path() / "csv").string();
  auto m = projections::export_events(*store, runtime.get(), o);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->count, 2u);
  EXPECT_EQ(m->first_position, 1u);
  EXPECT_EQ(m->last_position, 3u);
  const std::string file = slurp(dir.path() / "csv" / "events.csv");
  EXPECT_EQ(m->file_sha256, sha256_hex(file));
  EXPECT_EQ(file.substr(0, file.find('\n') + 1), "position,time,type,stream,actor,reason,data\r\n");
  EXPECT_NE(file.find(R"(,user-1,new customer,"{""name"":""Acme, \""the\"" best""}")"),
            std::string::npos)
      << file;
  EXPECT_EQ(lines(file), 3u);
}

}  // namespace
