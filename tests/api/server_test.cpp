// Integration tests against the real `eventcrm serve` binary on an ephemeral loopback port.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>

#include "harness.hpp"

namespace eventcrm::test {
namespace {

const std::string kEvent = R"({"events":[{"type":"ledger.opened.v1","data":{"n":1}}]})";

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_dir("server"); }
  void TearDown() override {
    server_.kill_now();
    std::filesystem::remove_all(dir_);
  }
  void start(std::vector<std::string> extra = {}) {
    ASSERT_TRUE(server_.start(dir_, std::move(extra))) << "server did not start";
  }
  // SIGTERM while `writers` run (after they had 700 ms), then waits for the server to exit and
  // for the writers to stop; returns the exit code.
  int terminate_under_load(std::vector<std::thread>& writers, std::atomic<bool>& stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    server_.signal(SIGTERM);
    int rc = server_.wait_exit(std::chrono::seconds(20));
    stop = true;
    for (auto& t : writers)
      t.join();
    return rc;
  }
  // Restarts the server and expects GET `path_prefix` + id to answer 200 for each id.
  void expect_after_restart(const std::set<std::string>& ids, const std::string& path_prefix) {
    start();
    for (const std::string& id : ids) {
      auto r = http(server_.port(), "GET", path_prefix + id);
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << id;
    }
  }
  std::filesystem::path dir_;
  ServerProcess server_;
};

std::string field(const std::string& body, const std::string& key) {
  auto p = body.find("\"" + key + "\":");
  if (p == std::string::npos)
    return {};
  p += key.size() + 3;
  auto e = body.find_first_of(",}", p);
  std::string v = body.substr(p, e - p);
  if (!v.empty() && v.front() == '"')
    v = v.substr(1, v.size() - 2);
  return v;
}

