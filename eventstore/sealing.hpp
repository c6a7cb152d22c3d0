// Keys for erasure (crypto-shredding): personal fields of events are stored sealed with their
// data subject's key (AES-256-GCM), and the keys live in a key store apart from the log. Destroying
// a subject's key erases its personal data from every event without touching the log's bytes, so
// the hash chain still verifies.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/personal_data.hpp"
#include "eventstore/event.hpp"

namespace eventcrm::store {

using DataKey = std::array<std::uint8_t, 32>;

// The per-subject keys: a small RocksDB of its own (`<data>/keys`), every change fsynced. A
// destroyed key leaves a tombstone (so the subject is never given a new key) and is flushed and
// compacted out of the files at once.
class KeyStore {
 public:
  enum class State : std::uint8_t { none, live, destroyed };
  struct Lookup {
    State state = State::none;
    DataKey key{};
  };

  static Result<std::unique_ptr<KeyStore>> open(const std::string& path);
  virtual ~KeyStore() = default;

  virtual Result<Lookup> get(std::string_view subject) = 0;
  // The subject's key, generated and made durable when it has none yet (a destroyed subject
  // stays destroyed).
  virtual Result<Lookup> get_or_create(std::string_view subject) = 0;
  // Replaces the key by a tombstone and rewrites the files that held it (flush, compaction of
  // its range, obsolete WAL and table files deleted). Idempotent.
  virtual Status<Error> destroy(std::string_view subject) = 0;
  // A server-wide secret named `name` (created once), for keyed digests that must not be
  // computable from the log alone (identity claims).
  virtual Result<DataKey> secret(std::string_view name) = 0;
  virtual void close() = 0;
};

// The AES-256-GCM primitives on one value. A sealed value is the JSON string
// "sealed:v1:<base64(nonce ‖ ciphertext ‖ tag)>"; the associated data binds it to its subject and
// field, so it cannot be moved to another record or field.
namespace sealing {
inline constexpr std::string_view kPrefix = "sealed:v1:";
// `plaintext` is any bytes (we seal a value's JSON text); returns the sealed string's content
// (without quotes).
std::string seal_value(const DataKey& key, std::string_view aad, std::string_view plaintext);
// nullopt: not a sealed value, the wrong key, or tampered bytes.
std::optional<std::string> open_value(const DataKey& key, std::string_view aad,
                                      std::string_view sealed);
std::string associated_data(std::string_view subject, std::string_view path);
}  // namespace sealing

// Seals and unseals the personal fields of events by the policy (event type → JSON paths), the
// subject being the event's stream.
class Sealer {
 public:
  Sealer(const PersonalDataPolicy& policy, KeyStore& keys);

  bool covers(std::string_view type) const { return paths_.contains(std::string(type)); }
  // Seals `data` in place. A subject whose key was destroyed gets the erasure marker instead
  // of its values (they are never stored).
  Status<Error> seal(std::string_view subject, std::string_view type, std::string& data);
  // Opens the sealed fields of `e.data` in place; a field whose key is gone (or that does not
  // open) reads as the erasure marker. Events without sealed fields are left untouched.
  Status<Error> unseal(RecordedEvent& e);
  // Personal values of the stored event that are not sealed (written before sealing existed).
  std::size_t plaintext_fields(const RecordedEvent& stored) const;

 private:
  using Paths = std::vector<std::vector<std::string>>;
  const Paths* paths_of(std::string_view type) const;

  std::unordered_map<std::string, Paths> paths_;
  std::unordered_map<std::string, std::vector<std::string>> dotted_;
  KeyStore& keys_;
};

}  // namespace eventcrm::store
