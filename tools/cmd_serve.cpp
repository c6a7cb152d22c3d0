// `eventcrm serve`: the HTTP server. Options come from flags, then EVENTCRM_* environment
// variables, then an optional config file (`key = value` lines), in that precedence.
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "api/server.hpp"
#include "consumers/kafka_options.hpp"
#include "tools/commands.hpp"
#include "tools/serve_wiring.hpp"

namespace eventcrm::tools {

namespace {

template <class T>
bool parse_number(const std::string& s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

struct ServeState {
  api::ServerOptions opts;
  Wiring wiring;
  std::string topic_mode = "single";
  std::string content_mode = "binary";
  std::vector<std::string> kafka_config;
  std::string config;
  bool print_routes = false;
  bool print_openapi = false;
  bool print_permissions = false;
  bool from_kafka = false;
  // Option name → how a config-file value is applied (when neither flag nor env set it).
  std::map<std::string, std::function<bool(const std::string&)>> setters;
  std::map<std::string, CLI::Option*> options;
};

template <class T>
void add_value(CLI::App* cmd, ServeState& st, const std::string& name, T& target,
               const std::string& env, const std::string& help) {
  CLI::Option* opt =
      cmd->add_option("--" + name, target, help)->envname(env)->capture_default_str();
  st.options[name] = opt;
  st.setters[name] = [&target](const std::string& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      target = v;
      return true;
    } else {
      return parse_number(v, target);
    }
  };
}

void add_ms(CLI::App* cmd, ServeState& st, const std::string& name,
            std::chrono::milliseconds& target, const std::string& env, const std::string& help) {
  CLI::Option* opt = cmd->add_option_function<std::int64_t>(
      "--" + name, [&target](std::int64_t v) { target = std::chrono::milliseconds(v); }, help);
  opt->envname(env)->default_str(std::to_string(target.count()))->check(CLI::PositiveNumber);
  st.options[name] = opt;
  st.setters[name] = [&target](const std::string& v) {
    std::int64_t n = 0;
    if (!parse_number(v, n) || n <= 0)
      return false;
    target = std::chrono::milliseconds(n);
    return true;
  };
}

std::string trim(std::string s) {
  const char* ws = " \t\r";
  s.erase(0, s.find_first_not_of(ws));
  auto end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

// Applies `key = value` lines for options that flags and environment left unset.
bool apply_config(ServeState& st) {
  std::ifstream in(st.config);
  if (!in) {
    std::cerr << "cannot read config file " << st.config << "\n";
    return false;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto hash = line.find('#');
    if (hash != std::string::npos)
      line.erase(hash);
    line = trim(line);
    if (line.empty() || line.front() == '[')
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) {
      std::cerr << st.config << ":" << lineno << ": expected key = value\n";
      return false;
    }
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    for (char& c : key)
      if (c == '_')
        c = '-';
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    auto it = st.setters.find(key);
    if (it == st.setters.end()) {
      std::cerr << st.config << ":" << lineno << ": unknown option " << key << "\n";
      return false;
    }
    if (st.options[key]->count() > 0)
      continue;  // a flag or the environment wins
    if (!it->second(value)) {
      std::cerr << st.config << ":" << lineno << ": invalid value for " << key << "\n";
      return false;
    }
  }
  return true;
}

}  // namespace

void register_serve(CLI::App& app) {
  auto st = std::make_shared<ServeState>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the HTTP server");
  api::ServerOptions& o = st->opts;
  api::Limits& l = o.limits;
  cmd->add_option("--config", st->config, "Config file with `key = value` lines")
      ->envname("EVENTCRM_CONFIG");
  cmd->add_flag("--print-routes", st->print_routes, "Print every route and exit");
  cmd->add_flag("--print-openapi", st->print_openapi, "Print the OpenAPI document and exit");
  cmd->add_flag("--print-permissions", st->print_permissions,
                "Print the route permissions and the role x permission matrix (Markdown) and exit");
  add_value(cmd, *st, "address", o.address, "EVENTCRM_ADDRESS", "Listen address");
  add_value(cmd, *st, "port", o.port, "EVENTCRM_PORT", "Listen port (0: ephemeral)");
  add_value(cmd, *st, "data-dir", o.data_dir, "EVENTCRM_DATA_DIR", "Event store directory");
  add_value(cmd, *st, "io-threads", o.io_threads, "EVENTCRM_IO_THREADS",
            "I/O threads (0: twice the cores)");
  add_value(cmd, *st, "command-threads", o.command_threads, "EVENTCRM_COMMAND_THREADS",
            "threads running commands and consistency waits");
  add_value(cmd, *st, "durability", o.durability, "EVENTCRM_DURABILITY", "sync|relaxed");
  add_value(cmd, *st, "wal-spare-mb", o.wal_spare_mb, "EVENTCRM_WAL_SPARE_MB",
            "MB of zeros each WAL file is written with ahead of time, so WAL syncs write data "
            "only (0: none; sync durability only)");
  add_value(cmd, *st, "log-level", o.log_level, "EVENTCRM_LOG_LEVEL",
            "trace|debug|info|warn|error|off");
  add_value(cmd, *st, "log-format", o.log_format, "EVENTCRM_LOG_FORMAT", "text|json");
  add_value(cmd, *st, "max-body-bytes", l.max_body_bytes, "EVENTCRM_MAX_BODY_BYTES",
            "Largest request body (413 beyond)");
  add_value(cmd, *st, "max-header-bytes", l.max_header_bytes, "EVENTCRM_MAX_HEADER_BYTES",
            "Largest request header (431 beyond)");
  add_ms(cmd, *st, "request-timeout-ms", l.request_timeout, "EVENTCRM_REQUEST_TIMEOUT_MS",
         "Time to read one request (header and body)");
  add_ms(cmd, *st, "idle-timeout-ms", l.idle_timeout, "EVENTCRM_IDLE_TIMEOUT_MS",
         "Idle keep-alive timeout");
  add_ms(cmd, *st, "write-timeout-ms", l.write_timeout, "EVENTCRM_WRITE_TIMEOUT_MS",
         "Time to write one response (slow readers are dropped)");
  add_value(cmd, *st, "max-connections", l.max_connections, "EVENTCRM_MAX_CONNECTIONS",
            "Open connections at most (503 beyond)");
  add_value(cmd, *st, "max-pipelined", l.max_pipelined, "EVENTCRM_MAX_PIPELINED",
            "Pipelined requests queued per connection");
  add_value(cmd, *st, "max-page-size", l.max_page_size, "EVENTCRM_MAX_PAGE_SIZE",
            "Largest `limit` on event reads");
  add_value(cmd, *st, "max-inflight-appends", l.max_inflight_appends,
            "EVENTCRM_MAX_INFLIGHT_APPENDS", "Appends awaiting durability (429 beyond)");
  add_value(cmd, *st, "max-sse-subscribers", l.max_sse_subscribers, "EVENTCRM_MAX_SSE_SUBSCRIBERS",
            "Open SSE streams at most");
  add_ms(cmd, *st, "sse-heartbeat-ms", l.sse_heartbeat, "EVENTCRM_SSE_HEARTBEAT_MS",
         "SSE heartbeat comment interval");
  add_ms(cmd, *st, "shutdown-grace-ms", l.shutdown_grace, "EVENTCRM_SHUTDOWN_GRACE_MS",
         "Time for in-flight requests at shutdown");
  cmd->add_flag("--access-log,!--no-access-log", o.access_log, "One log line per request")
      ->envname("EVENTCRM_ACCESS_LOG");
  // Security (api/security.hpp): credentials on every route but the public ones.
  api::SecurityOptions& sec = o.security;
  cmd->add_flag("--auth,!--no-auth", sec.enabled,
                "Require credentials (--no-auth: only on a loopback address, for development "
                "and benchmarks)")
      ->envname("EVENTCRM_AUTH");
  add_value(cmd, *st, "jwt-keys-file", sec.jwt_keys_file, "EVENTCRM_JWT_KEYS_FILE",
            "JSON file with the JWT verification keys, issuer, audience and user claim");
  cmd->add_flag("--metrics-public,!--no-metrics-public", sec.exposure.metrics_public,
                "Serve /metrics without credentials")
      ->envname("EVENTCRM_METRICS_PUBLIC");
  cmd->add_flag("--openapi-public,!--no-openapi-public", sec.exposure.openapi_public,
                "Serve /openapi.json without credentials")
      ->envname("EVENTCRM_OPENAPI_PUBLIC");
  cmd->add_option("--cors-origin", sec.cors_origins,
                  "An origin allowed to call the API from a browser (repeatable)")
      ->envname("EVENTCRM_CORS_ORIGINS")
      ->delimiter(',');
  add_value(cmd, *st, "rate-limit-principal", sec.principal_rate, "EVENTCRM_RATE_LIMIT_PRINCIPAL",
            "Requests per second per principal (0: none)");
  add_value(cmd, *st, "rate-burst-principal", sec.principal_burst, "EVENTCRM_RATE_BURST_PRINCIPAL",
            "Burst per principal");
  add_value(cmd, *st, "rate-limit-address", sec.address_rate, "EVENTCRM_RATE_LIMIT_ADDRESS",
            "Requests per second per client address (0: none)");
  add_value(cmd, *st, "rate-burst-address", sec.address_burst, "EVENTCRM_RATE_BURST_ADDRESS",
            "Burst per client address");
  add_value(cmd, *st, "auth-failures-per-minute", sec.auth_failure_per_minute,
            "EVENTCRM_AUTH_FAILURES_PER_MINUTE",
            "Failed authentications allowed per client address and minute (also the burst)");
  add_value(cmd, *st, "tls-cert", o.tls_cert, "EVENTCRM_TLS_CERT",
            "PEM certificate chain: serve HTTPS");
  add_value(cmd, *st, "tls-key", o.tls_key, "EVENTCRM_TLS_KEY", "PEM private key for --tls-cert");
  Wiring& w = st->wiring;
  cmd->add_flag("--projections,!--no-projections", w.projections,
                "Run the projection workers (read models)")
      ->envname("EVENTCRM_PROJECTIONS");
  add_value(cmd, *st, "kafka-brokers", w.relay_options.kafka.brokers, "EVENTCRM_KAFKA_BROKERS",
            "Kafka bootstrap servers; set: publish every committed event (the relay)");
  add_value(cmd, *st, "kafka-topic", w.relay_options.topic, "EVENTCRM_KAFKA_TOPIC",
            "The topic (single mode) or topic prefix (per-category mode)");
  add_value(cmd, *st, "kafka-topic-mode", st->topic_mode, "EVENTCRM_KAFKA_TOPIC_MODE",
            "single (one topic) | per-category (<topic>.<category>)");
  add_value(cmd, *st, "kafka-content-mode", st->content_mode, "EVENTCRM_KAFKA_CONTENT_MODE",
            "binary (ce_* headers) | structured (CloudEvents JSON value)");
  cmd->add_flag("--read-replica", w.replica,
                "Serve queries only, from read models built from the Kafka topic (needs "
                "--from-kafka and --kafka-brokers); commands answer 421")
      ->envname("EVENTCRM_READ_REPLICA");
  cmd->add_flag("--from-kafka", st->from_kafka,
                "With --read-replica: feed the local log from the relay's topic");
  add_value(cmd, *st, "writer-url", o.writer_url, "EVENTCRM_WRITER_URL",
            "Where a read replica sends clients for commands (in its 421 answers)");
  cmd->add_flag("--kafka-inbound,!--no-kafka-inbound", w.inbound,
                "Consume the inbound topics (crm.inbound.leads, crm.inbound.interactions, "
                "crm.inbound.campaign-responses) into "
                "commands; needs --kafka-brokers")
      ->envname("EVENTCRM_KAFKA_INBOUND");
  cmd->add_option("--kafka-config", st->kafka_config,
                  "Any librdkafka property as key=value (repeatable), e.g. security.protocol=SSL");

  cmd->callback([st] {
    if (st->print_openapi) {
      std::cout << api::openapi_document() << "\n";
      exit_code() = 0;
      return;
    }
    if (st->print_permissions) {
      std::cout << api::permission_matrix();
      exit_code() = 0;
      return;
    }
    if (st->print_routes) {
      for (const std::string& r : api::route_list())
        std::cout << r << "\n";
      exit_code() = 0;
      return;
    }
    if (!st->config.empty() && !apply_config(*st)) {
      exit_code() = 2;
      return;
    }
    Wiring& wiring = st->wiring;
    wiring.data_dir = st->opts.data_dir;
    wiring.relay = !wiring.relay_options.kafka.brokers.empty();
    for (const auto& kv : st->kafka_config) {
      std::pair<std::string, std::string> prop;
      if (!consumers::parse_property(kv, prop)) {
        std::cerr << "--kafka-config wants key=value, got \"" << kv << "\"\n";
        exit_code() = 2;
        return;
      }
      wiring.relay_options.kafka.properties.push_back(std::move(prop));
    }
    if (st->topic_mode != "single" && st->topic_mode != "per-category") {
      std::cerr << "--kafka-topic-mode is single or per-category\n";
      exit_code() = 2;
      return;
    }
    if (st->content_mode != "binary" && st->content_mode != "structured") {
      std::cerr << "--kafka-content-mode is binary or structured\n";
      exit_code() = 2;
      return;
    }
    wiring.relay_options.topic_mode = st->topic_mode == "single"
                                          ? consumers::TopicMode::single
                                          : consumers::TopicMode::per_category;
    wiring.relay_options.content = st->content_mode == "binary"
                                       ? consumers::ContentMode::binary
                                       : consumers::ContentMode::structured;
    if (wiring.replica) {
      if (!st->from_kafka || !wiring.relay) {
        std::cerr << "--read-replica needs --from-kafka and --kafka-brokers\n";
        exit_code() = 2;
        return;
      }
      if (wiring.inbound) {
        std::cerr << "a read replica does not consume inbound topics (drop --kafka-inbound)\n";
        exit_code() = 2;
        return;
      }
      wiring.relay = false;  // a replica publishes nothing
      st->opts.read_replica = true;
    }
    if (wiring.inbound && !wiring.relay) {
      std::cerr << "--kafka-inbound needs --kafka-brokers\n";
      exit_code() = 2;
      return;
    }
    api::SecurityOptions& security = st->opts.security;
    security.auth_failure_burst = security.auth_failure_per_minute;
    if (const char* key = std::getenv("EVENTCRM_BOOTSTRAP_ADMIN_KEY"))
      security.bootstrap_admin_key = key;
    if (!security.enabled && st->opts.address != "127.0.0.1" && st->opts.address != "::1" &&
        st->opts.address != "localhost") {
      std::cerr << "--no-auth is only allowed on a loopback address\n";
      exit_code() = 2;
      return;
    }
    if (st->opts.tls_cert.empty() != st->opts.tls_key.empty()) {
      std::cerr << "--tls-cert and --tls-key go together\n";
      exit_code() = 2;
      return;
    }
    st->opts.extensions = make_extensions(wiring);
    exit_code() = api::run_server(st->opts);
  });
}

}  // namespace eventcrm::tools
