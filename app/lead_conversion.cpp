// Lead conversion as one multi-stream append.
#include "app/lead_conversion.hpp"

namespace eventcrm::app {

Result<ConversionResult> convert_lead(CommandRunner& runner, std::string_view lead_id,
                                      const domain::lead::Convert& command,
                                      const CommandOptions& options) {
  using namespace domain;
  // A keyed conversion that already happened: rebuild its answer from the events it wrote.
  auto replayed = [&]() -> Result<std::optional<ConversionResult>> {
    auto r = runner.replay(options);
    if (!r)
      return unexpected(std::move(r).error());
    if (!*r || (*r)->empty())
      return std::optional<ConversionResult>{};
    ConversionResult out;
    out.lead =
        CommandResult{std::string(lead_id), (*r)->front().stream_version, (*r)->back().position};
    for (const store::RecordedEvent& e : **r) {
      auto dash = e.stream.find('-');
      std::string_view category = std::string_view(e.stream).substr(0, dash);
      std::string id = e.stream.substr(dash + 1);
      if (category == lead::kCategory) {
        out.lead.version = e.stream_version;
      } else if (category == account::kCategory) {
        out.account_id = id;
        out.account_created = true;
      } else if (category == contact::kCategory) {
        out.contact_id = id;
      } else if (category == opportunity::kCategory) {
        out.opportunity_id = id;
      }
    }
    if (out.account_id.empty() && command.account_id)
      out.account_id = *command.account_id;
    return std::optional<ConversionResult>{std::move(out)};
  };
  if (auto first = replayed(); !first || *first) {
    if (!first)
      return unexpected(std::move(first).error());
    return std::move(**first);
  }
  for (int attempt = 1;; ++attempt) {
    auto lead = runner.load<lead::Aggregate>(lead_id);
    if (!lead)
      return unexpected(std::move(lead).error());
    if (options.expected_version && *options.expected_version != lead->version) {
      return unexpected(
          Error{errc::conflict, "the lead is at another version", {}, {}, lead->version});
    }
    std::optional<Loaded<account::State>> existing;
    if (command.account_id) {
      auto acc = runner.load<account::Aggregate>(*command.account_id);
      if (!acc && acc.error().code != errc::not_found)
        return unexpected(std::move(acc).error());
      if (acc)
        existing = std::move(*acc);
    }
    auto ctx = runner.context(lead_id, options);
    if (!ctx)
      return unexpected(std::move(ctx).error());
    auto decided =
        lead::decide_conversion(lead->state, existing ? &existing->state : nullptr, command, *ctx);
    if (!decided)
      return unexpected(CommandRunner::from_domain(std::move(decided).error()));

    std::vector<store::StreamAppend> parts;
    parts.push_back({stream_name(lead::kCategory, lead_id),
                     store::ExpectedVersion::exact(lead->version),
                     runner.to_new_events<lead::Aggregate>(decided->lead_events, options)});
    if (decided->account) {
      parts.push_back({stream_name(account::kCategory, decided->account_id),
                       store::ExpectedVersion::no_stream(),
                       runner.to_new_events<account::Aggregate>({*decided->account}, options)});
    }
    parts.push_back({stream_name(contact::kCategory, decided->contact_id),
                     store::ExpectedVersion::no_stream(),
                     runner.to_new_events<contact::Aggregate>({decided->contact}, options)});
    parts.push_back(
        {stream_name(opportunity::kCategory, decided->opportunity_id),
         store::ExpectedVersion::no_stream(),
         runner.to_new_events<opportunity::Aggregate>(decided->opportunity_events, options)});
    auto appended = runner.append_parts(std::move(parts), options);
    if (!appended && !options.idempotency_key.empty()) {
      auto again = replayed();  // a concurrent request with the same key may have won
      if (!again)
        return unexpected(std::move(again).error());
      if (*again)
        return std::move(**again);
    }
    if (appended) {
      ConversionResult out;
      out.lead = CommandResult{std::string(lead_id), appended->streams.front().last_version,
                               appended->last_position};
      out.account_id = decided->account_id;
      out.account_created = decided->account.has_value();
      out.contact_id = decided->contact_id;
      out.opportunity_id = decided->opportunity_id;
      return out;
    }
    Error err = std::move(appended).error();
    if (err.code == errc::conflict && err.current_version) {
      err.current_version = std::nullopt;  // the version is the lead's only when it conflicted
    }
    if (err.code != errc::conflict || options.expected_version ||
        attempt >= runner.options().max_attempts) {
      if (err.code == errc::conflict) {
        auto now = runner.store().stream_version(stream_name(lead::kCategory, lead_id));
        if (now)
          err.current_version = *now;
      }
      return unexpected(std::move(err));
    }
  }
}

}  // namespace eventcrm::app
