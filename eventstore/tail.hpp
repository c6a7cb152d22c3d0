// The log's tail in memory: the records of the most recently committed events, as stored, so
// that live readers (every projection worker, the Kafka relay, HTTP readers following the log)
// read what was just committed without opening a RocksDB iterator. Each live reader used to
// build one per commit — a merge over the memtables and table files and a seek into each — and
// with ~20 readers woken per commit that was a large share of the server's work.
//
// The writer hands over each committed WriteBatch itself (no copy), with where each event's
// record lies in it, noted as it staged them; the syncer pushes it once durable, before it moves
// the head, so the tail always covers every position from its oldest record up to the head. Readers
// copy the few block pointers they need under a short lock and read the immutable blocks without
// it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/write_batch.h>

namespace eventcrm::store {
struct Filter;
}

namespace eventcrm::store::detail {

// Which event types and stream categories a set of events may contain, as 64-bit Bloom
// filters (one bit per hashed name): a filter whose bits meet neither cannot match any of them.
// Live readers sleep through commits of events they do not read (see RocksEventStore's waiters).
struct Kinds {
  std::uint64_t types = 0;
  std::uint64_t categories = 0;

  static Kinds all() { return {~std::uint64_t{0}, ~std::uint64_t{0}}; }
  // What `filter` reads (all() for an empty filter).
  static Kinds of(const Filter& filter);
  void add(std::string_view stream, std::string_view type);
  Kinds& operator|=(const Kinds& o) {
    types |= o.types;
    categories |= o.categories;
    return *this;
  }
  // Whether a reader of `wanted` may find one of these events.
  bool may_match(const Kinds& wanted) const {
    return (types & wanted.types) != 0 && (categories & wanted.categories) != 0;
  }
};

// Where each event record of a batch being staged lies in its WriteBatch, and their kinds.
struct TailRecords {
  struct Span {
    std::size_t offset;
    std::size_t size;
  };
  std::vector<Span> spans;  // in position order
  Kinds kinds;

  // Notes the record just put as the batch's last entry (WriteBatch::Put appends the value last).
  void note(const rocksdb::WriteBatch& wb, std::size_t record_size, std::string_view stream,
            std::string_view type) {
    spans.push_back(Span{wb.GetDataSize() - record_size, record_size});
    kinds.add(stream, type);
  }
  void clear() {
    spans.clear();
    kinds = Kinds{};
  }
};

// The event records of one committed batch, positions first..first + size() - 1.
class TailBlock {
 public:
  TailBlock(std::uint64_t first, rocksdb::WriteBatch batch, TailRecords records)
      : first_(first), batch_(std::move(batch)), records_(std::move(records)) {}

  std::uint64_t first() const { return first_; }
  std::uint64_t last() const { return first_ + records_.spans.size() - 1; }
  std::size_t bytes() const { return batch_.GetDataSize(); }
  const Kinds& kinds() const { return records_.kinds; }
  // The stored record at `position` (first() <= position <= last()).
  std::string_view at(std::uint64_t position) const {
    const auto& r = records_.spans[position - first_];
    return std::string_view(batch_.Data()).substr(r.offset, r.size);
  }

 private:
  std::uint64_t first_;
  rocksdb::WriteBatch batch_;  // as written: the records are slices of its bytes
  TailRecords records_;
};

class LogTail {
 public:
  explicit LogTail(std::size_t budget_bytes) : budget_(budget_bytes) {}

  // Appends the next block: its first position follows the last one kept (else what is kept is
  // dropped first: the tail never has a hole). nullptr: the next committed batch is not kept
  // (everything is dropped). Drops the oldest blocks past the budget, always keeping the newest.
  // Returns the bytes it then holds.
  std::size_t push(std::shared_ptr<const TailBlock> block);
  // The blocks holding the positions after `after`, oldest first, when the tail holds position
  // after + 1 or starts there; false when it starts later (or holds nothing) and the reader
  // must go to disk.
  bool blocks_after(std::uint64_t after, std::vector<std::shared_ptr<const TailBlock>>& out) const;

 private:
  mutable std::mutex mu_;
  std::deque<std::shared_ptr<const TailBlock>> blocks_;
  std::size_t bytes_ = 0;
  std::size_t budget_;
};

}  // namespace eventcrm::store::detail
