// Crypto-shredding: the key store (its own RocksDB), AES-256-GCM sealing of single values and
// the splicing of sealed values into an event's JSON at the personal fields' paths.
#include "eventstore/sealing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>

namespace eventcrm::store {
namespace {

constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;
constexpr char kLive = 'K';
constexpr char kDestroyed = 'X';
// Server-wide secrets are kept under a prefix no stream name can start with.
constexpr std::string_view kSecretPrefix = "\x01secret:";

Unexpected<Error> fail(errc code, std::string message) {
  return unexpected(Error{code, std::move(message), {}, {}});
}

void random_bytes(std::uint8_t* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1)
    throw std::runtime_error("the system's random generator failed");
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (std::uint32_t(std::uint8_t(in[i])) << 16) |
                      (std::uint32_t(std::uint8_t(in[i + 1])) << 8) | std::uint8_t(in[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == in.size()) {
    std::uint32_t v = std::uint32_t(std::uint8_t(in[i])) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    std::uint32_t v =
        (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> unbase64(std::string_view in) {
  if (in.size() % 4 != 0)
    return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int pad = (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=');
    if (pad > 0 && i + 4 != in.size())
      return std::nullopt;
    int a = val(in[i]), b = val(in[i + 1]);
    int c = pad >= 2 ? 0 : val(in[i + 2]);
    int d = pad >= 1 ? 0 : val(in[i + 3]);
    if (a < 0 || b < 0 || c < 0 || d < 0)
      return std::nullopt;
    std::uint32_t v = (std::uint32_t(a) << 18) | (std::uint32_t(b) << 12) |
                      (std::uint32_t(c) << 6) | std::uint32_t(d);
    out += static_cast<char>((v >> 16) & 0xff);
    if (pad < 2)
      out += static_cast<char>((v >> 8) & 0xff);
    if (pad < 1)
      out += static_cast<char>(v & 0xff);
  }
  return out;
}

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
  CipherCtx() {
    if (ctx == nullptr)
      throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  }
  CipherCtx(const CipherCtx&) = delete;
  CipherCtx& operator=(const CipherCtx&) = delete;
};

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// ---- the key store ----

class RocksKeyStore final : public KeyStore {
 public:
  ~RocksKeyStore() override { close(); }

  Status<Error> open(const std::string& path) {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.max_background_jobs = 1;
    o.keep_log_file_num = 2;
    o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
    // Obsolete WAL files are deleted, never archived or recycled: a destroyed key must not
    // survive in an old log file.
    o.WAL_ttl_seconds = 0;
    o.WAL_size_limit_MB = 0;
    o.recycle_log_file_num = 0;
    rocksdb::DB* raw = nullptr;
    auto s = rocksdb::DB::Open(o, path, &raw);
    if (!s.ok())
      return fail(errc::io_error, "cannot open the key store: " + s.ToString());
    db_.reset(raw);
    return Ok{};
  }

  Result<Lookup> get(std::string_view subject) override {
    if (auto hit = cached(subject))
      return *hit;
    return load(subject);
  }

  Result<Lookup> get_or_create(std::string_view subject) override {
    if (auto hit = cached(subject); hit && hit->state != State::none)
      return *hit;
    // One creator per subject at a time (striped), so concurrent first writes agree on a key.
    std::lock_guard lk(stripe(subject));
    auto have = load(subject);
    if (!have || have->state != State::none)
      return have;
    Lookup fresh;
    fresh.state = State::live;
    random_bytes(fresh.key.data(), fresh.key.size());
    std::string value(1, kLive);
    value.append(reinterpret_cast<const char*>(fresh.key.data()), fresh.key.size());
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto s = db_->Put(wo, rocksdb::Slice(subject.data(), subject.size()), value);
    OPENSSL_cleanse(value.data(), value.size());
    if (!s.ok())
      return fail(errc::io_error, "cannot store a data key: " + s.ToString());
    remember(subject, fresh);
    return fresh;
  }

  Status<Error> destroy(std::string_view subject) override {
    std::lock_guard lk(stripe(subject));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Slice key(subject.data(), subject.size());
    auto s = db_->Put(wo, key, std::string(1, kDestroyed));
    if (!s.ok())
      return fail(errc::io_error, "cannot destroy the data key: " + s.ToString());
    {
      std::unique_lock c(cache_mu_);
      Lookup& entry = cache_[std::string(subject)];
      OPENSSL_cleanse(entry.key.data(), entry.key.size());
      entry = Lookup{State::destroyed, {}};
    }
    // The old value is still in the memtable/WAL or a table file: flush (the WAL that held it
    // becomes obsolete and is deleted) and compact every file overlapping the subject down to
    // the last level, where the tombstone's older versions are dropped.
    rocksdb::FlushOptions fo;
    fo.wait = true;
    s = db_->Flush(fo);
    if (s.ok()) {
      rocksdb::CompactRangeOptions co;
      co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      s = db_->CompactRange(co, &key, &key);
    }
    if (!s.ok())
      return fail(errc::io_error, "the key was destroyed but not yet compacted: " + s.ToString());
    return Ok{};
  }

  Result<DataKey> secret(std::string_view name) override {
    std::string k(kSecretPrefix);
    k.append(name);
    auto got = get_or_create(k);
    if (!got)
      return unexpected(std::move(got).error());
    if (got->state != State::live)
      return fail(errc::corrupted, "the secret " + std::string(name) + " was destroyed");
    return got->key;
  }

  void close() override {
    std::lock_guard lk(close_mu_);
    if (db_) {
      db_->Close();
      db_.reset();
    }
    std::unique_lock c(cache_mu_);
    for (auto& [k, v] : cache_)
      OPENSSL_cleanse(v.key.data(), v.key.size());
    cache_.clear();
  }

 private:
  std::optional<Lookup> cached(std::string_view subject) {
    std::shared_lock lk(cache_mu_);
    auto it = cache_.find(std::string(subject));
    if (it == cache_.end())
      return std::nullopt;
    return it->second;
  }
  void remember(std::string_view subject, const Lookup& l) {
    std::unique_lock lk(cache_mu_);
    if (cache_.size() > 1'000'000) {
      for (auto& [k, v] : cache_)
        OPENSSL_cleanse(v.key.data(), v.key.size());
      cache_.clear();
    }
    Lookup& entry = cache_[std::string(subject)];
    // A reader that loaded the key just before it was destroyed must not bring it back.
    if (entry.state != State::destroyed)
      entry = l;
  }
  Result<Lookup> load(std::string_view subject) {
    std::string v;
    auto s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(subject.data(), subject.size()), &v);
    Lookup l;
    if (s.IsNotFound())
      return l;  // not cached: it may be created any moment
    if (!s.ok())
      return fail(errc::io_error, "cannot read the key store: " + s.ToString());
    if (v.size() == 1 && v[0] == kDestroyed) {
      l.state = State::destroyed;
    } else if (v.size() == 1 + l.key.size() && v[0] == kLive) {
      l.state = State::live;
      std::copy(v.begin() + 1, v.end(), reinterpret_cast<char*>(l.key.data()));
      OPENSSL_cleanse(v.data(), v.size());
    } else {
      return fail(errc::corrupted, "malformed entry in the key store");
    }
    remember(subject, l);
    return l;
  }
  std::mutex& stripe(std::string_view subject) {
    return stripes_[std::hash<std::string_view>{}(subject) % stripes_.size()];
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::shared_mutex cache_mu_;
  std::unordered_map<std::string, Lookup> cache_;
  std::array<std::mutex, 64> stripes_;
  std::mutex close_mu_;
};

// ---- finding personal values in an event's JSON ----

struct Token {
  std::size_t offset = 0;
  std::size_t length = 0;
  std::size_t path = 0;
};

// The end of the JSON string token starting at s[0] == '"' (one past its closing quote).
std::size_t string_token_length(std::string_view s) {
  std::size_t i = 1;
  while (i < s.size() && s[i] != '"')
    i += s[i] == '\\' ? 2 : 1;
  return std::min(i + 1, s.size());
}

using Paths = std::vector<std::vector<std::string>>;

bool walk(simdjson::ondemand::object obj, const Paths& paths, const std::vector<std::size_t>& live,
          std::size_t depth, const char* base, std::vector<Token>& out) {
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    if (std::move(field_result).get(field))
      return false;
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    std::vector<std::size_t> leaves, deeper;
    for (std::size_t i : live) {
      if (paths[i][depth] != key)
        continue;
      (depth + 1 == paths[i].size() ? leaves : deeper).push_back(i);
    }
    if (leaves.empty() && deeper.empty())
      continue;
    simdjson::ondemand::value value = field.value();
    simdjson::ondemand::json_type type;
    if (value.type().get(type))
      return false;
    if (!leaves.empty() && type == simdjson::ondemand::json_type::string) {
      std::string_view raw = value.raw_json_token();
      Token t{static_cast<std::size_t>(raw.data() - base), string_token_length(raw), leaves[0]};
      out.push_back(t);
    } else if (!deeper.empty() && type == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object sub;
      if (value.get_object().get(sub))
        return false;
      if (!walk(sub, paths, deeper, depth + 1, base, out))
        return false;
    }
  }
  return true;
}

// The string values at `paths` in `data`, in document order; nullopt when data is not an object.
std::optional<std::vector<Token>> locate(std::string_view data, const Paths& paths) {
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string buf;
  buf.assign(data);
  buf.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document doc;
  if (parser.iterate(buf.data(), data.size(), buf.size()).get(doc))
    return std::nullopt;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj))
    return std::nullopt;
  std::vector<std::size_t> all(paths.size());
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i] = i;
  std::vector<Token> out;
  if (!walk(obj, paths, all, 0, buf.data(), out))
    return std::nullopt;
  std::sort(out.begin(), out.end(),
            [](const Token& a, const Token& b) { return a.offset < b.offset; });
  return out;
}

