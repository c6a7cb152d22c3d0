// A test read model that makes double or missed application visible: it counts events and marks
// each position it saw; seeing a position twice sets a "dup" row.
#pragma once

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "projections/bytes.hpp"
#include "projections/projection.hpp"

namespace eventcrm::testing {

class CountingProjection : public projections::Projection {
 public:
  explicit CountingProjection(std::string name = "counting", std::uint32_t version = 1,
                              store::Filter filter = {})
      : name_(std::move(name)), version_(version), filter_(std::move(filter)) {}
  std::string name() const override { return name_; }
  std::uint32_t version() const override { return version_; }
  store::Filter filter() const override { return filter_; }
  void apply(const store::RecordedEvent& e, projections::Batch& b) override {
    if (e.type == poison_type)
      throw std::runtime_error("poison event " + e.id);
    while (hold && hold->load())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const std::string seen = "seen/" + projections::bytes::be64(e.position);
    if (b.get(seen))
      b.put("dup", std::to_string(e.position));
    b.put(seen, std::to_string(version_));
    const auto n = b.get("count");
    b.put("count", std::to_string((n ? std::stoull(*n) : 0) + 1));
  }

  std::string poison_type;            // apply throws on events of this type
  std::atomic<bool>* hold = nullptr;  // apply waits while *hold is true

 private:
  std::string name_;
  std::uint32_t version_;
  store::Filter filter_;
};

}  // namespace eventcrm::testing
