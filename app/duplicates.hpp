// Duplicate detection on create (accounts, contacts, leads), safe under concurrent creates: a
// record claims each of its identities (normalised email, phone, tax id) in the same atomic
// append that creates it, so two creates with the same email can never both succeed, whatever
// the read models have seen.
//
// A claim is a stream per identity, `uniq-<HMAC-SHA256 hex of "<category>:<kind>:<normalised>">`
// keyed with a server secret from the store's key store (EventStore::keyed_digest), holding one
// `identity.claimed.v1` {record, category, kind} event appended with ExpectedVersion::no_stream().
// The value itself is not stored, and without the secret its name cannot be recomputed from a
// guessed email, so claims carry no personal data. (A store that seals nothing, and data written
// before sealing, use the unkeyed SHA-256; such legacy claims are still honoured.) A conflict on a
// claim stream means a duplicate: its event names the record that holds it (409 already-exists
// with `existing_id`). Claims survive the erasure of their record (see README "Erasure").
//
// Claims are made at creation only and are never released: editing a record's email neither
// claims the new value nor frees the old one, and archiving keeps its claims (a later create
// with an archived record's email is still reported; `force` overrides). A forced create skips
// the check and claims only the identities nobody holds yet, so it does not take them from the
// first record. Records written by other paths (lead conversion's new contact and account) make
// no claims.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/command_runner.hpp"

namespace eventcrm::app {

// One identity of a record: its kind and normalised value (domain/normalize.hpp).
struct Identity {
  std::string kind;   // "email" | "phone" | "tax_id"
  std::string value;  // normalised
};

// The identities of some contact data; values that do not normalise are left out (the domain
// rejects them when it validates the record).
std::vector<Identity> identities_of(const std::optional<std::string>& email,
                                    const std::optional<std::string>& phone,
                                    const std::optional<std::string>& tax_id = std::nullopt);

inline constexpr std::string_view kClaimCategory = "uniq";
inline constexpr std::string_view kIdentityClaimedType = "identity.claimed.v1";

// The claim stream of an identity among the records of `category` (keyed when the store keeps
// keys), and its unkeyed legacy name.
Result<std::string> claim_stream(store::EventStore& store, std::string_view category,
                                 const Identity& identity);
std::string legacy_claim_stream(std::string_view category, const Identity& identity);
bool is_claim_stream(std::string_view stream) noexcept;

// The record holding an identity (nullopt: nobody).
Result<std::optional<std::string>> claimant(store::EventStore& store, std::string_view category,
                                            const Identity& identity);

namespace detail {
// The claim parts for a create: every identity, or with `force` only those unclaimed now.
Result<std::vector<store::StreamAppend>> claim_parts(store::EventStore& store,
                                                     std::string_view category,
                                                     std::string_view record,
                                                     const std::vector<Identity>& identities,
                                                     bool force, const store::Metadata& metadata);
// The already_exists error for a conflict on the claim stream `stream`.
Error duplicate(store::EventStore& store, std::string_view category, std::string_view stream,
                const std::vector<Identity>& identities);
}  // namespace detail

// Runs a create command against the new record `id` and claims its identities in the same
// append. errc::already_exists with `existing_id` when another record of the category holds one
// of them (unless `force`). Idempotent like CommandRunner::run.
template <domain::Aggregate A>
Result<CommandResult> create_unique(CommandRunner& runner, std::string_view id,
                                    const typename A::Command& create,
                                    const std::vector<Identity>& identities, bool force,
                                    const CommandOptions& options) {
  std::string stream = domain::stream_name(A::category, id);
  auto replayed = [&]() -> Result<std::optional<CommandResult>> {
    auto r = runner.replay(options);
    if (!r)
      return unexpected(std::move(r).error());
    if (!*r || (*r)->empty())
      return std::optional<CommandResult>{};
    CommandResult out{std::string(id), -1, (*r)->back().position};
    for (const store::RecordedEvent& e : **r) {
      if (e.stream == stream)
        out.version = e.stream_version;
    }
    return std::optional<CommandResult>{std::move(out)};
  };
  if (auto first = replayed(); !first || *first) {
    if (!first)
      return unexpected(std::move(first).error());
    return std::move(**first);
  }
  for (int attempt = 1;; ++attempt) {
    auto loaded = runner.load<A>(id);
    if (!loaded)
      return unexpected(std::move(loaded).error());
    if (options.expected_version && *options.expected_version != loaded->version) {
      return unexpected(
          Error{errc::conflict, "the record is at another version", {}, {}, loaded->version});
    }
    auto ctx = runner.context(id, options);
    if (!ctx)
      return unexpected(std::move(ctx).error());
    auto decided = A::decide(loaded->state, create, *ctx);
    if (!decided)
      return unexpected(CommandRunner::from_domain(std::move(decided).error()));
    if (decided->empty())
      return CommandResult{std::string(id), loaded->version, 0};
    auto claims =
        detail::claim_parts(runner.store(), A::category, id, identities, force, options.metadata);
    if (!claims)
      return unexpected(std::move(claims).error());
    auto expected = loaded->version < 0 ? store::ExpectedVersion::no_stream()
                                        : store::ExpectedVersion::exact(loaded->version);
    std::vector<store::StreamAppend> parts;
    parts.push_back({stream, expected, runner.to_new_events<A>(*decided, options)});
    for (auto& c : *claims)
      parts.push_back(std::move(c));
    CommandRunner::stamp(parts, options);
    auto appended = runner.store().append_multi(std::move(parts));
    if (appended) {
      return CommandResult{std::string(id), appended->streams.front().last_version,
                           appended->last_position};
    }
    if (!options.idempotency_key.empty()) {
      // A concurrent request with the same key may have won the race.
      auto again = replayed();
      if (!again)
        return unexpected(std::move(again).error());
      if (*again)
        return std::move(**again);
    }
    store::Error err = std::move(appended).error();
    bool claim_taken =
        err.code == store::errc::wrong_expected_version && is_claim_stream(err.stream);
    if (claim_taken && !force)
      return unexpected(detail::duplicate(runner.store(), A::category, err.stream, identities));
    // Forced: someone claimed an identity meanwhile; work out the unclaimed ones again.
    if (!claim_taken || attempt >= runner.options().max_attempts)
      return unexpected(CommandRunner::from_store(std::move(err)));
  }
}

}  // namespace eventcrm::app