// `data` with each token replaced by its replacement (tokens in order, not overlapping).
std::string splice(std::string_view data, const std::vector<Token>& tokens,
                   const std::vector<std::string>& replacements) {
  std::string out;
  out.reserve(data.size() + tokens.size() * 64);
  std::size_t at = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    out.append(data.substr(at, tokens[i].offset - at));
    out.append(replacements[i]);
    at = tokens[i].offset + tokens[i].length;
  }
  out.append(data.substr(at));
  return out;
}

std::string json_string(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q += '"';
  q.append(s);
  q += '"';
  return q;
}

bool is_sealed_token(std::string_view token) {
  return token.size() > sealing::kPrefix.size() + 2 && token[0] == '"' &&
         token.substr(1, sealing::kPrefix.size()) == sealing::kPrefix;
}

}  // namespace

Result<std::unique_ptr<KeyStore>> KeyStore::open(const std::string& path) {
  auto ks = std::make_unique<RocksKeyStore>();
  auto s = ks->open(path);
  if (!s)
    return unexpected(std::move(s).error());
  return std::unique_ptr<KeyStore>(std::move(ks));
}

namespace sealing {

std::string associated_data(std::string_view subject, std::string_view path) {
  std::string aad(subject);
  aad.push_back('\0');
  aad.append(path);
  return aad;
}

std::string seal_value(const DataKey& key, std::string_view aad, std::string_view plaintext) {
  std::string blob(kNonce + plaintext.size() + kTag, '\0');
  auto* out = reinterpret_cast<unsigned char*>(blob.data());
  random_bytes(out, kNonce);
  CipherCtx c;
  int len = 0;
  bool ok =
      EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) == 1 &&
      EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, key.data(), out) == 1 &&
      EVP_EncryptUpdate(c.ctx, nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(c.ctx, out + kNonce, &len, bytes_of(plaintext),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(c.ctx, out + kNonce + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTag, out + kNonce + plaintext.size()) == 1;
  if (!ok)
    throw std::runtime_error("AES-256-GCM encryption failed");
  std::string sealed(kPrefix);
  sealed += base64(blob);
  return sealed;
}

std::optional<std::string> open_value(const DataKey& key, std::string_view aad,
                                      std::string_view sealed) {
  if (!sealed.starts_with(kPrefix))
    return std::nullopt;
  auto blob = unbase64(sealed.substr(kPrefix.size()));
  if (!blob || blob->size() < kNonce + kTag)
    return std::nullopt;
  const auto* in = bytes_of(*blob);
  std::size_t n = blob->size() - kNonce - kTag;
  std::string plain(n, '\0');
  std::array<unsigned char, kTag> tag;
  std::copy(in + kNonce + n, in + blob->size(), tag.begin());
  CipherCtx c;
  int len = 0;
  bool ok =
      EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) == 1 &&
      EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, key.data(), in) == 1 &&
      EVP_DecryptUpdate(c.ctx, nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(plain.data()), &len, in + kNonce,
                        static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1;
  // The tag is checked by the final call: a wrong key or a changed byte fails here.
  if (!ok ||
      EVP_DecryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(plain.data()) + len, &len) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return std::nullopt;
  }
  return plain;
}

}  // namespace sealing

