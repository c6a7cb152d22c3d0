// Erasure (GDPR) through the real binaries: a contact, a lead and an account that is a person,
// with distinctive personal values, go through the server with the Kafka relay on (librdkafka's
// mock cluster), into read models, the customer history and an export; after `forget`, no
// personal value of theirs is found in any file under the data directory (raw bytes: WAL, SST,
// key store), in the read models, the history, the log's HTTP reads, an offline export or the
// Kafka topic; the hash chain verifies, another contact's data is intact, and a rebuild of the
// read models and a restart keep it all.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>

#include "api/harness.hpp"

namespace eventcrm::test {
namespace {

namespace fs = std::filesystem;

// The forgotten subjects' values, as sent.
const std::vector<std::string> kForgotten = {"Zephyrine",
                                             "Quillfeather",
                                             "zephyrine.q@erasure.example",
                                             "+84 912 345 678",
                                             "zephyrine.new@erasure.example",
                                             "Ottoline",
                                             "Brackenridge",
                                             "ottoline.b@erasure.example",
                                             "+84 987 654 321",
                                             "solo.trader@erasure.example",
                                             "+84 901 222 333",
                                             "0312345678",
                                             "12 Hidden Lane, Hanoi"};
// Another contact's, which must survive.
const std::string kKept = "keep.me@erasure.example";

std::string id_of(const std::string& body) {
  std::smatch m;
  if (std::regex_search(body, m, std::regex(R"re("id":"([^"]+)")re")))
    return m[1];
  return {};
}

std::string field_of(const std::string& body, const std::string& name) {
  std::smatch m;
  if (std::regex_search(body, m, std::regex("\"" + name + R"re(":("[^"]*"|[0-9]+|null))re")))
    return m[1];
  return {};
}

std::vector<std::string> found_in(const std::string& text) {
  std::vector<std::string> hits;
  for (const auto& v : kForgotten) {
    if (text.find(v) != std::string::npos)
      hits.push_back(v);
  }
  return hits;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every file under `dir` holding one of the forgotten values as raw bytes.
std::vector<std::string> files_with_forgotten_values(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file())
      continue;
    for (const auto& v : found_in(read_file(entry.path())))
      out.push_back(entry.path().filename().string() + ": " + v);
  }
  return out;
}

// `eventcrm dev-broker` as a child process: the mock cluster on 127.0.0.1.
class DevBroker {
 public:
  bool start() {
    int out[2];
    if (pipe(out) != 0)
      return false;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      execl(EVENTCRM_BIN, EVENTCRM_BIN, "dev-broker", "--brokers", "1", nullptr);
      _exit(127);
    }
    close(out[1]);
    fd_ = out[0];
    std::string buf;
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0)
        continue;
      char c[256];
      ssize_t n = read(fd_, c, sizeof c);
      if (n <= 0)
        return false;
      buf.append(c, static_cast<std::size_t>(n));
      if (auto nl = buf.find('\n'); nl != std::string::npos) {
        address_ = buf.substr(0, nl);
        return true;
      }
    }
    return false;
  }
  ~DevBroker() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
    }
    if (fd_ >= 0)
      close(fd_);
  }
  const std::string& address() const { return address_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string address_;
};

struct TopicContents {
  std::string bytes;                 // every key, value and header value, concatenated
  std::multiset<std::string> types;  // ce_type of each message
};

// Everything the topic holds, from the beginning of each partition to its high watermark.
TopicContents read_topic(const std::string& brokers, const std::string& topic) {
  TopicContents out;
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "erasure-test-reader", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) {
    ADD_FAILURE() << err;
    return out;
  }
  rd_kafka_poll_set_consumer(rk);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  std::map<int, std::int64_t> high;
  if (rd_kafka_metadata(rk, 0, t, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
      std::int64_t lo = 0, hi = 0;
      if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 10000) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          hi > lo)
        high[p] = hi;
    }
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(t);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(8);
  for (const auto& [p, hi] : high)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!high.empty() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr)
      continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->key != nullptr)
        out.bytes.append(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr)
        out.bytes.append(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* v = nullptr;
        size_t n = 0;
        for (size_t i = 0;
             rd_kafka_header_get_all(hdrs, i, &name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
          std::string value(static_cast<const char*>(v), n);
          out.bytes += value;
          if (std::string_view(name) == "ce_type")
            out.types.insert(value);
        }
      }
      if (auto it = high.find(m->partition); it != high.end() && m->offset + 1 >= it->second)
        high.erase(it);
    }
    rd_kafka_message_destroy(m);
  }
  EXPECT_TRUE(high.empty()) << "partitions not read to their end in time";
  rd_kafka_destroy(rk);
  return out;
}

