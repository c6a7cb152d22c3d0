// Contract decisions.
#include "domain/contract.hpp"

#include <algorithm>

#include "domain/codec.hpp"

namespace eventcrm::domain::contract {
namespace {
using Events = std::vector<Event>;

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}
}  // namespace

void Aggregate::apply(State& s, const Event& e) {
  std::visit(codec::overloaded{
                 [&](const Created& x) {
                   s.status = Status::active;
                   s.id = x.contract_id;
                   s.account_id = x.account_id;
                   s.start_date = x.start_date;
                   s.end_date = x.end_date;
                   s.renewal_date = x.renewal_date;
                 },
                 [&](const DocumentAttached& x) { s.document_hashes.push_back(x.sha256); },
                 [&](const Renewed& x) {
                   s.end_date = x.end_date;
                   s.renewal_date = x.renewal_date;
                 },
                 [&](const Terminated&) { s.status = Status::terminated; },
             },
             e);
}

Result<std::vector<Event>> Aggregate::decide(const State& s, const Command& cmd,
                                             const Context& ctx) {
  if (const auto* c = std::get_if<Create>(&cmd)) {
    if (s.status != Status::none)
      return fail(errc::already_exists, "contract already exists");
    Validation v;
    v.require(!c->account_id.empty(), "account_id", "required");
    v.require(!c->title.empty(), "title", "required");
    v.require(c->start_date.has_value(), "start_date", "required");
    v.require(c->end_date.has_value(), "end_date", "required");
    if (c->start_date && c->end_date) {
      v.require(*c->end_date > *c->start_date, "end_date", "must be after start_date");
      if (c->renewal_date) {
        v.require(*c->renewal_date <= *c->end_date, "renewal_date", "must not be after end_date");
      }
    }
    if (c->value) {
      v.require(c->value->amount >= Decimal{} && valid_currency(c->value->currency), "value",
                "a non-negative amount in an ISO 4217 currency");
    }
    if (!v.ok())
      return v.error();
    return Events{Created{ctx.id, c->account_id, c->order_id, c->title, *c->start_date,
                          *c->end_date, c->renewal_date, c->value, ctx.actor, ctx.now}};
  }
  if (s.status == Status::none)
    return fail(errc::not_found, "no such contract");
  if (s.status == Status::terminated)
    return invalid_transition("the contract is terminated", {});
  return std::visit(
      codec::overloaded{
          [&](const AttachDocument& c) -> Result<Events> {
            Validation v;
            v.require(!c.file_name.empty(), "file_name", "required");
            v.require(!c.media_type.empty(), "media_type", "required");
            v.require(c.size_bytes >= 0, "size_bytes", "must not be negative");
            v.require(is_sha256_hex(c.sha256), "sha256", "64 lowercase hex digits");
            if (!v.ok())
              return v.error();
            if (std::find(s.document_hashes.begin(), s.document_hashes.end(), c.sha256) !=
                s.document_hashes.end()) {
              return fail(errc::already_exists, "this document is already attached");
            }
            return Events{DocumentAttached{s.id, s.account_id, ctx.next_id(), c.file_name,
                                           c.media_type, c.size_bytes, c.sha256}};
          },
          [&](const Renew& c) -> Result<Events> {
            Validation v;
            v.require(c.end_date > s.end_date, "end_date", "must be after the current end date");
            if (c.renewal_date) {
              v.require(*c.renewal_date <= c.end_date, "renewal_date",
                        "must not be after end_date");
            }
            if (!v.ok())
              return v.error();
            return Events{Renewed{s.id, s.account_id, s.end_date, c.end_date, c.renewal_date}};
          },
          [&](const Terminate& c) -> Result<Events> {
            Validation v;
            v.require(!c.reason.empty(), "reason", "required");
            if (!v.ok())
              return v.error();
            return Events{Terminated{s.id, s.account_id, c.reason, ctx.now.date()}};
          },
          [&](const Create&) -> Result<Events> { return fail(errc::already_exists, "exists"); },
      },
      cmd);
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

}  // namespace eventcrm::domain::contract
