// Authentication, authorization and abuse limits for every request; see security.hpp.
#include "api/security.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "api/json.hpp"
#include "api/log.hpp"
#include "api/problem.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "app/command_runner.hpp"
#include "common/string_map.hpp"
#include "domain/account.hpp"
#include "domain/activity.hpp"
#include "domain/aggregate.hpp"
#include "domain/api_key.hpp"
#include "domain/appointment.hpp"
#include "domain/campaign.hpp"
#include "domain/contact.hpp"
#include "domain/contract.hpp"
#include "domain/lead.hpp"
#include "domain/opportunity.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/quote.hpp"
#include "domain/role.hpp"
#include "domain/task.hpp"
#include "domain/user.hpp"
#include "domain/voucher.hpp"
#include "domain/warehouse.hpp"
#include "eventstore/store.hpp"
#include "projections/runtime.hpp"

namespace eventcrm::api {

// ---------------------------------------------------------------------------------------------
// Small helpers

namespace {

using SteadyClock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 0xF];
  }
  return out;
}

std::string base64url(const unsigned char* p, std::size_t n) {
  static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < n; i += 3) {
    std::uint32_t v = (std::uint32_t(p[i]) << 16) | (std::uint32_t(p[i + 1]) << 8) | p[i + 2];
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (n - i == 1) {
    std::uint32_t v = std::uint32_t(p[i]) << 16;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
  } else if (n - i == 2) {
    std::uint32_t v = (std::uint32_t(p[i]) << 16) | (std::uint32_t(p[i + 1]) << 8);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
  }
  return out;
}

// Unpadded base64url (RFC 7515 §2); false on any other character or an impossible length.
bool base64url_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 == 1)
    return false;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

bool ct_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// A JSON number (integer or not) as seconds.
std::optional<double> number_of(const json::Value* v) {
  if (v == nullptr || !v->is_number())
    return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(v->text.c_str(), &end);
  if (end == v->text.c_str() || !std::isfinite(d))
    return std::nullopt;
  return d;
}

// ---------------------------------------------------------------------------------------------
// Token buckets keyed by client address or principal, sharded to keep the lock short.

class Buckets {
 public:
  // 0 when a token was taken (or there is no limit); else the seconds until one is available.
  double take(std::string_view key, double rate, double burst, bool consume = true) {
    if (rate <= 0)
      return 0;
    std::size_t h = std::hash<std::string_view>{}(key);
    Shard& s = shards_[h % kShards];
    double now = std::chrono::duration<double>(SteadyClock::now().time_since_epoch()).count();
    std::lock_guard lock(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) {
      if (s.map.size() > kMaxKeys)
        prune(s, now, rate, burst);
      it = s.map.emplace(std::string(key), Bucket{burst, now}).first;
    }
    Bucket& b = it->second;
    b.tokens = std::min(burst, b.tokens + (now - b.last) * rate);
    b.last = now;
    if (b.tokens >= 1.0) {
      if (consume)
        b.tokens -= 1.0;
      return 0;
    }
    return (1.0 - b.tokens) / rate;
  }

 private:
  struct Bucket {
    double tokens;
    double last;
  };
  struct Shard {
    std::mutex mu;
    StringMap<Bucket> map;
  };
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMaxKeys = 20'000;

  // Full buckets carry no information: forget them.
  static void prune(Shard& s, double now, double rate, double burst) {
    for (auto it = s.map.begin(); it != s.map.end();) {
      if (it->second.tokens + (now - it->second.last) * rate >= burst)
        it = s.map.erase(it);
      else
        ++it;
    }
  }

  Shard shards_[kShards];
};

Response too_many(double wait_seconds, std::string detail) {
  Response r = problem(errc::rate_limited, std::move(detail));
  r.set_header("Retry-After", std::to_string(std::max<long long>(
                                  1, static_cast<long long>(std::ceil(wait_seconds)))));
  return r;
}

// ---------------------------------------------------------------------------------------------
// JWT verification with OpenSSL: the algorithm comes from the configured key, never the token.

struct JwtKey {
  std::string kid;
  std::string alg;     // HS256 | RS256 | ES256
  std::string secret;  // HS256
  EVP_PKEY* pkey = nullptr;
};

struct JwtConfig {
  std::vector<JwtKey> keys;
  std::optional<std::string> issuer;
  std::optional<std::string> audience;
  std::string user_claim = "sub";
  double leeway_seconds = 60;

  ~JwtConfig() {
    for (auto& k : keys)
      EVP_PKEY_free(k.pkey);
  }
};

