// The non-template parts of the command runner: context, error mapping, multi-stream appends.
#include "app/command_runner.hpp"

#include <cstdio>

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
  }
  return "unknown";
}

RandomIdGenerator::RandomIdGenerator() : rng_(std::random_device{}()) {}

std::string RandomIdGenerator::next() {
  std::uint64_t hi, lo;
  {
    std::lock_guard lock(mu_);
    hi = rng_();
    lo = rng_();
  }
  hi = (hi & ~0xF000ULL) | 0x4000ULL;              // version 4
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);  // RFC 4122 variant
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

CommandRunner::CommandRunner(store::EventStore& store, Clock& clock, IdGenerator& ids,
                             RunnerOptions options)
    : store_(store), clock_(clock), ids_(ids), options_(std::move(options)) {}

Result<domain::Context> CommandRunner::context(std::string_view id, const CommandOptions& options) {
  auto settings = load<domain::settings::Aggregate>(domain::settings::kGlobalId);
  if (!settings)
    return unexpected(std::move(settings).error());
  domain::Context ctx;
  ctx.now = domain::Timestamp{clock_.now_ms()};
  ctx.actor = options.metadata.actor;
  ctx.id = std::string(id);
  ctx.new_id = [this] { return ids_.next(); };
  ctx.assignment_notifications = settings->state.assignment_notifications();
  ctx.pipeline = options_.pipeline;
  return ctx;
}

Result<store::AppendResult> CommandRunner::append_parts(std::vector<store::StreamAppend> parts) {
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
