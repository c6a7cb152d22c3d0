// Structured logging for the server: spdlog underneath, text or JSON lines, one access line
// per request. Kept apart so handlers and the session log the same way.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace eventcrm::api::log {

enum class Format { text, json };
enum class Level { debug, info, warn, error };

// Configures the process-wide logger (stderr). Level names: trace|debug|info|warn|error|off.
bool setup(std::string_view level, std::string_view format);
bool enabled(Level l) noexcept;

// A message with key=value fields (values are written as JSON strings in JSON mode).
struct Field {
  std::string_view key;
  std::string_view value;
  bool number = false;
};
void write(Level l, std::string_view msg, std::initializer_list<Field> fields = {});
void flush();

}  // namespace eventcrm::api::log
