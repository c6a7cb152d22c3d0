// API key decisions: issue (digest only) and revoke.
#include "domain/api_key.hpp"

#include <algorithm>

#include "domain/codec.hpp"

namespace eventcrm::domain::api_key {
namespace {
using Events = std::vector<Event>;

bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
}  // namespace

bool valid_prefix(std::string_view prefix) {
  return prefix.size() == 8 && std::all_of(prefix.begin(), prefix.end(), lower_alnum);
}

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Issued& x) {
                   s.status = Status::active;
                   s.id = x.key_id;
                   s.user_id = x.user_id;
                 },
                 [&](const Revoked&) { s.status = Status::revoked; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Issue>(&cmd)) {
    if (s.status != Status::none)
      return fail(errc::already_exists, "api key already exists");
    Validation v;
    v.require(!c->user_id.empty(), "user_id", "required");
    v.require(valid_prefix(c->prefix), "prefix", "must be 8 of a-z and 0-9");
    v.require(c->sha256.size() == 64 &&
                  std::all_of(c->sha256.begin(), c->sha256.end(),
                              [](char ch) { return lower_alnum(ch) && (ch <= '9' || ch <= 'f'); }),
              "sha256", "must be 64 lower-case hex digits");
    if (c->expires_at)
      v.require(*c->expires_at > ctx.now, "expires_at", "must be in the future");
    if (!v.ok())
      return v.error();
    return Events{
        Issued{ctx.id, c->user_id, c->prefix, c->sha256, c->expires_at, ctx.actor, ctx.now}};
  }
  if (s.status == Status::none)
    return fail(errc::not_found, "no such api key");
  // Revoking twice changes nothing and is not an error: the caller's intent holds.
  if (s.status == Status::revoked)
    return Events{};
  return Events{Revoked{s.id, s.user_id, ctx.actor, ctx.now}};
}

std::string Aggregate::encode(const Event& e) {
  return codec::encode_event(e);
}
Result<Event> Aggregate::decode(std::string_view type, std::string_view json) {
  return codec::decode_event<Event>(type, json);
}
std::string_view Aggregate::type_of(const Event& e) {
  return codec::type_of(e);
}
std::vector<std::string_view> Aggregate::event_types() {
  return codec::event_types<Event>();
}

}  // namespace eventcrm::domain::api_key