TEST_F(ServerTest, AppendsAndReadsOverHttp) {
  start();
  auto r =
      http(server_.port(), "POST", "/v1/streams/ledger-1", kEvent, {{"X-Request-Id", "abc-123"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(r->header("x-request-id"), "abc-123");
  EXPECT_EQ(r->header("etag"), "\"0\"");
  std::string id = r->body.substr(r->body.find("event_ids\":[\"") + 13, 36);

  r = http(server_.port(), "GET", "/v1/streams/ledger-1?limit=10");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("x-position"), std::to_string(1 + kBootstrapEvents));
  EXPECT_FALSE(r->header("x-request-id").empty());
  auto etag = r->header("etag");
  r = http(server_.port(), "GET", "/v1/streams/ledger-1?limit=10", {}, {{"If-None-Match", etag}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);

  r = http(server_.port(), "GET", "/v1/events/" + id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(field(r->body, "id"), id);

  r = http(server_.port(), "HEAD", "/v1/events?after=0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());

  r = http(server_.port(), "GET", "/openapi.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  {
    std::ifstream in(openapi_document(), std::ios::binary);
    std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(r->body, file) << "GET /openapi.json must serve the merged api/openapi*.json";
  }

  r = http(server_.port(), "GET", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_NE(
      r->body.find(
          "eventcrm_http_requests_total{route=\"POST /v1/streams/{stream}\",status=\"201\"} 1"),
      std::string::npos);
  EXPECT_NE(r->body.find("eventcrm_store_log_reads_total{source=\"tail\"}"), std::string::npos);
  EXPECT_NE(r->body.find("eventcrm_store_tail_bytes "), std::string::npos);
  EXPECT_NE(r->body.find("\neventcrm_projection_recovery_dropped_commits 0\n"), std::string::npos);
  EXPECT_EQ(server_.stop(), 0);
}

TEST_F(ServerTest, EveryErrorIsProblemJson) {
  start();
  struct Case {
    std::string raw;
    int status;
  };
  std::vector<Case> cases = {
      {make_request("GET", "/nope"), 404},
      {make_request("PUT", "/v1/streams/ledger-1", "{}"), 405},
      {make_request("GET", "/healthz", {}, {{"Accept", "image/png"}}), 406},
      {make_request("POST", "/v1/streams/ledger-1", "x", {{"Content-Type", "text/plain"}}), 415},
      {make_request("POST", "/v1/streams/ledger-1", "{\"events\":"), 400},
      {make_request("POST", "/v1/streams/ledger-1", "{\"events\":[1]}"), 422},
      {make_request("GET", "/v1/events?limit=abc"), 400},
      {make_request("GET", "/v1/streams/ledger-77"), 404},
      {"GARBAGE\r\n\r\n", 400},
  };
  for (const Case& c : cases) {
    Connection conn(server_.port());
    ASSERT_TRUE(conn.send(c.raw));
    auto r = conn.read_response();
    ASSERT_TRUE(r) << c.raw;
    EXPECT_EQ(r->status, c.status) << c.raw << "\n" << r->body;
    EXPECT_EQ(r->header("content-type"), "application/problem+json") << c.raw;
    EXPECT_EQ(field(r->body, "status"), std::to_string(c.status));
    if (c.status == 405) {
      EXPECT_EQ(r->header("allow"), "GET, HEAD, POST");
    }
  }
}

TEST_F(ServerTest, LimitsAnswer413And431AndCloseSlowClients) {
  start({"--max-body-bytes", "1024", "--max-header-bytes", "2048", "--request-timeout-ms", "500"});
  auto r = http(
      server_.port(), "POST", "/v1/streams/ledger-1",
      R"({"events":[{"type":"ledger.opened.v1","data":{"x":")" + std::string(2000, 'a') + "\"}}]}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->header("content-type"), "application/problem+json");

  r = http(server_.port(), "GET", "/healthz", {}, {{"X-Big", std::string(4000, 'b')}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);

  Connection slow(server_.port());
  ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20 && !slow.closed_within(100ms); ++i)
    slow.send("X-A: b\r\n");
  EXPECT_TRUE(slow.closed_within(2s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  r = http(server_.port(), "GET", "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, PipelinedResponsesComeInRequestOrder) {
  start();
  Connection c(server_.port());
  // More than fit in the connection's queue at once (limits.max_pipelined): reading pauses
  // and resumes, and the queue's slots are reused as it wraps around.
  constexpr int kRequests = 40;
  std::string batch;
  for (int i = 0; i < kRequests; ++i) {
    std::vector<std::pair<std::string, std::string>> h = {
        {"X-Request-Id", "req-" + std::to_string(i)}};
    if (i % 2 == 0)
      batch += make_request("POST", "/v1/streams/ledger-" + std::to_string(i), kEvent, h);
    else
      batch += make_request("GET", "/healthz", {}, h);
  }
  ASSERT_TRUE(c.send(batch));
  for (int i = 0; i < kRequests; ++i) {
    auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->header("x-request-id"), "req-" + std::to_string(i));
    EXPECT_EQ(r->status, i % 2 == 0 ? 201 : 200);
  }
}

// Reads SSE events (id lines) until `count` are seen or the timeout passes.
std::vector<std::string> read_sse_ids(Connection& c, std::size_t count,
                                      std::chrono::milliseconds timeout) {
  std::vector<std::string> ids;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t scanned = 0;
  while (ids.size() < count && std::chrono::steady_clock::now() < deadline) {
    bool eof = false;
    c.fill(100ms, eof);
    if (eof)
      break;
    std::string& b = c.buffer();
    std::size_t p;
    while ((p = b.find("\nid: ", scanned)) != std::string::npos) {
      auto e = b.find('\n', p + 1);
      if (e == std::string::npos)
        break;
      ids.push_back(b.substr(p + 5, e - p - 5));
      scanned = e;
    }
  }
  return ids;
}

TEST_F(ServerTest, LiveEventsResumeWithLastEventIdAcrossARestart) {
  const int B = kBootstrapEvents;
  auto P = [=](int n) { return std::to_string(B + n); };
  start();
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(http(server_.port(), "POST", "/v1/streams/ledger-1", kEvent)->status, 201);
  {
    Connection c(server_.port());
    // After the administrator's bootstrap events (positions are the log's own).
    ASSERT_TRUE(c.send(make_request("GET", "/v1/events/live?after=" + std::to_string(B), {},
                                    {{"Accept", "text/event-stream"}})));
    auto ids = read_sse_ids(c, 3, 5s);
    ASSERT_EQ(ids, (std::vector<std::string>{P(1), P(2), P(3)}));
    EXPECT_NE(c.buffer().find("Content-Type: text/event-stream"), std::string::npos);
    // A live append arrives on the open stream.
    ASSERT_EQ(http(server_.port(), "POST", "/v1/streams/ledger-2", kEvent)->status, 201);
    ids = read_sse_ids(c, 4, 5s);
    ASSERT_EQ(ids.size(), 4u);
    EXPECT_EQ(ids[3], P(4));
  }
  EXPECT_EQ(server_.stop(), 0);
  start();
  ASSERT_EQ(http(server_.port(), "POST", "/v1/streams/ledger-3", kEvent)->status, 201);
  Connection c(server_.port());
  ASSERT_TRUE(c.send(make_request("GET", "/v1/events/live", {}, {{"Last-Event-ID", P(2)}})));
  auto ids = read_sse_ids(c, 3, 5s);
  EXPECT_EQ(ids, (std::vector<std::string>{P(3), P(4), P(5)}));
}

TEST_F(ServerTest, SseSendsHeartbeats) {
  start({"--sse-heartbeat-ms", "100"});
  Connection c(server_.port());
  ASSERT_TRUE(c.send(make_request("GET", "/v1/events/live")));
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (c.buffer().find(": heartbeat") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    bool eof = false;
    c.fill(100ms, eof);
    if (eof)
      break;
  }
  EXPECT_NE(c.buffer().find(": heartbeat"), std::string::npos);
}

TEST_F(ServerTest, SlowSseClientsAreDropped) {
  start({"--write-timeout-ms", "300"});
  // A client with a tiny receive window that never reads.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(server_.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_TRUE(send_all(fd, make_request("GET", "/v1/events/live")));
  std::string big = R"({"events":[{"type":"ledger.opened.v1","data":{"x":")" +
                    std::string(200'000, 'a') + "\"}}]}";
  bool dropped = false;
  for (int i = 0; i < 100 && !dropped; ++i) {
    auto r = http(server_.port(), "POST", "/v1/streams/ledger-1", big);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201);
    if (i % 10 == 9) {
      std::this_thread::sleep_for(400ms);
      auto m = http(server_.port(), "GET", "/metrics");
      ASSERT_TRUE(m);
      dropped = m->body.find("eventcrm_sse_dropped_total 0") == std::string::npos;
    }
  }
  close(fd);
  EXPECT_TRUE(dropped) << "the slow SSE client was not dropped";
  auto m = http(server_.port(), "GET", "/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("eventcrm_sse_subscribers 0"), std::string::npos);
}

TEST_F(ServerTest, GracefulShutdownKeepsEveryAcknowledgedAppend) {
  start({"--durability", "sync"});
  int port = server_.port();
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 2000 && !stop; ++i) {
        auto r = http(port, "POST", "/v1/streams/ledger-w" + std::to_string(w), kEvent);
        if (!r)
          break;
        if (r->status != 201)
          continue;
        std::string id = r->body.substr(r->body.find("event_ids\":[\"") + 13, 36);
        std::lock_guard lock(mu);
        acked.insert(id);
      }
    });
  }
  EXPECT_EQ(terminate_under_load(writers, stop), 0);
  ASSERT_FALSE(acked.empty());
  expect_after_restart(acked, "/v1/events/");
}

// Commands are answered from the store's syncer, not from a thread waiting for it: a shutdown
// must still answer every one in flight, and each one answered 201 must be in the log after.
TEST_F(ServerTest, GracefulShutdownAnswersEveryCommandInFlight) {
  start({"--durability", "sync"});
  int port = server_.port();
  auto account = http(port, "POST", "/v1/accounts", R"({"name":"Drain Co"})");
  ASSERT_TRUE(account);
  ASSERT_EQ(account->status, 201) << account->body;
  const std::string account_id = field(account->body, "id");
  const std::string body =
      R"({"kind":"call","account_id":")" + account_id + R"(","subject":"follow-up"})";
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<int> bad{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 2000 && !stop; ++i) {
        auto r = http(port, "POST", "/v1/activities", body);
        if (!r)
          break;  // the server closed the connection: it is going away
        if (r->status == 201) {
          std::lock_guard lock(mu);
          acked.insert(field(r->body, "id"));
        } else if (r->status != 503) {  // draining: refused, not taken
          ++bad;
        }
      }
    });
  }
  EXPECT_EQ(terminate_under_load(writers, stop), 0);
  EXPECT_EQ(bad.load(), 0);
  ASSERT_FALSE(acked.empty());
  expect_after_restart(acked, "/v1/streams/activity-");
}

// Commands count among the appends in flight: past --max-inflight-appends they are refused with
// 429 and change nothing; the others are all taken.
TEST_F(ServerTest, CommandsPastTheInFlightLimitAreRefusedWith429) {
  start({"--durability", "sync", "--max-inflight-appends", "1"});
  int port = server_.port();
  auto account = http(port, "POST", "/v1/accounts", R"({"name":"Busy Co"})");
  ASSERT_TRUE(account);
  ASSERT_EQ(account->status, 201) << account->body;
  const std::string body =
      R"({"kind":"note","account_id":")" + field(account->body, "id") + R"(","subject":"busy"})";
  std::atomic<int> created{0}, refused{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 40; ++i) {
        auto r = http(port, "POST", "/v1/activities", body);
        if (!r)
          ++other;
        else if (r->status == 201)
          ++created;
        else if (r->status == 429 && r->header("retry-after") != "")
          ++refused;
        else
          ++other;
      }
    });
  }
  for (auto& t : clients)
    t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(refused.load(), 0);  // 16 clients against one slot, each waiting for an fsync
  EXPECT_GT(created.load(), 0);
  // Exactly the ones answered 201 are in the log: the refused wrote nothing.
  auto m = http(port, "GET", "/v1/events?after=0&type=activity.logged.v1&limit=1000");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  std::size_t logged = 0;
  for (std::size_t p = m->body.find("activity.logged.v1"); p != std::string::npos;
       p = m->body.find("activity.logged.v1", p + 1))
    ++logged;
  EXPECT_EQ(logged, static_cast<std::size_t>(created.load()));
}

