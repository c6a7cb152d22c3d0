// The OpenAPI 3.1 document (api/openapi.json), embedded into the binary at build time.
#pragma once

#include <string_view>

namespace eventcrm::api {
std::string_view openapi_json() noexcept;
}
