// The non-template parts of the command runner: context, error mapping, multi-stream appends.
#include "app/command_runner.hpp"

#include <openssl/sha.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>

namespace eventcrm::app {

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::not_found:
      return "not_found";
    case errc::already_exists:
      return "already_exists";
    case errc::invalid_transition:
      return "invalid_transition";
    case errc::validation:
      return "validation";
    case errc::conflict:
      return "conflict";
    case errc::store_failure:
      return "store_failure";
    case errc::corrupted:
      return "corrupted";
    case errc::idempotency_mismatch:
      return "idempotency_mismatch";
  }
  return "unknown";
}

RandomIdGenerator::RandomIdGenerator() : rng_(std::random_device{}()) {}

std::string RandomIdGenerator::next() {
  const auto now =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  std::uint64_t ms, rand_a, rand_b;
  {
    std::lock_guard lock(mu_);
    if (now > last_ms_) {
      last_ms_ = now;
      rand_a_ = rng_() & 0xFFFULL;
      rand_b_ = rng_() & ((1ULL << 62) - 1);
    } else {
      // The same millisecond (or the clock stepped back): count up from the last id by a random
      // step of up to 2^32, so the next id is not guessable from the last (RFC 9562, 6.2,
      // monotonic random).
      rand_b_ += 1 + (rng_() & 0xFFFFFFFFULL);
      if (rand_b_ >> 62) {
        rand_b_ &= (1ULL << 62) - 1;
        if (++rand_a_ > 0xFFFULL) {
          rand_a_ = 0;
          ++last_ms_;
        }
      }
    }
    ms = last_ms_;
    rand_a = rand_a_;
    rand_b = rand_b_;
  }
  std::uint64_t hi = (ms << 16) | 0x7000ULL | rand_a;  // 48-bit ms, version 7, 12 bits
  std::uint64_t lo = (0x2ULL << 62) | rand_b;          // RFC 9562 variant, 62 bits
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

namespace {
constexpr std::string_view kDigestKey = "idempotency_digest";
constexpr std::string_view kCountKey = "idempotency_events";

std::string format_uuid(std::uint64_t hi, std::uint64_t lo) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

std::string_view extra(const store::Metadata& m, std::string_view key) {
  for (const auto& [k, v] : m.extra) {
    if (k == key)
      return v;
  }
  return {};
}
}  // namespace

std::string digest_of(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char c : digest) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string derived_id(std::string_view key, std::string_view purpose) {
  std::string input = "eventcrm.idempotency";
  input.push_back('\0');
  input += key;
  input.push_back('\0');
  input += purpose;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  std::uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 8; ++i) {
    hi = (hi << 8) | digest[i];
    lo = (lo << 8) | digest[8 + i];
  }
  hi = (hi & ~0xF000ULL) | 0x8000ULL;              // version 8: custom (RFC 9562)
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);  // RFC 4122 variant
  return format_uuid(hi, lo);
}

std::string CommandRunner::new_id(const CommandOptions& options, std::string_view purpose) {
  if (options.idempotency_key.empty())
    return ids_.next();
  return derived_id(options.idempotency_key, purpose);
}

void CommandRunner::stamp(std::vector<store::StreamAppend>& parts, const CommandOptions& options) {
  if (options.idempotency_key.empty())
    return;
  std::size_t total = 0;
  for (const auto& p : parts)
    total += p.events.size();
  std::size_t i = 0;
  for (auto& p : parts) {
    for (auto& e : p.events) {
      e.id = derived_id(options.idempotency_key, "event-" + std::to_string(i++));
      e.metadata.extra.emplace_back(kDigestKey, options.request_digest);
      e.metadata.extra.emplace_back(kCountKey, std::to_string(total));
    }
  }
}

