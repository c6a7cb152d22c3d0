// A real store in a temp dir with a fixed clock and counting ids, for command runner tests.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "app/command_runner.hpp"
#include "support/temp_dir.hpp"

namespace eventcrm::testing {

class FixedClock final : public Clock {
 public:
  std::int64_t now_ms() override { return now; }
  std::atomic<std::int64_t> now{1'772'445'600'000};  // 2026-03-02T10:00:00Z
};

class CountingIds final : public app::IdGenerator {
 public:
  std::string next() override { return "id-" + std::to_string(++n_); }

 private:
  std::atomic<int> n_{0};
};

struct RunnerFixture {
  explicit RunnerFixture(app::RunnerOptions options = {}) {
    store::Options o;
    o.path = dir.str();
    o.durability = store::Durability::relaxed;
    store = std::move(*store::EventStore::open(o));
    runner = std::make_unique<app::CommandRunner>(*store, clock, ids, options);
  }
  ~RunnerFixture() { store->close(); }

  static app::CommandOptions as(std::string actor, std::optional<std::int64_t> version = {}) {
    app::CommandOptions o;
    o.metadata.actor = std::move(actor);
    o.metadata.correlation_id = "corr-1";
    o.expected_version = version;
    return o;
  }

  TempDir dir;
  FixedClock clock;
  CountingIds ids;
  std::unique_ptr<store::EventStore> store;
  std::unique_ptr<app::CommandRunner> runner;
};

}  // namespace eventcrm::testing
