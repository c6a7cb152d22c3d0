// Internal: the binary form of a stored event and the RocksDB key layouts. Not for other modules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "eventstore/event.hpp"

namespace eventcrm::store::detail {

// Big-endian fixed 64-bit integers, so RocksDB's bytewise order is numeric order.
void put_be64(std::string& out, std::uint64_t v);
void put_be64(char (&out)[8], std::uint64_t v);
std::uint64_t get_be64(std::string_view in);  // in.size() >= 8
std::string be64(std::uint64_t v);

// Key of a stream index entry: stream '\0' be64(version).
std::string stream_key(std::string_view stream, std::int64_t version);

// The canonical bytes of an event (everything but its hash): the input of the hash chain.
void encode_canonical(std::string& out, const RecordedEvent& e);
// The same bytes from the fields themselves (the writer encodes without building an event).
void encode_canonical(std::string& out, std::uint64_t position, std::int64_t stream_version,
                      std::int64_t time_ms, std::string_view id, std::string_view stream,
                      std::string_view type, std::string_view data, const Metadata& m);
// Stored value: canonical bytes followed by the 32-byte hash.
std::string encode_record(const RecordedEvent& e);
// Decodes a stored value; false when it is malformed. `canonical_size` receives the length of
// the canonical part.
bool decode_record(std::string_view in, RecordedEvent& e, std::size_t* canonical_size = nullptr);
// Only the position, stream and type of a stored record (views into `in`), to filter before
// decoding the rest; false when malformed.
bool peek_record(std::string_view in, std::uint64_t& position, std::string_view& stream,
                 std::string_view& type);

// SHA-256(prev ‖ canonical).
Hash chain_hash(const Hash& prev, std::string_view canonical);

// 16 raw bytes of a canonical UUID string (caller validated it).
std::string uuid_bytes(std::string_view uuid);
// The same 16 bytes into `out` (no allocation).
void uuid_bytes(std::string_view uuid, char (&out)[16]);
// A new UUIDv7 (time-ordered: good locality in the id index).
std::string new_uuid_v7(std::int64_t unix_ms);

// Strictly increasing UUIDv7s from one thread (RFC 9562 §6.2, method 3): within a millisecond,
// or if the clock steps back, the 74 random bits grow by a random step of 1..2^32, so the next
// id is not guessable. The store's writer names generated events with it, so the id index
// takes them in key order (an insert at the end of the memtable, not a search from the top).
class Uuid7Sequence {
 public:
  std::string next(std::int64_t unix_ms);

 private:
  std::uint64_t ms_ = 0;
  std::uint64_t hi_ = 0;  // rand_a: 12 bits
  std::uint64_t lo_ = 0;  // rand_b: 62 bits
  std::uint64_t rng_state_ = 0;
};

// Same stream, type, data and metadata (what an idempotent retry must repeat).
bool same_content(const RecordedEvent& a, const NewEvent& b, std::string_view stream);

}  // namespace eventcrm::store::detail
