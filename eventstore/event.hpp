// The event store's vocabulary: events as envelopes with bytes, streams, positions and errors.
// Knows nothing of CRM types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace eventcrm::store {

// Error codes of the store. Each is a normal outcome a caller handles, not an exception.
enum class errc {
  wrong_expected_version = 1,  // optimistic concurrency: the stream is not at the expected version
  idempotency_conflict,        // an event id was already committed with different content or place
  invalid_stream_name,
  invalid_event_type,
  invalid_event_id,
  invalid_json,
  event_too_large,
  batch_too_large,
  empty_batch,
  duplicate_stream_in_batch,
  not_found,
  io_error,
  closed,
  corrupted,
};

const char* to_string(errc e) noexcept;

struct Error {
  errc code{};
  std::string message;
  std::string stream;                           // the stream concerned, when there is one
  std::optional<std::int64_t> current_version;  // for wrong_expected_version (-1: no stream)
};

template <class T>
using Result = eventcrm::Result<T, Error>;

// What the caller expects of a stream before appending.
struct ExpectedVersion {
  enum class Kind : std::uint8_t { any, no_stream, stream_exists, exact };
  Kind kind = Kind::any;
  std::int64_t version = -1;  // only for exact

  static ExpectedVersion any() { return {Kind::any, -1}; }
  static ExpectedVersion no_stream() { return {Kind::no_stream, -1}; }
  static ExpectedVersion stream_exists() { return {Kind::stream_exists, -1}; }
  static ExpectedVersion exact(std::int64_t v) { return {Kind::exact, v}; }
};

// Who did it and why; free keys for the rest.
struct Metadata {
  std::string actor;
  std::string reason;
  std::string correlation_id;
  std::string causation_id;
  std::vector<std::pair<std::string, std::string>> extra;

  bool operator==(const Metadata&) const = default;
};

// An event to append. An empty id is replaced by a generated UUID.
struct NewEvent {
  std::string id;    // UUID, canonical lowercase 8-4-4-4-12
  std::string type;  // e.g. "opportunity.stage_changed.v1"
  std::string data;  // a JSON object
  Metadata metadata;
};

using Hash = std::array<std::uint8_t, 32>;

// An event as committed.
struct RecordedEvent {
  std::string id;
  std::string type;
  std::string stream;
  std::int64_t stream_version = 0;  // 0-based, contiguous within the stream
  std::uint64_t position = 0;       // 1-based, gap-free over the whole log
  std::int64_t time_ms = 0;         // commit time, ms since epoch UTC, non-decreasing with position
  std::string data;
  Metadata metadata;
  Hash hash{};  // SHA-256(previous hash ‖ canonical bytes of this event)

  std::string category() const;  // the stream name up to its first '-'
};

// One stream's part of an append.
struct StreamAppend {
  std::string stream;
  ExpectedVersion expected;
  std::vector<NewEvent> events;
};

struct AppendResult {
  struct Stream {
    std::string stream;
    std::int64_t first_version = 0;
    std::int64_t last_version = 0;  // the stream's version after the append
  };
  std::vector<Stream> streams;
  std::uint64_t first_position = 0;
  std::uint64_t last_position = 0;
  std::vector<std::string> event_ids;  // in append order
  bool replayed = false;  // true when every event was already committed (idempotent retry)
};

enum class Direction : std::uint8_t { forward, backward };

// Filter for global reads. Empty lists match everything.
struct Filter {
  std::vector<std::string> types;
  std::vector<std::string> categories;
  // Read events as stored: personal fields stay sealed (for the Kafka relay, whose topic feeds
  // replicas that check the hash chain over the stored bytes). Default: opened for the reader.
  bool stored_form = false;
  bool matches(const RecordedEvent& e) const;
  bool matches(std::string_view stream, std::string_view type) const;
  bool empty() const { return types.empty() && categories.empty(); }
};

// A page of the global log: events plus how far the scan went (for cursors past filtered
// events). Reading on from `scanned_to` never skips or repeats an event.
struct LogPage {
  std::vector<RecordedEvent> events;
  std::uint64_t scanned_to = 0;
};

struct VerifyReport {
  bool ok = true;
  std::uint64_t checked = 0;
  std::optional<std::uint64_t> first_broken_position;
  std::string problem;
};

// The category of a stream name: up to its first '-' (the whole name without one). Filters
// and the tail's kinds (tail.hpp) both go by it.
inline std::string_view stream_category(std::string_view stream) {
  return stream.substr(0, stream.find('-'));
}

// Stream names are "<category>-<id>": category [a-z][a-z0-9_]* , id [A-Za-z0-9_.:-]+,
// at most 200 bytes in all.
bool valid_stream_name(std::string_view s) noexcept;
// Event types are "category.verb_past_tense.vN" (lowercase, dots, underscores, digits).
bool valid_event_type(std::string_view s) noexcept;
bool valid_uuid(std::string_view s) noexcept;

}  // namespace eventcrm::store
