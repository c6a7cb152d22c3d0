// Structured log lines on spdlog.
#include "api/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "api/json.hpp"

namespace eventcrm::api::log {

namespace {
Format g_format = Format::text;

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warn:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}
}  // namespace

bool setup(std::string_view level, std::string_view format) {
  if (format == "json")
    g_format = Format::json;
  else if (format == "text")
    g_format = Format::text;
  else
    return false;
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off")
    return false;
  auto logger = spdlog::stderr_logger_mt("eventcrm");
  logger->set_level(lvl);
  if (g_format == Format::json)
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                        spdlog::pattern_time_type::utc);
  else
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  return true;
}

bool enabled(Level l) noexcept {
  return spdlog::default_logger_raw()->should_log(to_spd(l));
}

void write(Level l, std::string_view msg, std::initializer_list<Field> fields) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(to_spd(l)))
    return;
  std::string line;
  line.reserve(128);
  if (g_format == Format::json) {
    line += "\"msg\":";
    json::write_string(line, msg);
    for (const Field& f : fields) {
      line.push_back(',');
      json::write_string(line, f.key);
      line.push_back(':');
      if (f.number)
        line += f.value;
      else
        json::write_string(line, f.value);
    }
  } else {
    line += msg;
    for (const Field& f : fields) {
      line.push_back(' ');
      line += f.key;
      line.push_back('=');
      bool quote = f.value.empty() || f.value.find(' ') != std::string_view::npos;
      if (quote)
        json::write_string(line, f.value);
      else
        line += f.value;
    }
  }
  logger->log(to_spd(l), "{}", line);
}

void flush() {
  spdlog::default_logger_raw()->flush();
}

}  // namespace eventcrm::api::log