class Erasure : public ::testing::Test {
 protected:
  fs::path dir = temp_dir("erasure");
  ServerProcess server;
  void TearDown() override {
    server.kill_now();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = {}) {
    auto r = http(server.port(), method, target, body);
    if (!r) {
      ADD_FAILURE() << method << " " << target << ": no response";
      return {};
    }
    return *r;
  }
  std::string create(const std::string& collection, const std::string& body) {
    auto r = call("POST", "/v1/" + collection, body);
    EXPECT_EQ(r.status, 201) << collection << ": " << r.body;
    return id_of(r.body);
  }
};

TEST_F(Erasure, ForgottenSubjectsLeaveNoPersonalValueInFilesReadModelsHistoryExportsOrKafka) {
  DevBroker broker;
  ASSERT_TRUE(broker.start());
  ASSERT_TRUE(server.start(dir, {"--kafka-brokers", broker.address()}));

  std::string company = create("accounts", R"({"name":"Erasure Test Co"})");
  std::string person =
      create("accounts", R"({"name":"Solo Trader","email":"solo.trader@erasure.example",)"
                         R"("phone":"+84 901 222 333","tax_id":"0312345678",)"
                         R"("address":"12 Hidden Lane, Hanoi"})");
  std::string contact = create("contacts", R"({"account_id":")" + company +
                                               R"(","first_name":"Zephyrine",)"
                                               R"("last_name":"Quillfeather",)"
                                               R"("email":"zephyrine.q@erasure.example",)"
                                               R"("phone":"+84 912 345 678","title":"CFO"})");
  auto patched =
      call("PATCH", "/v1/contacts/" + contact, R"({"email":"zephyrine.new@erasure.example"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  std::string kept = create("contacts", R"({"account_id":")" + company +
                                            R"(","first_name":"Keepsake","last_name":"Person",)"
                                            R"("email":"keep.me@erasure.example"})");
  std::string lead = create("leads", R"({"company":"Lead Co","first_name":"Ottoline",)"
                                     R"("last_name":"Brackenridge",)"
                                     R"("email":"ottoline.b@erasure.example",)"
                                     R"("phone":"+84 987 654 321"})");
  ASSERT_FALSE(company.empty() || person.empty() || contact.empty() || kept.empty() ||
               lead.empty());
  auto before = call("GET", "/v1/events?limit=1");
  std::string head = before.header("x-position");

  // Served in the clear while the keys exist.
  auto shown = call("GET", "/v1/contacts/" + contact + "?min_position=" + head);
  EXPECT_NE(shown.body.find("zephyrine.new@erasure.example"), std::string::npos) << shown.body;
  auto history = call("GET", "/v1/customers/" + company + "/history?min_position=" + head);
  EXPECT_NE(history.body.find("Quillfeather"), std::string::npos) << history.body;
  // The time of the last event before the erasure, for as_of reads of the records as they were.
  std::string log_before = call("GET", "/v1/events?limit=1000").body;
  std::string when;
  std::regex time_re(R"re("time":"([^"]+)")re");
  for (std::sregex_iterator it(log_before.begin(), log_before.end(), time_re), end; it != end; ++it)
    when = (*it)[1];
  ASSERT_FALSE(when.empty());

  // The scan finds them while they exist (in the read models' files: the log holds them sealed).
  EXPECT_FALSE(files_with_forgotten_values(dir).empty());

  // Forget: 200, and the same answer again.
  for (const auto& [collection, id] : std::vector<std::pair<std::string, std::string>>{
           {"contacts", contact}, {"leads", lead}, {"accounts", person}}) {
    auto first = call("POST", "/v1/" + collection + "/" + id + "/forget", "{}");
    ASSERT_EQ(first.status, 200) << collection << ": " << first.body;
    auto second = call("POST", "/v1/" + collection + "/" + id + "/forget", "{}");
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(field_of(first.body, "version"), field_of(second.body, "version"));
    EXPECT_EQ(field_of(first.body, "position"), field_of(second.body, "position"));
    auto refused = collection == "leads" ? call("POST", "/v1/leads/" + id + "/qualify", "{}")
                                         : call("PATCH", "/v1/" + collection + "/" + id,
                                                R"({"phone":"+84 900 000 001"})");
    EXPECT_EQ(refused.status, 409) << collection << ": " << refused.body;
  }
  auto unknown = call("POST", "/v1/contacts/no-such-contact/forget", "{}");
  EXPECT_EQ(unknown.status, 404) << unknown.body;

  // Every HTTP read: records, lists, searches, history (every format), the log, as_of.
  std::string reads;
  for (const std::string& target : std::vector<std::string>{
           "/v1/contacts/" + contact, "/v1/leads/" + lead, "/v1/accounts/" + person,
           "/v1/contacts?limit=200", "/v1/leads?limit=200", "/v1/accounts?limit=200",
           "/v1/contacts?q=Zephyrine", "/v1/contacts?q=zephyrine.new", "/v1/leads?q=Ottoline",
           "/v1/accounts/" + company + "/360", "/v1/customers/" + company + "/history",
           "/v1/customers/" + company + "/history?format=csv",
           "/v1/customers/" + company + "/history?format=ndjson",
           "/v1/customers/" + person + "/history", "/v1/events?limit=1000",
           "/v1/streams/contact-" + contact, "/v1/streams/lead-" + lead,
           "/v1/contacts/" + contact + "?as_of=" + when, "/v1/leads/" + lead + "?as_of=" + when}) {
    auto r = call("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    EXPECT_EQ(found_in(r.body), std::vector<std::string>{}) << target << ": " << r.body;
    reads += r.body;
  }
  EXPECT_NE(reads.find("[erased]"), std::string::npos);
  auto kept_doc = call("GET", "/v1/contacts/" + kept);
  EXPECT_NE(kept_doc.body.find(kKept), std::string::npos) << kept_doc.body;
  EXPECT_NE(call("GET", "/v1/customers/" + company + "/history").body.find(kKept),
            std::string::npos);
  auto verified = call("GET", "/v1/audit/verify");
  EXPECT_NE(verified.body.find("\"ok\":true"), std::string::npos) << verified.body;

  // The topic: the relay published every event, forgotten ones included, never in the clear.
  TopicContents topic;
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(500ms)) {
    topic = read_topic(broker.address(), "crm.events");
    if (topic.types.count("contact.forgotten.v1") && topic.types.count("lead.forgotten.v1") &&
        topic.types.count("account.forgotten.v1"))
      break;
  }
  EXPECT_EQ(topic.types.count("contact.forgotten.v1"), 1u);
  EXPECT_EQ(topic.types.count("lead.forgotten.v1"), 1u);
  EXPECT_EQ(topic.types.count("account.forgotten.v1"), 1u);
  EXPECT_EQ(topic.types.count("contact.created.v1"), 2u);
  EXPECT_EQ(found_in(topic.bytes), std::vector<std::string>{});

  // Every file under the data directory, raw bytes, with the server stopped.
  ASSERT_EQ(server.stop(), 0);
  EXPECT_EQ(files_with_forgotten_values(dir), std::vector<std::string>{});

  // An offline export of the company's history.
  fs::path out = dir.parent_path() / (dir.filename().string() + "-export");
  std::string cmd = std::string(EVENTCRM_BIN) + " export --data-dir " + dir.string() +
                    " --account " + company + " --format ndjson --out " + out.string() +
                    " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::string exported;
  for (const auto& entry : fs::recursive_directory_iterator(out))
    exported += read_file(entry.path());
  EXPECT_EQ(found_in(exported), std::vector<std::string>{});
  EXPECT_NE(exported.find(kKept), std::string::npos);
  std::error_code ec;
  fs::remove_all(out, ec);

  // A rebuild of every read model from the log brings nothing back.
  std::string rebuild =
      std::string(EVENTCRM_BIN) + " rebuild --data-dir " + dir.string() + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(rebuild.c_str()), 0) << rebuild;
  EXPECT_EQ(files_with_forgotten_values(dir), std::vector<std::string>{});

  // A restart (without Kafka) serves the same.
  ASSERT_TRUE(server.start(dir));
  auto again = call("GET", "/v1/contacts/" + contact);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(found_in(again.body), std::vector<std::string>{}) << again.body;
  EXPECT_NE(again.body.find("[erased]"), std::string::npos) << again.body;
  EXPECT_NE(call("GET", "/v1/contacts/" + kept).body.find(kKept), std::string::npos);
  EXPECT_EQ(found_in(call("GET", "/v1/events?limit=1000").body), std::vector<std::string>{});
  EXPECT_NE(call("GET", "/v1/audit/verify").body.find("\"ok\":true"), std::string::npos);
  ASSERT_EQ(server.stop(), 0);
  EXPECT_EQ(files_with_forgotten_values(dir), std::vector<std::string>{});
}

}  // namespace
}  // namespace eventcrm::test
