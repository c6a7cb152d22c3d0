// The request path without sockets: routing, negotiation, handlers and problem+json, on a
// real store in a temp dir.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "api/metrics.hpp"
#include "api/router.hpp"
#include "eventstore/store.hpp"
#include "harness.hpp"

namespace eventcrm::api {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("router");
    store::Options o;
    o.path = dir_.string();
    o.durability = store::Durability::relaxed;
    auto s = store::EventStore::open(o);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    std::vector<std::string> labels;
    for (auto& r : router_.routes())
      labels.emplace_back(r.pattern);
    metrics_ = std::make_unique<Metrics>(labels);
    ctx_.store = store_.get();
    ctx_.metrics = metrics_.get();
    ctx_.draining = &draining_;
    ctx_.inflight_appends = &inflight_;
    ctx_.sse_subscribers = &sse_;
  }
  void TearDown() override {
    store_->close();
    std::filesystem::remove_all(dir_);
  }

  Response call(Method m, std::string target, std::string body = {},
                std::vector<HeaderField> headers = {}) {
    target_ = std::move(target);
    body_ = std::move(body);
    headers_ = std::move(headers);
    Request req;
    req.method = m;
    req.target = target_;
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string_view::npos)
      req.query = req.target.substr(q + 1);
    req.body = body_;
    req.headers = headers_;
    return router_.handle(req, ctx_);
  }

  Response append(const std::string& stream, const std::string& body,
                  std::vector<HeaderField> extra = {}) {
    extra.emplace_back("Content-Type", "application/json");
    return call(Method::post, "/v1/streams/" + stream, body, std::move(extra));
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::EventStore> store_;
  Router router_ = make_router();
  std::unique_ptr<Metrics> metrics_;
  Context ctx_;
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> inflight_{0}, sse_{0};
  std::string target_, body_;
  std::vector<HeaderField> headers_;
};

const char* kOne = R"({"events":[{"type":"ledger.opened.v1","data":{"name":"Acme"}}]})";

TEST_F(RouterTest, MatchesLiteralRoutesBeforeParameters) {
  Request req;
  req.method = Method::get;
  req.path = "/v1/events/live";
  auto m = router_.match(req);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/events/live");
  req.path = "/v1/events/abc";
  m = router_.match(req);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/events/{id}");
  ASSERT_EQ(req.params.size(), 1u);
  EXPECT_EQ(req.params[0], "abc");
}

// Routes are looked up by their first segment (or v1/<collection>); routes whose key segment is
// a parameter stay candidates for every path, and the table's order still decides.
TEST(RouterIndex, ParameterKeyedRoutesAndTableOrderSurviveTheIndex) {
  auto route = [](Method m, std::string_view pattern) {
    Route x{};
    x.method = m;
    x.pattern = pattern;
    return x;
  };
  Router r({route(Method::get, "/v1/{any}/x"), route(Method::get, "/v1/things/{id}"),
            route(Method::post, "/v1/things/{id}"), route(Method::get, "/{root}"),
            route(Method::get, "/health"), route(Method::get, "/v1")});
  auto pattern_of = [&r](Method m, std::string_view path) {
    Request req;
    req.method = m;
    req.path = path;
    auto match = r.match(req);
    return match.route ? std::string(match.route->pattern) : "allow: " + match.allow;
  };
  EXPECT_EQ(pattern_of(Method::get, "/v1/things/x"), "/v1/{any}/x");  // first in the table
  EXPECT_EQ(pattern_of(Method::get, "/v1/things/7"), "/v1/things/{id}");
  EXPECT_EQ(pattern_of(Method::post, "/v1/things/7"), "/v1/things/{id}");
  EXPECT_EQ(pattern_of(Method::get, "/v1/others/x"), "/v1/{any}/x");  // no bucket of its own
  EXPECT_EQ(pattern_of(Method::get, "/health"), "/{root}");           // earlier in the table
  EXPECT_EQ(pattern_of(Method::get, "/v1"), "/{root}");
  EXPECT_EQ(pattern_of(Method::delete_, "/v1/things/7"), "allow: GET, HEAD, POST");
  EXPECT_EQ(pattern_of(Method::get, "/v1/things/7/y"), "allow: ");
  EXPECT_EQ(pattern_of(Method::get, "/"), "allow: ");
}

TEST_F(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Response r = call(Method::get, "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/problem+json");
  r = call(Method::delete_, "/v1/streams/ledger-1");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET, HEAD, POST");
}

TEST_F(RouterTest, NegotiatesMediaTypes) {
  EXPECT_EQ(call(Method::get, "/healthz", {}, {{"Accept", "text/html"}}).status, 406);
  EXPECT_EQ(call(Method::get, "/healthz", {}, {{"Accept", "text/html, */*;q=0.1"}}).status, 200);
  EXPECT_EQ(append("ledger-1", kOne, {{"Content-Type", "text/plain"}}).status, 415);
}

