// Helpers for projections that hold their state in memory while building offline
// (Projection::hold): what the held state costs against the builds' memory budget.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace eventcrm::projections {

// Passes writes on and counts their bytes (what a flush adds to an offline build's rows).
class CountingBatch final : public Batch {
 public:
  explicit CountingBatch(Batch& inner) : inner_(inner) {}
  void put(std::string_view key, std::string_view value) override {
    bytes_ += static_cast<std::int64_t>(key.size() + value.size()) + kRowOverhead;
    inner_.put(key, value);
  }
  void put_new(std::string_view key, std::string_view value) override {
    bytes_ += static_cast<std::int64_t>(key.size() + value.size()) + kRowOverhead;
    inner_.put_new(key, value);
  }
  void del(std::string_view key) override {
    bytes_ += static_cast<std::int64_t>(key.size()) + kRowOverhead;
    inner_.del(key);
  }
  std::optional<std::string> get(std::string_view key) override { return inner_.get(key); }
  std::int64_t bytes() const { return bytes_; }

 private:
  static constexpr std::int64_t kRowOverhead = 48;
  Batch& inner_;
  std::int64_t bytes_ = 0;
};

// The memory a held record stands for: its typed state and, once flushed, its rows until they
// are written out. The rows' size is a guess until a flush measures it.
class HeldCost {
 public:
  HeldCost(std::int64_t state_bytes, std::int64_t rows_guess)
      : state_(state_bytes), rows_(rows_guess) {}
  std::int64_t of(std::size_t records) const {
    return static_cast<std::int64_t>(records) * (state_ + rows_);
  }
  std::int64_t per_record() const { return state_ + rows_; }
  void learn(const CountingBatch& flushed, std::size_t records) {
    if (records > 0)
      rows_ = std::max<std::int64_t>(1, flushed.bytes() / static_cast<std::int64_t>(records));
  }

 private:
  std::int64_t state_;
  std::int64_t rows_;
};

// Which held records a flush(batch, bytes) writes out: those touched at or before the returned
// log position, the least recently touched, enough of them to release `bytes` at `per_record`
// each (all when that is all of them). `touched`: each held record's last event position.
inline std::uint64_t flush_cutoff(std::vector<std::uint64_t> touched, std::int64_t per_record,
                                  std::int64_t bytes) {
  const auto n = static_cast<std::int64_t>(touched.size());
  const std::int64_t k =
      per_record > 0 ? bytes / per_record + (bytes % per_record != 0 ? 1 : 0) : n;
  if (k >= n)
    return UINT64_MAX;
  if (k <= 0)
    return 0;
  std::nth_element(touched.begin(), touched.begin() + (k - 1), touched.end());
  return touched[static_cast<std::size_t>(k - 1)];
}

// The last positions of the records held in maps of entries with a `touched` member (for
// flush_cutoff).
template <class... Maps>
std::vector<std::uint64_t> touched_of(const Maps&... maps) {
  std::vector<std::uint64_t> out;
  out.reserve((maps.size() + ... + 0));
  (
      [&] {
        for (const auto& entry : maps)
          out.push_back(entry.second.touched);
      }(),
      ...);
  return out;
}

// Calls write(key, entry) for each held entry touched at or before `cutoff`, then forgets it.
// Returns how many were written.
template <class Map, class F>
std::size_t write_out(Map& held, std::uint64_t cutoff, F&& write) {
  std::size_t written = 0;
  for (auto it = held.begin(); it != held.end();) {
    if (it->second.touched > cutoff) {
      ++it;
      continue;
    }
    write(it->first, it->second);
    ++written;
    it = held.erase(it);
  }
  return written;
}

}  // namespace eventcrm::projections
