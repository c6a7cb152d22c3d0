// A store in a temp dir with a settable clock, and a runtime over it, for projection tests.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/store.hpp"
#include "projections/counting_projection.hpp"
#include "projections/runtime.hpp"
#include "support/temp_dir.hpp"

namespace eventcrm::testing {

class SettableClock : public Clock {
 public:
  std::atomic<std::int64_t> ms{1'764'000'000'000};
  std::int64_t now_ms() override { return ms.load(); }
};

struct ProjectionFixture : ::testing::Test {
  TempDir dir;
  std::shared_ptr<SettableClock> clock = std::make_shared<SettableClock>();
  std::unique_ptr<store::EventStore> store;
  std::unique_ptr<projections::Runtime> runtime;

  void SetUp() override {
    store::Options o;
    o.path = (dir.path() / "data").string();
    o.durability = store::Durability::relaxed;
    o.clock = clock;
    auto s = store::EventStore::open(o);
    ASSERT_TRUE(s) << s.error().message;
    store = std::move(*s);
  }
  void TearDown() override {
    runtime.reset();
    if (store)
      store->close();
  }

  std::string readmodels() const {
    return projections::readmodels_path((dir.path() / "data").string());
  }

  void open_runtime(std::size_t batch = 1000) {
    projections::RuntimeOptions ro;
    ro.catch_up_batch = batch;
    ro.poll = std::chrono::milliseconds(20);
    open_runtime(ro);
  }
  // Replaces the runtime with one over the same read models (`ro.path` is set here).
  void open_runtime(projections::RuntimeOptions ro) {
    runtime.reset();
    ro.path = readmodels();
    auto r = projections::Runtime::open(*store, ro);
    ASSERT_TRUE(r) << r.error().message;
    runtime = std::move(*r);
  }

  // A second runtime, over the read models at `ro.path`, with the counting projection (see
  // counting_projection.hpp), started. Null (and the test failed) when it cannot open.
  std::unique_ptr<projections::Runtime> serve_counting(const projections::RuntimeOptions& ro) {
    auto r = projections::Runtime::open(*store, ro);
    EXPECT_TRUE(r) << r.error().message;
    if (!r)
      return nullptr;
    auto rt = std::move(*r);
    EXPECT_TRUE(rt->add(std::make_unique<CountingProjection>()));
    rt->start();
    return rt;
  }

  std::uint64_t append(const std::string& stream, const std::string& type,
                       const std::string& data = "{}", const std::string& actor = "user-1",
                       const std::string& reason = "") {
    store::NewEvent e;
    e.type = type;
    e.data = data;
    e.metadata.actor = actor;
    e.metadata.reason = reason;
    auto r = store->append(stream, store::ExpectedVersion::any(), {e});
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->last_position : 0;
  }

  void append_many(int n, const std::string& stream = "lead-1",
                   const std::string& type = "lead.noted.v1") {
    std::vector<store::NewEvent> batch;
    for (int i = 0; i < n; ++i) {
      store::NewEvent e;
      e.type = type;
      e.data = R"({"i":)" + std::to_string(i) + "}";
      e.metadata.actor = "user-1";
      batch.push_back(std::move(e));
      if (batch.size() == 1000 || i + 1 == n) {
        auto r = store->append(stream, store::ExpectedVersion::any(), std::move(batch));
        ASSERT_TRUE(r) << r.error().message;
        batch.clear();
      }
    }
  }

  std::string row(const std::string& projection, const std::string& key) {
    auto v = runtime->view(projection);
    if (!v)
      return "<" + v.error().message + ">";
    return (*v)->get(key).value_or("");
  }

  // Waits until a projection reports `state` (or the timeout passes).
  bool wait_state(const std::string& name, projections::State state,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto st = runtime->status(name);
      if (st && st->state == state)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
};

}  // namespace eventcrm::testing
