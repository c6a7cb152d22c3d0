// Prometheus exposition of request counters, latency histograms and the store's statistics.
#include "api/metrics.hpp"

#include <charconv>
#include <cstdio>

#include "eventstore/stats.hpp"

namespace eventcrm::api {

namespace {

constexpr std::array<int, 20> kStatuses{200, 201, 204, 206, 304, 400, 401, 403, 404, 405,
                                        406, 408, 409, 413, 415, 422, 429, 431, 500, 503};
constexpr std::size_t kSlots = kStatuses.size() + 1;  // last: any other status
constexpr std::array<double, 16> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};

std::size_t slot_of(int status) noexcept {
  for (std::size_t i = 0; i < kStatuses.size(); ++i)
    if (kStatuses[i] == status)
      return i;
  return kStatuses.size();
}

void append_double(std::string& out, double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc{})
    return out.push_back('0');
  out.append(buf, end);
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out.push_back(' ');
  out += help;
  out += "\n# TYPE ";
  out += name;
  out.push_back(' ');
  out += type;
  out.push_back('\n');
}

template <class T>
void sample(std::string& out, const char* name, T value) {
  out += name;
  out.push_back(' ');
  if constexpr (std::is_floating_point_v<T>)
    append_double(out, value);
  else
    out += std::to_string(value);
  out.push_back('\n');
}

// A metric with one sample: its HELP and TYPE lines, then the value.
template <class T>
void metric(std::string& out, const char* name, const char* type, const char* help, T value) {
  header(out, name, type, help);
  sample(out, name, value);
}

template <std::size_t N>
void store_histogram(std::string& out, const char* name, const char* help,
                     const store::Histogram<N>& h) {
  header(out, name, "histogram", help);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < N; ++i) {
    cumulative += h.counts[i].load(std::memory_order_relaxed);
    out += name;
    out += "_bucket{le=\"";
    append_double(out, h.bounds[i]);
    out += "\"} ";
    out += std::to_string(cumulative);
    out.push_back('\n');
  }
  cumulative += h.counts[N].load(std::memory_order_relaxed);
  out += name;
  out += "_bucket{le=\"+Inf\"} ";
  out += std::to_string(cumulative);
  out.push_back('\n');
  out += name;
  out += "_sum ";
  append_double(out, h.sum.load(std::memory_order_relaxed));
  out.push_back('\n');
  out += name;
  out += "_count ";
  out += std::to_string(cumulative);
  out.push_back('\n');
}

}  // namespace

struct Metrics::Series {
  std::atomic<std::uint64_t> count{0};
  std::atomic<double> sum{0.0};
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets{};
};

Metrics::Metrics(std::vector<std::string> route_labels) : labels_(std::move(route_labels)) {
  labels_.emplace_back("unmatched");
  series_.reserve(labels_.size());
  for (std::size_t i = 0; i < labels_.size(); ++i)
    series_.push_back(std::make_unique<Series[]>(kSlots));
  last_time_ = std::chrono::steady_clock::now();
}

Metrics::~Metrics() = default;

void Metrics::record(int route, int status, double seconds) noexcept {
  std::size_t r = route < 0 || static_cast<std::size_t>(route) >= labels_.size() - 1
                      ? labels_.size() - 1
                      : static_cast<std::size_t>(route);
  Series& s = series_[r][slot_of(status)];
  std::size_t b = 0;
  while (b < kBounds.size() && seconds > kBounds[b])
    ++b;
  s.buckets[b].fetch_add(1, std::memory_order_relaxed);
  s.count.fetch_add(1, std::memory_order_relaxed);
  double cur = s.sum.load(std::memory_order_relaxed);
  while (!s.sum.compare_exchange_weak(cur, cur + seconds, std::memory_order_relaxed)) {
  }
}