bool load_jwt_config(const std::string& path, JwtConfig& cfg, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read the JWT key file " + path;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = json::decode(ss.str());
  if (!doc || !doc->is_object()) {
    error = "the JWT key file is not a JSON object";
    return false;
  }
  auto text = [](const json::Value* v) -> std::optional<std::string> {
    if (v == nullptr || !v->is_string())
      return std::nullopt;
    return v->text;
  };
  cfg.issuer = text(doc->find("issuer"));
  cfg.audience = text(doc->find("audience"));
  if (auto c = text(doc->find("user_claim")))
    cfg.user_claim = *c;
  if (auto l = number_of(doc->find("leeway_seconds")); l && *l >= 0 && *l <= 300)
    cfg.leeway_seconds = *l;
  const json::Value* keys = doc->find("keys");
  if (keys == nullptr || !keys->is_array() || keys->items.empty()) {
    error = "the JWT key file needs a non-empty \"keys\" array";
    return false;
  }
  for (const auto& k : keys->items) {
    JwtKey key;
    key.kid = text(k.find("kid")).value_or("");
    key.alg = text(k.find("alg")).value_or("");
    if (key.alg == "HS256") {
      auto secret = text(k.find("secret"));  // base64url, at least 256 bits
      std::string raw;
      if (!secret || !base64url_decode(*secret, raw) || raw.size() < 32) {
        error = "key " + key.kid + ": HS256 needs \"secret\" (base64url, at least 32 bytes)";
        return false;
      }
      key.secret = std::move(raw);
    } else if (key.alg == "RS256" || key.alg == "ES256") {
      auto pem = text(k.find("public_key_pem"));
      if (!pem) {
        error = "key " + key.kid + ": " + key.alg + " needs \"public_key_pem\"";
        return false;
      }
      BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
      key.pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
      BIO_free(bio);
      int want = key.alg == "RS256" ? EVP_PKEY_RSA : EVP_PKEY_EC;
      if (key.pkey == nullptr || EVP_PKEY_base_id(key.pkey) != want) {
        EVP_PKEY_free(key.pkey);
        error = "key " + key.kid + ": not a " + key.alg + " public key";
        return false;
      }
      if (key.alg == "RS256" && EVP_PKEY_bits(key.pkey) < 2048) {
        EVP_PKEY_free(key.pkey);
        error = "key " + key.kid + ": RSA keys must have at least 2048 bits";
        return false;
      }
    } else {
      error = "key " + key.kid + ": alg must be HS256, RS256 or ES256";
      return false;
    }
    cfg.keys.push_back(std::move(key));
  }
  return true;
}

bool verify_signature(const JwtKey& key, std::string_view signed_part, std::string_view sig) {
  if (key.alg == "HS256") {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.secret.data(), static_cast<int>(key.secret.size()),
             reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac,
             &len) == nullptr)
      return false;
    return ct_equal(std::string_view(reinterpret_cast<const char*>(mac), len), sig);
  }
  std::string der;
  if (key.alg == "ES256") {
    // JOSE carries r ‖ s (32 bytes each); OpenSSL verifies DER.
    if (sig.size() != 64)
      return false;
    ECDSA_SIG* es = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
    if (es == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(es, r, s) != 1) {
      BN_free(r);
      BN_free(s);
      ECDSA_SIG_free(es);
      return false;
    }
    unsigned char* out = nullptr;
    int n = i2d_ECDSA_SIG(es, &out);
    ECDSA_SIG_free(es);
    if (n <= 0)
      return false;
    der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
    OPENSSL_free(out);
    sig = der;
  }
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = md != nullptr &&
            EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key.pkey) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()),
                             signed_part.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

struct JwtOutcome {
  std::string user;  // set on success
  std::string kid;
  std::string reason;  // invalid | expired | not_yet_valid
  std::string detail;
};

JwtOutcome verify_jwt(const JwtConfig& cfg, std::string_view token) {
  JwtOutcome out;
  out.reason = "invalid";
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    out.detail = "not a JWS compact token";
    return out;
  }
  std::string header_raw, payload_raw, sig;
  if (!base64url_decode(token.substr(0, d1), header_raw) ||
      !base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), payload_raw) ||
      !base64url_decode(token.substr(d2 + 1), sig)) {
    out.detail = "token parts are not base64url";
    return out;
  }
  auto header = json::decode(header_raw);
  if (!header || !header->is_object()) {
    out.detail = "token header is not a JSON object";
    return out;
  }
  const json::Value* alg = header->find("alg");
  if (alg == nullptr || !alg->is_string()) {
    out.detail = "token header has no alg";
    return out;
  }
  if (header->find("crit") != nullptr) {
    out.detail = "critical header parameters are not supported";
    return out;
  }
  const json::Value* kid = header->find("kid");
  std::string_view signed_part = token.substr(0, d2);
  bool tried = false, verified = false;
  for (const JwtKey& k : cfg.keys) {
    if (kid != nullptr && (!kid->is_string() || kid->text != k.kid))
      continue;
    // The key's algorithm decides; a token naming another one (none, HS256 against an RSA key)
    // is refused, never verified some other way.
    if (alg->text != k.alg)
      continue;
    tried = true;
    if (verify_signature(k, signed_part, sig)) {
      verified = true;
      out.kid = k.kid;
      break;
    }
  }
  if (!tried) {
    out.detail = "no configured key accepts alg \"" + alg->text + "\"";
    return out;
  }
  if (!verified) {
    out.detail = "bad signature";
    return out;
  }
  auto payload = json::decode(payload_raw);
  if (!payload || !payload->is_object()) {
    out.detail = "token payload is not a JSON object";
    return out;
  }
  double now = static_cast<double>(now_ms()) / 1000.0;
  auto exp = number_of(payload->find("exp"));
  if (!exp) {
    out.detail = "token has no exp";
    return out;
  }
  if (now > *exp + cfg.leeway_seconds) {
    out.reason = "expired";
    out.detail = "token expired";
    return out;
  }
  if (auto nbf = number_of(payload->find("nbf")); payload->find("nbf") != nullptr) {
    if (!nbf || now + cfg.leeway_seconds < *nbf) {
      out.reason = "not_yet_valid";
      out.detail = "token not valid yet";
      return out;
    }
  }
  if (cfg.issuer) {
    const json::Value* iss = payload->find("iss");
    if (iss == nullptr || !iss->is_string() || iss->text != *cfg.issuer) {
      out.detail = "wrong issuer";
      return out;
    }
  }
  if (cfg.audience) {
    const json::Value* aud = payload->find("aud");
    bool ok = false;
    if (aud != nullptr && aud->is_string())
      ok = aud->text == *cfg.audience;
    else if (aud != nullptr && aud->is_array())
      for (const auto& a : aud->items)
        ok = ok || (a.is_string() && a.text == *cfg.audience);
    if (!ok) {
      out.detail = "wrong audience";
      return out;
    }
  }
  const json::Value* user = payload->find(cfg.user_claim);
  if (user == nullptr || !user->is_string() || user->text.empty()) {
    out.detail = "token has no " + cfg.user_claim + " claim";
    return out;
  }
  out.user = user->text;
  out.reason.clear();
  return out;
}

