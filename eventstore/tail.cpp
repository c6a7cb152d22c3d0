#include "eventstore/tail.hpp"

#include <algorithm>

#include "eventstore/event.hpp"

namespace eventcrm::store::detail {
namespace {

std::uint64_t bit(std::string_view name) {
  return std::uint64_t{1} << (std::hash<std::string_view>{}(name)&63);
}

}  // namespace

Kinds Kinds::of(const Filter& filter) {
  Kinds k = all();
  if (!filter.types.empty()) {
    k.types = 0;
    for (const auto& t : filter.types)
      k.types |= bit(t);
  }
  if (!filter.categories.empty()) {
    k.categories = 0;
    for (const auto& c : filter.categories)
      k.categories |= bit(c);
  }
  return k;
}

void Kinds::add(std::string_view stream, std::string_view type) {
  types |= bit(type);
  categories |= bit(stream_category(stream));
}

std::size_t LogTail::push(std::shared_ptr<const TailBlock> block) {
  std::lock_guard lk(mu_);
  if (!block || (!blocks_.empty() && blocks_.back()->last() + 1 != block->first())) {
    blocks_.clear();
    bytes_ = 0;
    if (!block)
      return 0;
  }
  bytes_ += block->bytes();
  blocks_.push_back(std::move(block));
  while (bytes_ > budget_ && blocks_.size() > 1) {
    bytes_ -= blocks_.front()->bytes();
    blocks_.pop_front();
  }
  return bytes_;
}

bool LogTail::blocks_after(std::uint64_t after,
                           std::vector<std::shared_ptr<const TailBlock>>& out) const {
  out.clear();
  std::lock_guard lk(mu_);
  if (blocks_.empty() || blocks_.front()->first() > after + 1)
    return false;
  // The first block holding after + 1 (blocks are contiguous and ordered by position).
  auto it = std::partition_point(blocks_.begin(), blocks_.end(),
                                 [after](const auto& b) { return b->last() <= after; });
  out.assign(it, blocks_.end());
  return true;
}

}  // namespace eventcrm::store::detail
