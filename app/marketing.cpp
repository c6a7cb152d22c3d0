// Responses and impressions appended to a campaign's activity stream; see marketing.hpp.
#include "app/marketing.hpp"

#include <unordered_map>

#include "domain/contact.hpp"
#include "domain/lead.hpp"

namespace eventcrm::app {
namespace {
namespace campaign = domain::campaign;

// One point read per distinct record, whatever the number of responses naming it.
class Existence {
 public:
  explicit Existence(store::EventStore& store) : store_(store) {}
  Result<bool> operator()(std::string_view category, const std::string& id) {
    std::string stream = domain::stream_name(category, id);
    if (auto it = seen_.find(stream); it != seen_.end())
      return it->second;
    bool exists = false;
    if (store::valid_stream_name(stream)) {
      auto v = store_.stream_version(stream);
      if (!v)
        return unexpected(CommandRunner::from_store(std::move(v).error()));
      exists = *v >= 0;
    }
    seen_.emplace(std::move(stream), exists);
    return exists;
  }

 private:
  store::EventStore& store_;
  std::unordered_map<std::string, bool> seen_;
};

}  // namespace

std::string response_event_id(std::string_view campaign_id, std::string_view response_id) {
  std::string key(campaign_id);
  key.push_back('\n');
  key.append(response_id);
  return derived_id(key, "campaign-response");
}

Result<ActivityResult> record_activity(CommandRunner& runner, std::string_view campaign_id,
                                       const campaign::ActivityCommand& command,
                                       const CommandOptions& options) {
  store::EventStore& store = runner.store();
  const std::string campaign_stream = domain::stream_name(campaign::kCategory, campaign_id);
  if (!store::valid_stream_name(campaign_stream))
    return unexpected(Error{errc::not_found, "no such campaign"});
  auto version = store.stream_version(campaign_stream);
  if (!version)
    return unexpected(CommandRunner::from_store(std::move(version).error()));
  if (*version < 0)
    return unexpected(Error{errc::not_found, "no such campaign"});

  if (const auto* r = std::get_if<campaign::RecordResponses>(&command)) {
    Existence exists(store);
    std::vector<domain::FieldError> missing;
    for (std::size_t i = 0; i < r->responses.size() && missing.size() < 100; ++i) {
      const auto& resp = r->responses[i];
      const std::string at = "responses[" + std::to_string(i) + "]";
      if (resp.contact_id && !resp.contact_id->empty()) {
        auto ok = exists(domain::contact::kCategory, *resp.contact_id);
        if (!ok)
          return unexpected(std::move(ok).error());
        if (!*ok)
          missing.push_back({at + ".contact_id", "no such contact"});
      }
      if (resp.lead_id && !resp.lead_id->empty()) {
        auto ok = exists(domain::lead::kCategory, *resp.lead_id);
        if (!ok)
          return unexpected(std::move(ok).error());
        if (!*ok)
          missing.push_back({at + ".lead_id", "no such lead"});
      }
    }
    if (!missing.empty())
      return unexpected(Error{errc::validation,
                              "the responses name records that do not exist",
                              {},
                              std::move(missing)});
  }

  auto ctx = runner.context(campaign_id, options);
  if (!ctx)
    return unexpected(std::move(ctx).error());
  auto decided = campaign::Activity::decide({}, command, *ctx);
  if (!decided)
    return unexpected(CommandRunner::from_domain(std::move(decided).error()));
  const std::size_t asked = std::holds_alternative<campaign::RecordResponses>(command)
                                ? std::get<campaign::RecordResponses>(command).responses.size()
                                : decided->size();
  std::vector<store::NewEvent> all = runner.to_new_events<campaign::Activity>(*decided, options);
  std::vector<bool> keyed(all.size(), false);
  for (std::size_t i = 0; i < decided->size(); ++i) {
    if (const auto* e = std::get_if<campaign::ResponseRecorded>(&(*decided)[i]);
        e && e->response_id) {
      all[i].id = response_event_id(campaign_id, *e->response_id);
      keyed[i] = true;
    } else if (!options.idempotency_key.empty()) {
      // A retried request under the same Idempotency-Key names the same events.
      all[i].id = derived_id(options.idempotency_key, "campaign-activity-" + std::to_string(i));
      keyed[i] = true;
    }
  }
  const std::string stream = domain::stream_name(campaign::kActivityCategory, campaign_id);
  // Leave out the responses already recorded, then append the rest. A concurrent request
  // recording one of the same ids in between makes the store refuse the append (part of it
  // already committed): look again.
  for (int attempt = 1;; ++attempt) {
    std::vector<store::NewEvent> fresh;
    fresh.reserve(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (keyed[i]) {
        auto have = store.get_event(all[i].id);
        if (have)
          continue;
        if (have.error().code != store::errc::not_found)
          return unexpected(CommandRunner::from_store(std::move(have).error()));
      }
      fresh.push_back(all[i]);
    }
    ActivityResult out;
    out.duplicates = asked - fresh.size();
    if (fresh.empty())
      return out;
    out.recorded = fresh.size();
    std::vector<store::StreamAppend> parts;
    parts.push_back({stream, store::ExpectedVersion::any(), std::move(fresh)});
    auto appended = store.append_multi(std::move(parts));
    if (appended) {
      out.position = appended->last_position;
      return out;
    }
    if (appended.error().code != store::errc::idempotency_conflict || attempt >= 3)
      return unexpected(CommandRunner::from_store(std::move(appended).error()));
  }
}

}  // namespace eventcrm::app