bool pii_key(std::string_view k) {
  auto has = [&](std::string_view w) { return k.find(w) != std::string_view::npos; };
  return has("email") || has("phone") || has("mobile") || has("address") || has("tax_id") ||
         has("national_id") || has("salary") || has("birth") || k == "street" ||
         k == "postal_code" || k == "fax";
}

void mask(json::Value& v) {
  if (v.is_object()) {
    for (auto& m : v.members) {
      if (pii_key(m.first) && m.second.kind != json::Value::Kind::null &&
          m.second.kind != json::Value::Kind::boolean) {
        m.second = json::Value{};
        m.second.kind = json::Value::Kind::string;
        m.second.text = "***";
      } else {
        mask(m.second);
      }
    }
  } else if (v.is_array()) {
    for (auto& i : v.items)
      mask(i);
  }
}

}  // namespace

std::string mask_pii(std::string_view body) {
  auto doc = json::decode(body);
  if (!doc)
    return std::string(body);
  mask(*doc);
  return json::to_string(*doc);
}

std::string sha256_hex(std::string_view data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  return hex(d, sizeof d);
}

NewKey generate_api_key() {
  static constexpr char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char p[8];
  unsigned char s[32];
  if (RAND_bytes(p, sizeof p) != 1 || RAND_bytes(s, sizeof s) != 1)
    throw std::runtime_error("no randomness for an api key");
  NewKey k;
  for (unsigned char c : p)
    k.prefix.push_back(alnum[c % 36]);  // identification only: a slight bias is harmless
  k.key = "eck_" + k.prefix + "_" + base64url(s, sizeof s);
  k.sha256 = sha256_hex(k.key);
  return k;
}

std::string_view api_key_prefix(std::string_view key) {
  if (key.size() < 4 + 8 + 1 + 16 || !key.starts_with("eck_") || key[12] != '_')
    return {};
  std::string_view prefix = key.substr(4, 8);
  return domain::api_key::valid_prefix(prefix) ? prefix : std::string_view{};
}

