// Identity claims for duplicate detection; see duplicates.hpp.
#include "app/duplicates.hpp"

#include "domain/codec.hpp"
#include "domain/normalize.hpp"

namespace eventcrm::app {
namespace {

// The claim event. Not an aggregate's event: no read model folds claim streams; they are only
// appended (no_stream) and read back to name the holder.
struct IdentityClaimed {
  std::string record;
  std::string category;
  std::string kind;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("record", s.record);
    f("category", s.category);
    f("kind", s.kind);
  }
};

Result<std::optional<std::string>> holder(store::EventStore& store, std::string_view stream) {
  auto events = store.read_stream(stream, 0, store::Direction::forward, 1);
  if (!events) {
    if (events.error().code == store::errc::not_found)
      return std::optional<std::string>{};
    return unexpected(CommandRunner::from_store(std::move(events).error()));
  }
  if (events->empty())
    return std::optional<std::string>{};
  const store::RecordedEvent& e = events->front();
  auto claim = domain::codec::decode<IdentityClaimed>(e.data);
  if (e.type != kIdentityClaimedType || !claim) {
    return unexpected(
        Error{errc::corrupted, "claim stream " + std::string(stream) + " holds " + e.type});
  }
  return std::optional<std::string>{std::move(claim->record)};
}

}  // namespace

std::vector<Identity> identities_of(const std::optional<std::string>& email,
                                    const std::optional<std::string>& phone,
                                    const std::optional<std::string>& tax_id) {
  std::vector<Identity> out;
  if (email) {
    if (auto n = domain::normalize_email(*email))
      out.push_back({"email", std::move(*n)});
  }
  if (phone) {
    if (auto n = domain::normalize_phone(*phone))
      out.push_back({"phone", std::move(*n)});
  }
  if (tax_id) {
    if (auto n = domain::normalize_tax_id(*tax_id))
      out.push_back({"tax_id", std::move(*n)});
  }
  return out;
}

std::string claim_key(std::string_view category, const Identity& identity) {
  std::string key(category);
  key += ':';
  key += identity.kind;
  key += ':';
  key += identity.value;
  return key;
}

std::string legacy_claim_stream(std::string_view category, const Identity& identity) {
  return std::string(kClaimCategory) + "-" + digest_of(claim_key(category, identity));
}

Result<std::string> claim_stream(store::EventStore& store, std::string_view category,
                                 const Identity& identity) {
  auto keyed = store.keyed_digest("identity-claims", claim_key(category, identity));
  if (keyed)
    return std::string(kClaimCategory) + "-" + *keyed;
  if (keyed.error().code == store::errc::not_found)
    return legacy_claim_stream(category, identity);
  return unexpected(CommandRunner::from_store(std::move(keyed).error()));
}

bool is_claim_stream(std::string_view stream) noexcept {
  return stream.size() > kClaimCategory.size() && stream.starts_with(kClaimCategory) &&
         stream[kClaimCategory.size()] == '-';
}

Result<std::optional<std::string>> claimant(store::EventStore& store, std::string_view category,
                                            const Identity& identity) {
  auto stream = claim_stream(store, category, identity);
  if (!stream)
    return unexpected(std::move(stream).error());
  auto who = holder(store, *stream);
  if (!who || *who)
    return who;
  std::string legacy = legacy_claim_stream(category, identity);
  if (legacy == *stream)
    return who;
  return holder(store, legacy);
}

namespace detail {

Result<std::vector<store::StreamAppend>> claim_parts(store::EventStore& store,
                                                     std::string_view category,
                                                     std::string_view record,
                                                     const std::vector<Identity>& identities,
                                                     bool force, const store::Metadata& metadata) {
  std::vector<store::StreamAppend> parts;
  for (const Identity& identity : identities) {
    auto keyed = claim_stream(store, category, identity);
    if (!keyed)
      return unexpected(std::move(keyed).error());
    std::string stream = std::move(*keyed);
    // A claim made before claims were keyed still holds the identity.
    if (std::string legacy = legacy_claim_stream(category, identity); legacy != stream) {
      auto version = store.stream_version(legacy);
      if (!version)
        return unexpected(CommandRunner::from_store(std::move(version).error()));
      if (*version >= 0) {
        if (force)
          continue;
        return unexpected(duplicate(store, category, legacy, identities));
      }
    }
    if (force) {
      auto version = store.stream_version(stream);
      if (!version)
        return unexpected(CommandRunner::from_store(std::move(version).error()));
      if (*version >= 0)
        continue;  // held by another record: a forced create leaves it there
    }
    IdentityClaimed claim{std::string(record), std::string(category), identity.kind};
    std::vector<store::NewEvent> events;
    events.push_back(store::NewEvent{"", std::string(kIdentityClaimedType),
                                     domain::codec::encode(claim), metadata});
    parts.push_back({std::move(stream), store::ExpectedVersion::no_stream(), std::move(events)});
  }
  return parts;
}

Error duplicate(store::EventStore& store, std::string_view category, std::string_view stream,
                const std::vector<Identity>& identities) {
  std::string kind = "identity";
  for (const Identity& identity : identities) {
    auto keyed = claim_stream(store, category, identity);
    if ((keyed && *keyed == stream) || legacy_claim_stream(category, identity) == stream)
      kind = identity.kind;
  }
  auto who = holder(store, stream);
  if (!who)
    return std::move(who).error();
  if (!*who)
    return Error{errc::store_failure, "the claim on this " + kind + " could not be read"};
  std::string message = "another " + std::string(category) + " has this " + kind + ": " + **who +
                        " (send \"force\": true to create anyway)";
  return Error{errc::already_exists, std::move(message), {}, {}, {}, std::move(**who)};
}

}  // namespace detail
}  // namespace eventcrm::app