TEST_F(ServerTest, SlowlorisConnectionsAreClosedWhileOthersAreServed) {
  start({"--request-timeout-ms", "1000", "--idle-timeout-ms", "1000"});
  std::vector<std::unique_ptr<Connection>> slow;
  for (int i = 0; i < 200; ++i) {
    auto c = std::make_unique<Connection>(server_.port());
    ASSERT_TRUE(c->ok());
    c->send("GET /healthz HTTP/1.1\r\n");
    slow.push_back(std::move(c));
  }
  auto t0 = std::chrono::steady_clock::now();
  // Trickle a byte per connection now and then; normal requests keep being served.
  for (int round = 0; round < 4; ++round) {
    for (auto& c : slow)
      c->send("X");
    auto r = http(server_.port(), "GET", "/healthz");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    std::this_thread::sleep_for(200ms);
  }
  std::size_t closed = 0;
  for (auto& c : slow)
    if (c->closed_within(std::chrono::duration_cast<std::chrono::milliseconds>(std::max(
            t0 + 2500ms - std::chrono::steady_clock::now(), std::chrono::nanoseconds(1ms)))))
      ++closed;
  EXPECT_EQ(closed, slow.size());
}

TEST_F(ServerTest, MetricsPassPromtool) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "no promtool";
  start();
  ASSERT_EQ(http(server_.port(), "POST", "/v1/streams/ledger-1", kEvent)->status, 201);
  ASSERT_EQ(http(server_.port(), "GET", "/nope")->status, 404);
  auto r = http(server_.port(), "GET", "/metrics");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("eventcrm_store_group_commit_events_bucket"), std::string::npos);
  auto file = dir_ / "metrics.txt";
  {
    std::ofstream out(file);
    out << r->body;
  }
  std::string cmd =
      "promtool check metrics < " + file.string() + " > " + (dir_ / "lint.txt").string() + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << r->body;
}