bool Principal::can(std::string_view permission) const {
  if (permission == "me:read")
    return true;
  for (const std::string& g : grants) {
    if (perm::grant_covers(g, permission))
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The directory: users, keys and custom roles, folded from the log by a follower thread.

namespace {

struct UserRec {
  std::vector<std::string> roles;
  std::optional<std::string> team;
  std::optional<std::string> manager;
  bool active = true;
};
struct KeyRec {
  std::string id;
  std::string user_id;
  std::string sha256;
  std::optional<std::int64_t> expires_ms;
  bool revoked = false;
};

class Directory {
 public:
  void apply(const store::RecordedEvent& e) {
    std::unique_lock lock(mu_);
    principals_.clear();  // any change may change a principal: rebuilt on next use
    std::string_view cat = std::string_view(e.stream).substr(0, e.stream.find('-'));
    if (cat == domain::user::kCategory) {
      auto ev = domain::user::Aggregate::decode(e.type, e.data);
      if (!ev)
        return;
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            UserRec& u = users_[x.user_id];
            if constexpr (std::is_same_v<T, domain::user::Created>) {
              u.roles = x.roles;
              u.team = x.team_id;
              u.manager = x.manager_id;
              u.active = true;
            } else if constexpr (std::is_same_v<T, domain::user::ProfileChanged>) {
              u.team = x.team_id;
              u.manager = x.manager_id;
            } else if constexpr (std::is_same_v<T, domain::user::RoleGranted>) {
              if (std::find(u.roles.begin(), u.roles.end(), x.role) == u.roles.end())
                u.roles.push_back(x.role);
            } else if constexpr (std::is_same_v<T, domain::user::RoleRevoked>) {
              u.roles.erase(std::remove(u.roles.begin(), u.roles.end(), x.role), u.roles.end());
            } else if constexpr (std::is_same_v<T, domain::user::Deactivated>) {
              u.active = false;
            } else {
              u.active = true;
            }
          },
          *ev);
    } else if (cat == domain::api_key::kCategory) {
      auto ev = domain::api_key::Aggregate::decode(e.type, e.data);
      if (!ev)
        return;
      if (const auto* x = std::get_if<domain::api_key::Issued>(&*ev)) {
        KeyRec k{x->key_id, x->user_id, x->sha256, std::nullopt, false};
        if (x->expires_at)
          k.expires_ms = x->expires_at->ms;
        prefix_of_[x->key_id] = x->prefix;
        keys_[x->prefix] = std::move(k);
      } else if (const auto* r = std::get_if<domain::api_key::Revoked>(&*ev)) {
        auto p = prefix_of_.find(r->key_id);
        if (p != prefix_of_.end())
          keys_[p->second].revoked = true;
      }
    } else if (cat == domain::role::kCategory) {
      auto ev = domain::role::Aggregate::decode(e.type, e.data);
      if (!ev)
        return;
      std::visit([&](const auto& x) { custom_roles_[x.role] = x.permissions; }, *ev);
    }
  }

  void advance(std::uint64_t position) {
    {
      std::lock_guard lock(wait_mu_);
      position_.store(position, std::memory_order_release);
    }
    cv_.notify_all();
  }
  std::uint64_t position() const { return position_.load(std::memory_order_acquire); }
  bool wait(std::uint64_t position, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(wait_mu_);
    return cv_.wait_for(lock, timeout, [&] { return this->position() >= position; });
  }

  // The key's owner when `key` matches an active, unexpired key; else the reason it does not.
  std::optional<std::string> check_key(std::string_view key, std::string& reason,
                                       std::string& key_id) const {
    std::string_view prefix = api_key_prefix(key);
    std::string digest = sha256_hex(key);
    std::shared_lock lock(mu_);
    auto it = prefix.empty() ? keys_.end() : keys_.find(std::string(prefix));
    // Compared in constant time against the stored digest (a dummy when the prefix is unknown,
    // so timing says nothing about which prefixes exist).
    static const std::string dummy(64, '0');
    bool match = ct_equal(digest, it == keys_.end() ? dummy : it->second.sha256);
    if (it == keys_.end() || !match) {
      reason = "invalid";
      return std::nullopt;
    }
    const KeyRec& k = it->second;
    key_id = k.id;
    if (k.revoked) {
      reason = "revoked";
      return std::nullopt;
    }
    if (k.expires_ms && now_ms() >= *k.expires_ms) {
      reason = "expired";
      return std::nullopt;
    }
    return k.user_id;
  }

  // The user's principal (cached until the directory changes); null when unknown or inactive.
  std::shared_ptr<const Principal> principal(const std::string& user_id) {
    {
      std::shared_lock lock(mu_);
      auto it = principals_.find(user_id);
      if (it != principals_.end())
        return it->second;
    }
    std::unique_lock lock(mu_);
    auto u = users_.find(user_id);
    if (u == users_.end() || !u->second.active)
      return nullptr;
    auto p = std::make_shared<Principal>();
    p->user_id = user_id;
    p->roles = u->second.roles;
    bool any_all = false, any_managed = false, any_team = false;
    for (const std::string& r : p->roles) {
      if (domain::role::is_builtin(r)) {
        for (std::string_view g : perm::builtin_grants(r))
          p->grants.emplace_back(g);
        switch (perm::builtin_reach(r)) {
          case perm::Reach::all:
            any_all = true;
            break;
          case perm::Reach::managed_teams:
            any_managed = true;
            break;
          case perm::Reach::own_team:
            any_team = true;
            break;
        }
      } else if (auto c = custom_roles_.find(r); c != custom_roles_.end()) {
        p->grants.insert(p->grants.end(), c->second.begin(), c->second.end());
        any_all = true;
      }
    }
    if (any_all || (!any_managed && !any_team))
      p->reach = perm::Reach::all;
    else
      p->reach = any_managed ? perm::Reach::managed_teams : perm::Reach::own_team;
    if (u->second.team)
      p->teams.push_back(*u->second.team);
    if (p->reach == perm::Reach::managed_teams) {
      for (const auto& [id, other] : users_) {
        if (other.manager == user_id) {
          p->members.push_back(id);
          if (other.team &&
              std::find(p->teams.begin(), p->teams.end(), *other.team) == p->teams.end())
            p->teams.push_back(*other.team);
        }
      }
    }
    principals_[user_id] = p;
    return p;
  }

  std::optional<std::string> team_of(const std::string& user_id) const {
    std::shared_lock lock(mu_);
    auto it = users_.find(user_id);
    return it == users_.end() ? std::nullopt : it->second.team;
  }
  bool user_exists(std::string_view id) const {
    std::shared_lock lock(mu_);
    return users_.contains(std::string(id));
  }
  bool custom_role(std::string_view role) const {
    std::shared_lock lock(mu_);
    return custom_roles_.contains(std::string(role));
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> custom_roles() const {
    std::shared_lock lock(mu_);
    std::vector<std::pair<std::string, std::vector<std::string>>> out(custom_roles_.begin(),
                                                                      custom_roles_.end());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<Security::KeyInfo> keys(std::string_view user_id) const {
    std::shared_lock lock(mu_);
    std::vector<Security::KeyInfo> out;
    for (const auto& [prefix, k] : keys_) {
      if (user_id.empty() || k.user_id == user_id)
        out.push_back({k.id, prefix, k.user_id, k.expires_ms, k.revoked});
    }
    std::sort(out.begin(), out.end(),
              [](const Security::KeyInfo& a, const Security::KeyInfo& b) { return a.id < b.id; });
    return out;
  }
  std::size_t user_count() const {
    std::shared_lock lock(mu_);
    return users_.size();
  }

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, UserRec> users_;
  std::unordered_map<std::string, KeyRec> keys_;  // by prefix
  std::unordered_map<std::string, std::string> prefix_of_;
  std::unordered_map<std::string, std::vector<std::string>> custom_roles_;
  std::unordered_map<std::string, std::shared_ptr<const Principal>> principals_;
  std::atomic<std::uint64_t> position_{0};
  mutable std::mutex wait_mu_;
  mutable std::condition_variable cv_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Security::Impl {
  SecurityOptions options;
  JwtConfig jwt;
  bool jwt_enabled = false;
  Directory directory;
  Buckets by_address, by_principal, failures;
  std::unique_ptr<store::Subscription> sub;
  std::thread follower;
  std::atomic<bool> stopping{false};

  std::atomic<std::uint64_t> auth_ok{0};
  std::atomic<std::uint64_t> fail_missing{0}, fail_invalid{0}, fail_expired{0}, fail_revoked{0},
      fail_unknown_user{0};
  std::atomic<std::uint64_t> denied{0}, out_of_reach{0};
  std::atomic<std::uint64_t> limited_address{0}, limited_principal{0}, limited_auth{0};

  void count_failure(const std::string& reason) {
    if (reason == "missing")
      fail_missing.fetch_add(1, std::memory_order_relaxed);
    else if (reason == "expired" || reason == "not_yet_valid")
      fail_expired.fetch_add(1, std::memory_order_relaxed);
    else if (reason == "revoked")
      fail_revoked.fetch_add(1, std::memory_order_relaxed);
    else if (reason == "unknown_user")
      fail_unknown_user.fetch_add(1, std::memory_order_relaxed);
    else
      fail_invalid.fetch_add(1, std::memory_order_relaxed);
  }

  bool drain(std::chrono::milliseconds wait) {
    auto batch = sub->next(512, wait);
    if (!batch)
      return false;
    for (const auto& e : *batch)
      directory.apply(e);
    directory.advance(sub->position());
    return !batch->empty();
  }
};

Security::Security(SecurityOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

Security::~Security() {
  stop();
}

bool Security::enabled() const noexcept {
  return impl_->options.enabled;
}
const SecurityOptions& Security::options() const noexcept {
  return impl_->options;
}

bool Security::start(store::EventStore& store, std::string& error) {
  Impl& m = *impl_;
  for (const auto& o : m.options.cors_origins) {
    if (o == "*" || o.empty()) {
      error = "CORS origins must be exact origins (\"*\" is not allowed with credentials)";
      return false;
    }
  }
  if (!m.options.jwt_keys_file.empty()) {
    if (!load_jwt_config(m.options.jwt_keys_file, m.jwt, error))
      return false;
    m.jwt_enabled = true;
  }
  store::Filter filter;
  filter.categories = {std::string(domain::user::kCategory),
                       std::string(domain::api_key::kCategory),
                       std::string(domain::role::kCategory)};
  m.sub = store.subscribe(0, filter);
  // Caught up before the first request: every existing key works at once.
  // (A filtered subscription may hand back empty batches while it scans other events: go by the
  // position it has scanned to, not by what it returned.)
  std::uint64_t head = store.head();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (m.sub->position() < head && std::chrono::steady_clock::now() < deadline)
    m.drain(std::chrono::milliseconds(100));
  if (m.sub->position() < head) {
    error = "could not read the users, roles and keys from the log";
    return false;
  }
  m.directory.advance(m.sub->position());
  m.follower = std::thread([&m] {
    while (!m.stopping.load(std::memory_order_relaxed))
      m.drain(std::chrono::milliseconds(200));
  });
  return true;
}

void Security::stop() {
  impl_->stopping = true;
  if (impl_->follower.joinable())
    impl_->follower.join();
  impl_->sub.reset();
}

bool Security::bootstrap(app::CommandRunner& runner, std::string& error) {
  Impl& m = *impl_;
  if (m.directory.user_count() > 0)
    return true;
  NewKey key;
  bool generated = m.options.bootstrap_admin_key.empty();
  if (generated) {
    key = generate_api_key();
  } else {
    key.key = m.options.bootstrap_admin_key;
    key.prefix = std::string(api_key_prefix(key.key));
    if (key.prefix.empty()) {
      error =
          "EVENTCRM_BOOTSTRAP_ADMIN_KEY must look like eck_<8 of a-z0-9>_<at least 16 "
          "characters>";
      return false;
    }
    key.sha256 = sha256_hex(key.key);
  }
  app::CommandOptions options;
  options.metadata.actor = "system:bootstrap";
  options.metadata.reason = "first start: the initial administrator";
  auto user = runner.run<domain::user::Aggregate>(
      "admin",
      domain::user::Create{"Administrator", "admin@localhost.localdomain", {"admin"}, {}, {}},
      options);
  if (!user) {
    error = "cannot create the initial administrator: " + user.error().message;
    return false;
  }
  auto issued = runner.run<domain::api_key::Aggregate>(
      "bootstrap-" + key.prefix, domain::api_key::Issue{"admin", key.prefix, key.sha256, {}},
      options);
  if (!issued) {
    error = "cannot issue the initial administrator key: " + issued.error().message;
    return false;
  }
  // The key works from the first request on.
  if (!m.directory.wait(issued->position, std::chrono::seconds(10))) {
    error = "the directory did not see the initial administrator";
    return false;
  }
  if (generated) {
    // Printed once, here; the log keeps only its digest.
    std::cout << "bootstrap admin key (shown once): " << key.key << std::endl;
  }
  log::write(log::Level::info, "created the initial administrator",
             {{"user_id", "admin"}, {"key_prefix", key.prefix}});
  return true;
}

std::optional<Response> Security::preflight(const Request& req) const {
  if (req.method != Method::options || req.header("Origin").empty() ||
      req.header("Access-Control-Request-Method").empty())
    return std::nullopt;
  std::string_view origin = req.header("Origin");
  const auto& allowed = impl_->options.cors_origins;
  if (std::find(allowed.begin(), allowed.end(), origin) == allowed.end())
    return problem(errc::forbidden, "origin " + std::string(origin) + " is not allowed");
  Response r;
  r.status = 204;
  r.set_header("Access-Control-Allow-Origin", std::string(origin));
  r.set_header("Vary", "Origin");
  r.set_header("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE");
  r.set_header("Access-Control-Allow-Headers",
               "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Reason, "
               "X-Correlation-Id, X-Request-Id, X-Min-Position");
  r.set_header("Access-Control-Max-Age", "600");
  return r;
}

namespace {

Response unauthorized(std::string detail, bool token_given) {
  Response r = problem(errc::unauthorized, std::move(detail));
  r.set_header("WWW-Authenticate", token_given
                                       ? "Bearer realm=\"eventcrm\", error=\"invalid_token\""
                                       : "Bearer realm=\"eventcrm\"");
  return r;
}

// "/v1/<collection>/{param}…": the collection whose record the route addresses.
std::optional<std::string> record_collection(std::string_view pattern) {
  if (!pattern.starts_with("/v1/"))
    return std::nullopt;
  std::string_view rest = pattern.substr(4);
  auto slash = rest.find('/');
  if (slash == std::string_view::npos)
    return std::nullopt;
  std::string_view coll = rest.substr(0, slash);
  std::string_view next = rest.substr(slash + 1);
  if (!next.starts_with("{"))
    return std::nullopt;
  if (coll == "customers")
    return std::string("accounts");
  return std::string(coll);
}

constexpr std::string_view kOwnerFields[] = {"owner_id", "assignee_id", "logged_by", "created_by"};

// The stream category of a record collection's records (their streams are <category>-<id>).
std::optional<std::string_view> category_of(std::string_view collection) {
  static constexpr std::pair<std::string_view, std::string_view> kCategories[] = {
      {"accounts", domain::account::kCategory},
      {"activities", domain::activity::kCategory},
      {"appointments", domain::appointment::kCategory},
      {"campaigns", domain::campaign::kCategory},
      {"contacts", domain::contact::kCategory},
      {"contracts", domain::contract::kCategory},
      {"leads", domain::lead::kCategory},
      {"opportunities", domain::opportunity::kCategory},
      {"orders", domain::order::kCategory},
      {"products", domain::product::kCategory},
      {"quotes", domain::quote::kCategory},
      {"tasks", domain::task::kCategory},
      {"vouchers", domain::voucher::kCategory},
      {"warehouses", domain::warehouse::kCategory}};
  for (const auto& [c, category] : kCategories) {
    if (c == collection)
      return category;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Response> Security::check(Request& req, const Context& ctx, const Route& route) {
  Impl& m = *impl_;
  if (!m.options.enabled)
    return std::nullopt;
  const std::string client = client_address(req);
  if (double wait = m.by_address.take(client, m.options.address_rate, m.options.address_burst);
      wait > 0) {
    m.limited_address.fetch_add(1, std::memory_order_relaxed);
    return too_many(wait, "too many requests from this address");
  }
  auto permission = perm::required(route.method, route.pattern, m.options.exposure);
  if (!permission)
    return std::nullopt;

  std::string_view header = req.header("Authorization");
  std::string_view token;
  if (header.size() > 7 && iequals(header.substr(0, 7), "Bearer "))
    token = header.substr(7);
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  // Repeated failures from one address are slowed down before any more are tried.
  if (double wait = m.failures.take(client, m.options.auth_failure_per_minute / 60.0,
                                    m.options.auth_failure_burst, false);
      wait > 0) {
    m.limited_auth.fetch_add(1, std::memory_order_relaxed);
    return too_many(wait, "too many failed authentications from this address");
  }
  auto fail = [&](std::string reason, std::string detail) {
    m.count_failure(reason);
    m.failures.take(client, m.options.auth_failure_per_minute / 60.0, m.options.auth_failure_burst);
    log::write(log::Level::warn, "authentication failed",
               {{"request_id", req.request_id},
                {"client", client},
                {"reason", reason},
                {"path", req.path}});
    return unauthorized(std::move(detail), !token.empty());
  };
  if (token.empty())
    return fail("missing", "send Authorization: Bearer <api key or token>");

  std::string user_id, credential;
  if (token.starts_with("eck_")) {
    std::string reason, key_id;
    auto owner = m.directory.check_key(token, reason, key_id);
    if (!owner)
      return fail(reason, reason == "invalid" ? "invalid api key" : "api key " + reason);
    user_id = std::move(*owner);
    credential = "api_key:" + key_id;
  } else if (m.jwt_enabled) {
    JwtOutcome j = verify_jwt(m.jwt, token);
    if (j.user.empty())
      return fail(j.reason, "invalid token: " + j.detail);
    user_id = std::move(j.user);
    credential = "jwt:" + j.kid;
  } else {
    return fail("invalid", "invalid credentials");
  }
  auto principal = m.directory.principal(user_id);
  if (!principal)
    return fail("unknown_user", "the credential's user is unknown or deactivated");
  m.auth_ok.fetch_add(1, std::memory_order_relaxed);
  req.principal = principal->user_id;

  if (double wait =
          m.by_principal.take(user_id, m.options.principal_rate, m.options.principal_burst);
      wait > 0) {
    m.limited_principal.fetch_add(1, std::memory_order_relaxed);
    req.auth = principal;
    return too_many(wait, "too many requests for this principal");
  }
  req.auth = principal;
  if (!principal->can(*permission)) {
    m.denied.fetch_add(1, std::memory_order_relaxed);
    log::write(log::Level::warn, "permission denied",
               {{"request_id", req.request_id},
                {"principal", principal->user_id},
                {"permission", *permission},
                {"method", to_string(req.method)},
                {"path", req.path}});
    return problem(errc::forbidden, "this needs the permission " + *permission);
  }
  if (principal->reach == perm::Reach::all)
    return std::nullopt;
  // Record-level reach: a record outside it does not exist for this principal.
  auto* rt = ctx.extensions != nullptr ? ctx.extensions->projections() : nullptr;
  // Out of reach: its read model has the record and it is not within reach. A record whose
  // stream exists but whose read model has not applied it yet (created a moment ago) is waited
  // for, briefly; if it is still missing it cannot be judged: `pending` is set and the caller is
  // asked to retry, rather than let a command through unchecked.
  bool pending = false;
  auto out_of_reach = [&](const std::string& coll, const std::string& id) {
    if (rt == nullptr || !reach_applies(coll))
      return false;
    auto doc_of = [&]() -> std::optional<std::string> {
      auto view = rt->view(coll);
      return view ? (*view)->get("d/" + id) : std::nullopt;
    };
    auto doc = doc_of();
    auto category = category_of(coll);
    if (!doc && category && ctx.store != nullptr) {
      std::string stream = domain::stream_name(*category, id);
      auto version = store::valid_stream_name(stream) ? ctx.store->stream_version(stream)
                                                      : Result<std::int64_t, store::Error>(-1);
      if (version && *version >= 0) {
        // Typically a millisecond or two; bounded so a stalled read model cannot hold the
        // I/O thread.
        rt->wait_until_applied({coll}, ctx.store->head(), std::chrono::milliseconds(500));
        doc = doc_of();
        pending = pending || !doc;
      }
    }
    return doc && !in_reach(*principal, *doc);
  };
  auto catching_up = [&] {
    return not_ready("the record's read model is catching up with a recent write; retry");
  };
  auto refuse = [&](Response r) {
    m.out_of_reach.fetch_add(1, std::memory_order_relaxed);
    log::write(
        log::Level::warn, "record out of reach",
        {{"request_id", req.request_id}, {"principal", principal->user_id}, {"path", req.path}});
    return r;
  };
  if (!req.params.empty()) {
    if (auto coll = record_collection(route.pattern);
        coll && out_of_reach(*coll, req.params.front()))
      return refuse(problem(errc::not_found, "no " + *coll + " record " + req.params.front()));
    if (pending)
      return catching_up();
  }
  // A write may name other records (a task on an account): one out of reach is answered as
  // one that does not exist.
  if (req.method != Method::get && req.method != Method::head && !req.body.empty()) {
    static constexpr std::pair<std::string_view, std::string_view> kRefs[] = {
        {"account_id", "accounts"},          {"contact_id", "contacts"}, {"lead_id", "leads"},
        {"opportunity_id", "opportunities"}, {"quote_id", "quotes"},     {"order_id", "orders"},
        {"contract_id", "contracts"}};
    auto body = json::decode(req.body);
    if (body && body->is_object()) {
      for (const auto& [field, coll] : kRefs) {
        const json::Value* v = body->find(field);
        if (v != nullptr && v->is_string() && out_of_reach(std::string(coll), v->text))
          return refuse(problem(errc::validation_failed, "invalid fields",
                                {{std::string(field), "no such " + std::string(coll)}}));
      }
      if (pending)
        return catching_up();
    }
  }
  return std::nullopt;
}

bool Security::owner_in_reach(const Principal& p, std::string_view user_id) const {
  if (p.reach == perm::Reach::all || user_id == p.user_id ||
      std::find(p.members.begin(), p.members.end(), user_id) != p.members.end())
    return true;
  auto team = impl_->directory.team_of(std::string(user_id));
  return team && std::find(p.teams.begin(), p.teams.end(), *team) != p.teams.end();
}

bool Security::in_reach(const Principal& p, std::string_view doc) const {
  if (p.reach == perm::Reach::all)
    return true;
  auto parsed = json::decode(doc);
  if (!parsed || !parsed->is_object())
    return true;
  bool owned = false;  // has any owner-like field
  for (std::string_view f : kOwnerFields) {
    const json::Value* v = parsed->find(f);
    if (v == nullptr || !v->is_string())
      continue;
    owned = true;
    if (owner_in_reach(p, v->text))
      return true;
  }
  return !owned;
}

void Security::finish(const Request& req, Response& res) const {
  res.set_header("X-Content-Type-Options", "nosniff");
  if (!impl_->options.enabled)
    return;
  if (req.auth != nullptr) {
    res.set_header("Cache-Control", "no-store");
    if (!req.auth->can("pii:read") && res.status == 200 && !res.sse &&
        res.content_type.starts_with("application/json"))
      res.body = mask_pii(res.body);
  }
  std::string_view origin = req.header("Origin");
  if (!origin.empty()) {
    const auto& allowed = impl_->options.cors_origins;
    if (std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) {
      res.set_header("Access-Control-Allow-Origin", std::string(origin));
      res.set_header("Vary", "Origin");
      res.set_header("Access-Control-Expose-Headers",
                     "ETag, Location, X-Position, X-Request-Id, Retry-After");
    }
  }
}

bool Security::wait_applied(std::uint64_t position, std::chrono::milliseconds timeout) const {
  return impl_->directory.wait(position, timeout);
}

bool Security::user_exists(std::string_view id) const {
  return impl_->directory.user_exists(id);
}

bool Security::role_exists(std::string_view role) const {
  return domain::role::is_builtin(role) || impl_->directory.custom_role(role);
}

std::vector<std::pair<std::string, std::vector<std::string>>> Security::custom_roles() const {
  return impl_->directory.custom_roles();
}

std::vector<Security::KeyInfo> Security::api_keys(std::string_view user_id) const {
  return impl_->directory.keys(user_id);
}

bool Security::reach_applies(std::string_view collection) {
  return collection != "users" && collection != "roles" && collection != "api-keys";
}

void Security::metrics(std::string& out) const {
  const Impl& m = *impl_;
  out +=
      "# HELP eventcrm_auth_success_total Requests authenticated.\n"
      "# TYPE eventcrm_auth_success_total counter\n"
      "eventcrm_auth_success_total " +
      std::to_string(m.auth_ok.load()) +
      "\n# HELP eventcrm_auth_failures_total Failed authentications by reason.\n"
      "# TYPE eventcrm_auth_failures_total counter\n";
  const std::pair<const char*, const std::atomic<std::uint64_t>*> failures[] = {
      {"missing", &m.fail_missing},
      {"invalid", &m.fail_invalid},
      {"expired", &m.fail_expired},
      {"revoked", &m.fail_revoked},
      {"unknown_user", &m.fail_unknown_user}};
  for (const auto& [reason, n] : failures)
    out += std::string("eventcrm_auth_failures_total{reason=\"") + reason + "\"} " +
           std::to_string(n->load()) + "\n";
  out +=
      "# HELP eventcrm_auth_denied_total Authenticated requests refused: missing permission "
      "(forbidden) or a record out of reach (not_found).\n"
      "# TYPE eventcrm_auth_denied_total counter\n"
      "eventcrm_auth_denied_total{kind=\"forbidden\"} " +
      std::to_string(m.denied.load()) + "\neventcrm_auth_denied_total{kind=\"out_of_reach\"} " +
      std::to_string(m.out_of_reach.load()) +
      "\n# HELP eventcrm_rate_limited_total Requests answered 429 by the rate limiter.\n"
      "# TYPE eventcrm_rate_limited_total counter\n"
      "eventcrm_rate_limited_total{key=\"address\"} " +
      std::to_string(m.limited_address.load()) +
      "\neventcrm_rate_limited_total{key=\"principal\"} " +
      std::to_string(m.limited_principal.load()) +
      "\neventcrm_rate_limited_total{key=\"auth_failures\"} " +
      std::to_string(m.limited_auth.load()) + "\n";
}

}  // namespace eventcrm::api