Sealer::Sealer(const PersonalDataPolicy& policy, KeyStore& keys) : keys_(keys) {
  for (const PersonalFields& pf : policy) {
    auto& paths = paths_[pf.type];
    auto& dotted = dotted_[pf.type];
    for (const std::string& p : pf.paths) {
      if (std::find(dotted.begin(), dotted.end(), p) != dotted.end())
        continue;
      std::vector<std::string> segments;
      std::size_t at = 0;
      for (;;) {
        auto dot = p.find('.', at);
        segments.push_back(p.substr(at, dot - at));
        if (dot == std::string::npos)
          break;
        at = dot + 1;
      }
      paths.push_back(std::move(segments));
      dotted.push_back(p);
    }
  }
}

const Sealer::Paths* Sealer::paths_of(std::string_view type) const {
  auto it = paths_.find(std::string(type));
  return it == paths_.end() ? nullptr : &it->second;
}

Status<Error> Sealer::seal(std::string_view subject, std::string_view type, std::string& data) {
  const Paths* paths = paths_of(type);
  if (paths == nullptr)
    return Ok{};
  auto tokens = locate(data, *paths);
  if (!tokens)
    return fail(errc::invalid_json, "event data must be a valid JSON object");
  if (tokens->empty())
    return Ok{};  // no personal value present: no key needed
  auto key = keys_.get_or_create(subject);
  if (!key)
    return unexpected(std::move(key).error());
  const auto& dotted = dotted_.at(std::string(type));
  std::vector<std::string> replacements;
  replacements.reserve(tokens->size());
  for (const Token& t : *tokens) {
    if (key->state != KeyStore::State::live) {
      replacements.push_back(json_string(kErasedMarker));
      continue;
    }
    std::string_view plain(data.data() + t.offset, t.length);
    replacements.push_back(json_string(
        sealing::seal_value(key->key, sealing::associated_data(subject, dotted[t.path]), plain)));
  }
  data = splice(data, *tokens, replacements);
  return Ok{};
}