TEST_F(RouterTest, AppendsThenReadsBack) {
  Response r = append("ledger-1", kOne, {{"X-Reason", "import"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("ETag"), "\"0\"");
  EXPECT_NE(r.body.find("\"position\":1"), std::string::npos);

  r = call(Method::get, "/v1/streams/ledger-1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"reason\":\"import\""), std::string::npos);
  EXPECT_NE(r.body.find("\"next_cursor\":null"), std::string::npos);
  EXPECT_EQ(r.header("X-Position"), "1");
  std::string etag(r.header("ETag"));
  ASSERT_FALSE(etag.empty());
  r = call(Method::get, "/v1/streams/ledger-1", {}, {{"If-None-Match", etag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());

  r = call(Method::get, "/v1/events?after=0&limit=10&type=ledger.opened.v1");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"items\":[{"), std::string::npos);
}

TEST_F(RouterTest, StaleIfMatchIs409WithCurrentVersion) {
  ASSERT_EQ(append("ledger-2", kOne).status, 201);
  Response r = append("ledger-2", kOne, {{"If-Match", "\"5\""}});
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("\"current_version\":0"), std::string::npos) << r.body;
  r = append("ledger-2", kOne, {{"If-Match", "\"0\""}});
  EXPECT_EQ(r.status, 201);
  r = append(
      "ledger-3",
      R"({"events":[{"type":"ledger.opened.v1","data":{}}],"expected_version":"no_stream"})");
  EXPECT_EQ(r.status, 201);
  r = append(
      "ledger-3",
      R"({"events":[{"type":"ledger.opened.v1","data":{}}],"expected_version":"no_stream"})");
  EXPECT_EQ(r.status, 409);
}

TEST_F(RouterTest, BadBodiesAreProblemsNeverServerErrors) {
  struct Case {
    std::string body;
    int status;
  };
  std::vector<Case> cases = {
      {"{", 400},
      {"{\"events\":[]} trailing", 400},
      {R"({"events":[],"events":[]})", 400},
      {std::string("{\"events\":\"\xff\"}"), 400},
      {std::string(100, '[') + std::string(100, ']'), 400},
      {R"({"events":[{"type":"ledger.opened.v1","data":{"n":1e9999}}]})", 400},
      {"[]", 422},
      {R"({"events":{}})", 422},
      {R"({"events":[]})", 422},
      {R"({"events":[{"type":"ledger.opened.v1","data":{}}],"extra":1})", 422},
      {R"({"events":[{"type":"Bad Type","data":{}}]})", 422},
      {R"({"events":[{"type":"ledger.opened.v1","data":[1]}]})", 422},
      {R"({"events":[{"type":"ledger.opened.v1"}]})", 422},
      {R"({"events":[{"type":"ledger.opened.v1","data":{},"id":"nope"}]})", 422},
      {R"({"events":[{"type":"ledger.opened.v1","data":{},"metadata":{"actor":1}}]})", 422},
      {R"({"events":[{"type":"ledger.opened.v1","data":{}}],"expected_version":"x"})", 422},
  };
  for (const Case& c : cases) {
    Response r = append("ledger-9", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " → " << r.body;
    EXPECT_EQ(r.content_type, "application/problem+json");
    EXPECT_NE(r.body.find("\"type\":"), std::string::npos);
    EXPECT_NE(r.body.find("\"detail\":"), std::string::npos);
    if (c.status == 422) {
      EXPECT_NE(r.body.find("\"errors\":[{\"field\""), std::string::npos);
    }
  }
  Response r = append("Not A Stream", kOne);
  EXPECT_EQ(r.status, 422);
}

TEST_F(RouterTest, BadQueryParametersAre400) {
  EXPECT_EQ(call(Method::get, "/v1/events?limit=0").status, 400);
  EXPECT_EQ(call(Method::get, "/v1/events?limit=100000").status, 400);
  EXPECT_EQ(call(Method::get, "/v1/events?after=-1").status, 400);
  EXPECT_EQ(call(Method::get, "/v1/events?after=99999999999999999999999").status, 400);
  EXPECT_EQ(call(Method::get, "/v1/events?bogus=1").status, 400);
  EXPECT_EQ(call(Method::get, "/v1/events?after=%zz").status, 400);
  EXPECT_EQ(call(Method::get, "/v1/streams/ledger-1?direction=sideways").status, 400);
  EXPECT_EQ(call(Method::get, "/v1/streams/ledger-404").status, 404);
  EXPECT_EQ(call(Method::get, "/v1/events/not-a-uuid").status, 404);
}

TEST_F(RouterTest, PagesThroughAStreamBothWays) {
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(append("deal-1", kOne).status, 201);
  Response r = call(Method::get, "/v1/streams/deal-1?limit=2");
  EXPECT_NE(r.body.find("\"next_cursor\":\"2\""), std::string::npos) << r.body;
  r = call(Method::get, "/v1/streams/deal-1?limit=2&direction=backward");
  EXPECT_NE(r.body.find("\"streamversion\":4"), std::string::npos);
  EXPECT_NE(r.body.find("\"next_cursor\":\"2\""), std::string::npos) << r.body;
}

TEST_F(RouterTest, LiveStartsFromLastEventId) {
  Response r = call(Method::get, "/v1/events/live?after=3", {}, {{"Last-Event-ID", "7"}});
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.sse.has_value());
  EXPECT_EQ(r.sse->after, 7u);
  EXPECT_EQ(call(Method::get, "/v1/events/live", {}, {{"Last-Event-ID", "x"}}).status, 400);
}

TEST_F(RouterTest, MetricsAndReadiness) {
  EXPECT_EQ(call(Method::get, "/readyz").status, 200);
  draining_ = true;
  Response r = call(Method::get, "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("Retry-After"), "1");
  metrics_->record(0, 200, 0.001);
  r = call(Method::get, "/metrics");
  EXPECT_NE(r.body.find("eventcrm_http_requests_total{route=\"/healthz\",status=\"200\"} 1"),
            std::string::npos);
  EXPECT_NE(r.body.find("eventcrm_store_write_seconds_bucket"), std::string::npos);
  EXPECT_NE(r.body.find("eventcrm_store_wal_sync_seconds_bucket"), std::string::npos);
  EXPECT_NE(r.body.find("eventcrm_store_wal_spares_used_total"), std::string::npos);
  EXPECT_NE(r.body.find("eventcrm_store_recovery_dropped_events 0"), std::string::npos);
}

}  // namespace
}  // namespace eventcrm::api
