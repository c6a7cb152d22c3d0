// Quote acceptance as one multi-stream append.
#include "app/quote_acceptance.hpp"

#include "domain/order.hpp"
#include "domain/quote.hpp"

namespace eventcrm::app {

Result<AcceptanceResult> accept_quote(CommandRunner& runner, std::string_view quote_id,
                                      const CommandOptions& options) {
  using namespace domain;
  // A keyed acceptance that already happened: rebuild its answer from the events it wrote.
  auto replayed = [&]() -> Result<std::optional<AcceptanceResult>> {
    auto r = runner.replay(options);
    if (!r)
      return unexpected(std::move(r).error());
    if (!*r || (*r)->empty())
      return std::optional<AcceptanceResult>{};
    AcceptanceResult out;
    out.quote =
        CommandResult{std::string(quote_id), (*r)->front().stream_version, (*r)->back().position};
    for (const store::RecordedEvent& e : **r) {
      auto dash = e.stream.find('-');
      std::string_view category = std::string_view(e.stream).substr(0, dash);
      if (category == quote::kCategory)
        out.quote.version = e.stream_version;
      else if (category == order::kCategory)
        out.order_id = e.stream.substr(dash + 1);
    }
    return std::optional<AcceptanceResult>{std::move(out)};
  };
  if (auto first = replayed(); !first || *first) {
    if (!first)
      return unexpected(std::move(first).error());
    return std::move(**first);
  }
  const std::string quote_stream = stream_name(quote::kCategory, quote_id);
  for (int attempt = 1;; ++attempt) {
    auto loaded = runner.load<quote::Aggregate>(quote_id);
    if (!loaded)
      return unexpected(std::move(loaded).error());
    if (options.expected_version && *options.expected_version != loaded->version) {
      return unexpected(
          Error{errc::conflict, "the quote is at another version", {}, {}, loaded->version});
    }
    auto ctx = runner.context(quote_id, options);
    if (!ctx)
      return unexpected(std::move(ctx).error());
    // Keyed: the order id is derived from the key, so a retried request names the same order.
    std::string order_id = ctx->next_id();
    auto decided = quote::Aggregate::decide(loaded->state, quote::Accept{order_id}, *ctx);
    if (!decided)
      return unexpected(CommandRunner::from_domain(std::move(decided).error()));
    quote::State accepted = loaded->state;
    for (const quote::Event& e : *decided)
      quote::Aggregate::apply(accepted, e);
    auto created = order::from_quote(accepted, *ctx);
    if (!created)
      return unexpected(CommandRunner::from_domain(std::move(created).error()));

    std::vector<store::StreamAppend> parts;
    parts.push_back({quote_stream, store::ExpectedVersion::exact(loaded->version),
                     runner.to_new_events<quote::Aggregate>(*decided, options)});
    parts.push_back({stream_name(order::kCategory, order_id), store::ExpectedVersion::no_stream(),
                     runner.to_new_events<order::Aggregate>({*created}, options)});
    auto appended = runner.append_parts(std::move(parts), options);
    if (appended) {
      AcceptanceResult out;
      out.quote = CommandResult{std::string(quote_id), appended->streams.front().last_version,
                                appended->last_position};
      out.order_id = std::move(order_id);
      return out;
    }
    if (!options.idempotency_key.empty()) {
      auto again = replayed();  // a concurrent request with the same key may have won
      if (!again)
        return unexpected(std::move(again).error());
      if (*again)
        return std::move(**again);
    }
    Error err = std::move(appended).error();
    if (err.code != errc::conflict || options.expected_version ||
        attempt >= runner.options().max_attempts) {
      if (err.code == errc::conflict) {
        // Report the quote's version, whichever stream conflicted.
        auto now = runner.store().stream_version(quote_stream);
        err.current_version = now ? std::optional<std::int64_t>(*now) : std::nullopt;
      }
      return unexpected(std::move(err));
    }
  }
}

}  // namespace eventcrm::app
