// `POST /v1/<collection>/{id}/forget` for the collections whose records are data subjects
// (contacts, leads, accounts that are persons): the erasure (app/forget.hpp), then the read models
// apply the forgotten event and their files are compacted, so no old value survives there either.
// Include from api/handlers/*.cpp only.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "api/handlers/command.hpp"
#include "api/server.hpp"
#include "app/forget.hpp"
#include "projections/runtime.hpp"

namespace eventcrm::api::command {

template <class A>
void forget(const Request& req, const Context& ctx, Completion done, typename A::Command cmd,
            std::string_view collection) {
  json::Value body;
  if (auto bad = parse_object(req, body))
    return done(std::move(*bad));
  Fields f(body, {});
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = read_envelope(req, &body, options))
    return done(std::move(*bad));
  const Context* context = &ctx;
  submit(ctx, std::move(done),
         [context, id = req.params.at(0), cmd = std::move(cmd), options = std::move(options),
          collection]() -> Response {
           auto r = app::forget<A>(*context->commands, id, cmd, options);
           if (!r)
             return from_app_error(r.error());
           projections::Runtime* models =
               context->extensions != nullptr ? context->extensions->projections() : nullptr;
           if (models != nullptr) {
             // Every read model rewrites what it held of the subject when it applies the
             // forgotten event; only then does a compaction drop the old rows' bytes.
             if (!models->wait_until_applied({}, r->position, std::chrono::seconds(30))) {
               std::string failed;
               for (const auto& s : models->status()) {
                 if (s.state == projections::State::failed)
                   failed += (failed.empty() ? "" : ", ") + s.name;
               }
               return problem(errc::unavailable,
                              "the erasure is recorded and the key destroyed, but the read models "
                              "have not all applied it yet" +
                                  (failed.empty() ? std::string() : " (failed: " + failed + ")") +
                                  "; retry (forget is idempotent)");
             }
             if (auto compacted = models->compact(); !compacted) {
               return problem(errc::unavailable,
                              "the erasure is recorded and the key destroyed, "
                              "but the read models could not be compacted (" +
                                  compacted.error().message + "); retry");
             }
           }
           return result(*r, collection, false);
         });
}

}  // namespace eventcrm::api::command