Result<std::optional<Replay>> CommandRunner::replay(const CommandOptions& options) {
  if (options.idempotency_key.empty())
    return std::optional<Replay>{};
  auto first = store_.get_event(derived_id(options.idempotency_key, "event-0"));
  if (!first) {
    if (first.error().code == store::errc::not_found)
      return std::optional<Replay>{};
    return unexpected(from_store(std::move(first).error()));
  }
  if (extra(first->metadata, kDigestKey) != options.request_digest) {
    return unexpected(Error{errc::idempotency_mismatch,
                            "this Idempotency-Key was used for a different request",
                            {},
                            {},
                            {}});
  }
  std::size_t count = 1;
  std::string_view n = extra(first->metadata, kCountKey);
  if (std::from_chars(n.data(), n.data() + n.size(), count).ec != std::errc{} || count == 0 ||
      count > 10'000)
    count = 1;
  Replay out;
  out.push_back(std::move(*first));
  for (std::size_t i = 1; i < count; ++i) {
    auto e = store_.get_event(derived_id(options.idempotency_key, "event-" + std::to_string(i)));
    if (!e)
      return unexpected(from_store(std::move(e).error()));
    out.push_back(std::move(*e));
  }
  return std::optional<Replay>{std::move(out)};
}

Result<std::optional<CommandResult>> CommandRunner::replayed(std::string_view id,
                                                             const CommandOptions& options) {
  auto r = replay(options);
  if (!r)
    return unexpected(std::move(r).error());
  if (!*r || (*r)->empty())
    return std::optional<CommandResult>{};
  const store::RecordedEvent& last = (*r)->back();
  return std::optional<CommandResult>{
      CommandResult{std::string(id), last.stream_version, last.position}};
}

CommandRunner::CommandRunner(store::EventStore& store, Clock& clock, IdGenerator& ids,
                             RunnerOptions options)
    : store_(store), clock_(clock), ids_(ids), options_(std::move(options)) {}

Result<domain::Context> CommandRunner::context(std::string_view id, const CommandOptions& options) {
  auto version = store_.stream_version(
      domain::stream_name(domain::settings::Aggregate::category, domain::settings::kGlobalId));
  if (!version)
    return unexpected(from_store(std::move(version).error()));
  domain::settings::State settings_state;
  bool cached = false;
  {
    std::lock_guard lock(settings_mu_);
    cached = *version == settings_version_;
    if (cached)
      settings_state = settings_;
  }
  if (!cached) {
    auto settings = load<domain::settings::Aggregate>(domain::settings::kGlobalId);
    if (!settings)
      return unexpected(std::move(settings).error());
    settings_state = settings->state;
    std::lock_guard lock(settings_mu_);
    if (settings->version > settings_version_) {
      settings_version_ = settings->version;
      settings_ = settings->state;
    }
  }
  domain::Context ctx;
  ctx.now = domain::Timestamp{clock_.now_ms()};
  ctx.actor = options.metadata.actor;
  ctx.id = std::string(id);
  if (options.idempotency_key.empty()) {
    ctx.new_id = [this] { return ids_.next(); };
  } else {
    // Deterministic: a retried keyed command names the same records.
    auto counter = std::make_shared<int>(0);
    ctx.new_id = [key = options.idempotency_key, counter] {
      return derived_id(key, "new-" + std::to_string((*counter)++));
    };
  }
  ctx.assignment_notifications = settings_state.assignment_notifications();
  ctx.pipeline = options_.pipeline;
  return ctx;
}

Result<store::AppendResult> CommandRunner::append_parts(std::vector<store::StreamAppend> parts,
                                                        const CommandOptions& options) {
  stamp(parts, options);
  auto r = store_.append_multi(std::move(parts));
  if (!r)
    return unexpected(from_store(std::move(r).error()));
  return std::move(*r);
}

Error CommandRunner::from_domain(domain::Error e) {
  errc code = errc::validation;
  switch (e.code) {
    case domain::errc::not_found:
      code = errc::not_found;
      break;
    case domain::errc::already_exists:
      code = errc::already_exists;
      break;
    case domain::errc::invalid_transition:
      code = errc::invalid_transition;
      break;
    case domain::errc::validation:
      code = errc::validation;
      break;
    case domain::errc::conflict:
      code = errc::conflict;
      break;
  }
  return Error{code, std::move(e.message), std::move(e.allowed), std::move(e.fields), {}};
}

Error CommandRunner::from_store(store::Error e) {
  switch (e.code) {
    case store::errc::wrong_expected_version:
      return Error{errc::conflict, std::move(e.message), {}, {}, e.current_version};
    case store::errc::not_found:
    case store::errc::invalid_stream_name:
      return Error{errc::not_found, std::move(e.message), {}, {}, {}};
    case store::errc::event_too_large:
    case store::errc::batch_too_large:
      return Error{errc::validation, std::move(e.message), {}, {}, {}};
    case store::errc::corrupted:
      return Error{errc::corrupted, std::move(e.message), {}, {}, {}};
    default:
      return Error{errc::store_failure,
                   std::string(store::to_string(e.code)) + ": " + std::move(e.message),
                   {},
                   {},
                   {}};
  }
}

}  // namespace eventcrm::app