TEST_F(ServerTest, ConnectionLimitAnswers503) {
  start({"--max-connections", "2"});
  Connection a(server_.port()), b(server_.port());
  ASSERT_TRUE(a.send(make_request("GET", "/healthz")));
  ASSERT_TRUE(a.read_response());
  ASSERT_TRUE(b.send(make_request("GET", "/healthz")));
  ASSERT_TRUE(b.read_response());
  Connection c(server_.port());
  auto r = c.read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("content-type"), "application/problem+json");
}

TEST_F(ServerTest, OptionsFromConfigFileEnvironmentAndFlagsInThatPrecedence) {
  auto cfg = dir_ / "serve.conf";
  {
    std::ofstream out(cfg);
    out << "# limits\nmax_body_bytes = 10\nmax-header-bytes = 100000\n";
  }
  ::setenv("EVENTCRM_MAX_HEADER_BYTES", "3000", 1);
  start({"--config", cfg.string(), "--max-body-bytes", "100000"});
  ::unsetenv("EVENTCRM_MAX_HEADER_BYTES");
  // The flag beats the config file's body limit; the environment beats its header limit.
  auto r = http(server_.port(), "POST", "/v1/streams/ledger-1", kEvent);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  r = http(server_.port(), "GET", "/healthz", {}, {{"X-Big", std::string(5000, 'b')}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
}

TEST_F(ServerTest, InvalidRequestIdsAreReplaced) {
  start();
  auto r = http(server_.port(), "GET", "/healthz", {}, {{"X-Request-Id", "bad id with spaces"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->header("x-request-id").empty());
  EXPECT_NE(r->header("x-request-id"), "bad id with spaces");
}

}  // namespace
}  // namespace eventcrm::test
