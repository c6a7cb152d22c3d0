// The read side over HTTP, shared by every collection's handlers: detail and list queries over
// a collection read model (projections/records.hpp), read-your-writes (`min_position` /
// X-Min-Position, waited for on the workers, never on an I/O thread) and X-Position.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/handlers/params.hpp"
#include "api/http.hpp"
#include "api/router.hpp"
#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {
class Runtime;
}

namespace eventcrm::api::query {

inline constexpr auto kConsistencyWait = std::chrono::milliseconds(2000);
inline constexpr std::size_t kMaxLimit = 200;
inline constexpr std::size_t kDefaultLimit = 50;

// How one collection is listed over HTTP.
struct Collection {
  std::string_view name;        // "opportunities": the path segment
  std::string_view projection;  // its read model
  const projections::records::Spec* spec = nullptr;
  std::vector<std::string_view> filters;  // query parameters matched exactly against facets
  std::vector<std::string_view> ranges;   // facets filterable by `<name>_from` / `<name>_to`
};

projections::Runtime* runtime_of(const Context& ctx);

// The read-your-writes position asked for (min_position or X-Min-Position), or a 400.
std::optional<std::uint64_t> min_position(const Request& req, params::Query& q);

// Runs `answer` once the named read models have applied `min` (at once when they have, on the
// workers otherwise, waiting at most kConsistencyWait; then 503 + Retry-After).
void when_applied(const Context& ctx, Completion done, std::vector<std::string> models,
                  std::optional<std::uint64_t> min, std::function<Response()> answer);

// GET /v1/<collection>/<id> and GET /v1/<collection>?filters&q&sort&limit&cursor.
void get(const Request& req, const Context& ctx, Completion done, const Collection& c);
void list(const Request& req, const Context& ctx, Completion done, const Collection& c);

// A consistent view of a read model; nullptr with `error` set to the answer.
std::unique_ptr<projections::View> open_view(const Context& ctx, std::string_view projection,
                                             Response& error);

}  // namespace eventcrm::api::query