std::string Metrics::render(const store::StoreStats* stats, std::uint64_t head) {
  std::string out;
  out.reserve(16 << 10);

  header(out, "eventcrm_http_requests_total", "counter", "HTTP requests by route and status.");
  for (std::size_t r = 0; r < labels_.size(); ++r) {
    for (std::size_t k = 0; k < kSlots; ++k) {
      std::uint64_t n = series_[r][k].count.load(std::memory_order_relaxed);
      if (n == 0)
        continue;
      out += "eventcrm_http_requests_total{route=\"";
      append_label_value(out, labels_[r]);
      out += "\",status=\"";
      out += k < kStatuses.size() ? std::to_string(kStatuses[k]) : std::string("other");
      out += "\"} ";
      out += std::to_string(n);
      out.push_back('\n');
    }
  }

  header(out, "eventcrm_http_request_duration_seconds", "histogram",
         "HTTP request latency from a complete request to a ready response.");
  for (std::size_t r = 0; r < labels_.size(); ++r) {
    for (std::size_t k = 0; k < kSlots; ++k) {
      Series& s = series_[r][k];
      if (s.count.load(std::memory_order_relaxed) == 0)
        continue;
      std::string labels = "route=\"";
      append_label_value(labels, labels_[r]);
      labels += "\",status=\"";
      labels += k < kStatuses.size() ? std::to_string(kStatuses[k]) : std::string("other");
      labels += "\"";
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b <= kBounds.size(); ++b) {
        cumulative += s.buckets[b].load(std::memory_order_relaxed);
        out += "eventcrm_http_request_duration_seconds_bucket{";
        out += labels;
        out += ",le=\"";
        if (b < kBounds.size())
          append_double(out, kBounds[b]);
        else
          out += "+Inf";
        out += "\"} ";
        out += std::to_string(cumulative);
        out.push_back('\n');
      }
      out += "eventcrm_http_request_duration_seconds_sum{" + labels + "} ";
      append_double(out, s.sum.load(std::memory_order_relaxed));
      out += "\neventcrm_http_request_duration_seconds_count{" + labels + "} ";
      out += std::to_string(cumulative);
      out.push_back('\n');
    }
  }

  metric(out, "eventcrm_http_open_connections", "gauge", "Open HTTP connections.",
         open_connections.load());
  metric(out, "eventcrm_http_connections_total", "counter", "Accepted HTTP connections.",
         connections_total.load());
  metric(out, "eventcrm_http_connections_rejected_total", "counter",
         "Connections refused because the connection limit was reached.",
         connections_rejected.load());
  metric(out, "eventcrm_sse_subscribers", "gauge", "Open Server-Sent Events streams.",
         sse_subscribers.load());
  metric(out, "eventcrm_sse_dropped_total", "counter",
         "SSE clients dropped for reading too slowly.", sse_dropped.load());
  metric(out, "eventcrm_sse_events_sent_total", "counter", "Events sent over SSE.",
         sse_events_sent.load());
  metric(out, "eventcrm_http_appends_total", "counter", "Successful appends through the API.",
         appends.load());
  metric(out, "eventcrm_http_appended_events_total", "counter", "Events appended through the API.",
         appended_events.load());

  metric(out, "eventcrm_store_head_position", "gauge", "Position of the last committed event.",
         head);
  if (stats != nullptr) {
    std::uint64_t written = stats->events_written.load(std::memory_order_relaxed);
    double rate;
    {
      std::lock_guard lock(rate_mu_);
      auto now = std::chrono::steady_clock::now();
      double dt = std::chrono::duration<double>(now - last_time_).count();
      if (dt >= 1.0 || last_events_ == 0) {
        last_rate_ = dt > 0 ? static_cast<double>(written - last_events_) / dt : 0.0;
        last_events_ = written;
        last_time_ = now;
      }
      rate = last_rate_;
    }
    metric(out, "eventcrm_store_appends_total", "counter", "Successful store appends.",
           stats->appends.load());
    metric(out, "eventcrm_store_append_failures_total", "counter", "Rejected store appends.",
           stats->append_failures.load());
    metric(out, "eventcrm_store_events_written_total", "counter", "Events written to the log.",
           written);
    metric(out, "eventcrm_store_events_per_second", "gauge",
           "Events written per second since the previous scrape.", rate);
    metric(out, "eventcrm_store_commits_total", "counter", "Group commits.", stats->commits.load());
    metric(out, "eventcrm_store_writes_stopped", "gauge",
           "1 when a failed WAL write or sync stopped the store taking writes (restart).",
           stats->writes_stopped.load() ? 1 : 0);
    metric(out, "eventcrm_store_wal_syncs_total", "counter",
           "WAL syncs (each makes one or more group commits durable).", stats->syncs.load());
    header(out, "eventcrm_store_log_reads_total", "counter",
           "Pages of the global log read (subscriptions, the relay, HTTP), by where from: the "
           "in-memory tail of recent commits or RocksDB.");
    sample(out, "eventcrm_store_log_reads_total{source=\"tail\"}", stats->log_reads_tail.load());
    sample(out, "eventcrm_store_log_reads_total{source=\"disk\"}", stats->log_reads_disk.load());
    metric(out, "eventcrm_store_tail_bytes", "gauge",
           "Bytes of recently committed batches kept in memory for live readers.",
           stats->tail_bytes.load());
    metric(out, "eventcrm_store_wal_spares_used_total", "counter",
           "WAL files made from a zero-filled spare (WAL syncs then write data only).",
           stats->wal_spares_used.load());
    metric(out, "eventcrm_store_recovery_dropped_events", "gauge",
           "Unacknowledged events not replayed at the last open because the WAL lacked records "
           "before them (lost in a power cut); 0 normally.",
           stats->recovery_dropped_events.load());
    store_histogram(out, "eventcrm_store_group_commit_events", "Events per group commit.",
                    stats->batch_events);
    store_histogram(out, "eventcrm_store_write_seconds",
                    "Seconds from a group's log write to its durability (WAL fsync in sync mode).",
                    stats->write_seconds);
    store_histogram(out, "eventcrm_store_wal_sync_seconds", "Seconds each WAL sync took.",
                    stats->sync_seconds);
  }
  return out;
}

}  // namespace eventcrm::api