Status<Error> Sealer::unseal(RecordedEvent& e) {
  const Paths* paths = paths_of(e.type);
  if (paths == nullptr || e.data.find(sealing::kPrefix) == std::string::npos)
    return Ok{};
  auto tokens = locate(e.data, *paths);
  if (!tokens)
    return Ok{};  // not ours to judge: the reader's codec reports malformed data
  std::erase_if(*tokens, [&](const Token& t) {
    return !is_sealed_token(std::string_view(e.data).substr(t.offset, t.length));
  });
  if (tokens->empty())
    return Ok{};
  auto key = keys_.get(e.stream);
  if (!key)
    return unexpected(std::move(key).error());
  const auto& dotted = dotted_.at(e.type);
  std::vector<std::string> replacements;
  replacements.reserve(tokens->size());
  for (const Token& t : *tokens) {
    std::optional<std::string> plain;
    if (key->state == KeyStore::State::live) {
      std::string_view token(e.data.data() + t.offset + 1, t.length - 2);
      plain =
          sealing::open_value(key->key, sealing::associated_data(e.stream, dotted[t.path]), token);
    }
    replacements.push_back(plain ? std::move(*plain) : json_string(kErasedMarker));
  }
  e.data = splice(e.data, *tokens, replacements);
  return Ok{};
}

std::size_t Sealer::plaintext_fields(const RecordedEvent& stored) const {
  const Paths* paths = paths_of(stored.type);
  if (paths == nullptr)
    return 0;
  auto tokens = locate(stored.data, *paths);
  if (!tokens)
    return 0;
  std::size_t n = 0;
  for (const Token& t : *tokens) {
    auto token = std::string_view(stored.data).substr(t.offset, t.length);
    if (!is_sealed_token(token) && token != json_string(kErasedMarker))
      ++n;
  }
  return n;
}

}  // namespace eventcrm::store
