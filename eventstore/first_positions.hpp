// The first positions of streams already durable, for the store's point lookups (internal; see
// RocksEventStore::first_position). A stream's first event never moves, so an entry never goes
// stale: every command's reference checks (does this account exist?) and stream versions find
// it here instead of searching the memtables. Bounded: a shard that fills up starts again empty.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace eventcrm::store::detail {

class FirstPositions {
 public:
  explicit FirstPositions(std::size_t capacity = std::size_t{1} << 18)
      : per_shard_(capacity / kShards + 1) {}

  std::optional<std::uint64_t> find(std::string_view stream) const {
    const Shard& s = shard(stream);
    std::lock_guard lock(s.mu);
    if (auto it = s.map.find(stream); it != s.map.end())
      return it->second;
    return std::nullopt;
  }

  // `position` must be durable: a cached entry is served without looking at the head.
  void remember(std::string_view stream, std::uint64_t position) {
    Shard& s = shard(stream);
    std::lock_guard lock(s.mu);
    if (s.map.size() >= per_shard_)
      s.map.clear();
    s.map.emplace(std::string(stream), position);
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::uint64_t, Hash, std::equal_to<>> map;
  };
  static constexpr std::size_t kShards = 16;

  Shard& shard(std::string_view stream) { return shards_[Hash{}(stream) % kShards]; }
  const Shard& shard(std::string_view stream) const { return shards_[Hash{}(stream) % kShards]; }

  std::size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace eventcrm::store::detail
