// The network side of the API on Boost.Beast: listener, HTTP session (keep-alive, ordered
// pipelining, limits, timeouts), the SSE stream and graceful shutdown. Kept in one
// translation unit so Beast/Asio templates are compiled once.
#include "api/server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "api/log.hpp"
#include "api/metrics.hpp"
#include "api/openapi_doc.hpp"
#include "api/problem.hpp"
#include "api/router.hpp"
#include "api/workers.hpp"
#include "app/command_runner.hpp"
#include "common/thread_name.hpp"
#include "domain/registry.hpp"
#include "eventstore/cloudevents.hpp"
#include "eventstore/store.hpp"

namespace eventcrm::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// What the registry and shutdown need of a session, whatever its transport (TCP or TLS).
// Sessions and sockets use their io_context's executor type directly: the type-erased
// any_io_executor costs a copy and a destroy per handler on the hottest path.
using IoExecutor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, IoExecutor>;
using PlainStream = beast::basic_stream<tcp, IoExecutor, beast::unlimited_rate_policy>;
using TlsStream = beast::ssl_stream<PlainStream>;

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  virtual void drain() = 0;
  virtual void wake() = 0;
  virtual net::any_io_executor executor() = 0;
};

// State shared by the listener and every session; outlives the io_context.
struct Shared {
  Router router = make_router();
  std::vector<std::string> labels;
  std::unique_ptr<Metrics> metrics;
  Context ctx;
  Limits limits;
  bool access_log = true;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> inflight_appends{0};
  std::atomic<std::size_t> sse_subscribers{0};
  std::string id_prefix;
  std::atomic<std::uint64_t> next_id{0};

  std::mutex mu;  // guards the two registries
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sse_sessions;
  std::unique_ptr<net::ssl::context> tls;  // set: sessions speak TLS (--tls-cert/--tls-key)

  std::string new_request_id() {
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t n = next_id.fetch_add(1, std::memory_order_relaxed) + 1;
    std::string id = id_prefix;
    id.push_back('-');
    std::size_t at = id.size();
    id.resize(at + 10);
    for (int k = 9; k >= 0; --k, n >>= 4)
      id[at + static_cast<std::size_t>(k)] = hex[n & 0xF];
    return id;
  }
};

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128)
    return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok)
      return false;
  }
  return true;
}

template <class Stream>
class Session final : public SessionBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, PlainStream>;

  // `extra`: the TLS context for an ssl_stream.
  template <class... Extra>
  Session(Socket&& socket, Shared& sh, Extra&... extra)
      : stream_(std::move(socket), extra...), sh_(sh) {
    beast::error_code peer_ec;
    auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(peer_ec);
    if (!peer_ec)
      peer_ = peer.address().to_string();
    sh_.metrics->open_connections.fetch_add(1, std::memory_order_relaxed);
    sh_.metrics->connections_total.fetch_add(1, std::memory_order_relaxed);
  }

  ~Session() {
    sh_.metrics->open_connections.fetch_sub(1, std::memory_order_relaxed);
    if (sse_) {
      sh_.sse_subscribers.fetch_sub(1, std::memory_order_relaxed);
      sh_.metrics->sse_subscribers.fetch_sub(1, std::memory_order_relaxed);
    }
    std::lock_guard lock(sh_.mu);
    sh_.sessions.erase(this);
    sh_.sse_sessions.erase(this);
  }

  void start() {
    {
      std::lock_guard lock(sh_.mu);
      sh_.sessions.emplace(this, weak_from_this());
    }
    if constexpr (kTls) {
      net::dispatch(stream_.get_executor(), [self = self()] { self->handshake(); });
    } else {
      net::dispatch(stream_.get_executor(), [self = self()] { self->do_read(); });
    }
  }

  // Shutdown: finish what is in flight, then close. Runs on the session's I/O thread.
  void drain() override {
    draining_ = true;
    if (sse_ || queue_.empty())
      close();
  }

  // A commit happened: an SSE session reads on. May be called from any thread.
  void wake() override {
    if (wake_pending_.exchange(true))
      return;
    net::post(stream_.get_executor(), [self = self()] {
      self->wake_pending_.store(false);
      self->sse_pump();
    });
  }

  net::any_io_executor executor() override { return stream_.get_executor(); }

 private:
  std::shared_ptr<Session> self() { return std::static_pointer_cast<Session>(shared_from_this()); }

  // TLS: the handshake, bounded by the request timeout, before the first request is read.
  void handshake() {
    beast::get_lowest_layer(stream_).expires_after(sh_.limits.request_timeout);
    stream_.async_handshake(net::ssl::stream_base::server, [self = self()](beast::error_code ec) {
      if (ec) {
        self->peer_gone_ = true;
        return self->close();
      }
      self->do_read();
    });
  }

  struct Slot {
    std::uint64_t seq = 0;
    bool ready = false;
    bool head = false;  // HEAD request: headers only
    bool keep_alive = true;
    int route = -1;
    Clock::time_point start;
    std::string request_id;
    std::string method;
    std::string target;
    std::string wire;  // the whole response as sent: status line, headers, body
    std::size_t body_bytes = 0;
    std::vector<std::pair<std::string, std::string>> sse_headers;  // an SSE answer's extra headers
    std::optional<SseStart> sse;
    bool close = false;

    // Ready for the next request, keeping the strings' capacity.
    void reset() {
      seq = 0;
      ready = head = close = false;
      keep_alive = true;
      route = -1;
      request_id.clear();
      method.clear();
      target.clear();
      wire.clear();
      body_bytes = 0;
      sse_headers.clear();
      sse.reset();
    }
  };

  // The connection's requests in arrival order: a ring of slots that are reused, so a request
  // allocates no slot and its response buffer keeps its capacity from the last one.
  class Slots {
   public:
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    Slot& front() { return ring_[head_]; }
    Slot& operator[](std::size_t i) { return ring_[(head_ + i) % ring_.size()]; }
    Slot& emplace_back() {
      if (count_ == ring_.size()) {
        std::vector<Slot> grown(std::max<std::size_t>(4, ring_.size() * 2));
        for (std::size_t i = 0; i < count_; ++i)
          grown[i] = std::move((*this)[i]);
        ring_ = std::move(grown);
        head_ = 0;
      }
      Slot& s = (*this)[count_++];
      s.reset();
      return s;
    }
    void pop_front() {
      head_ = (head_ + 1) % ring_.size();
      --count_;
    }
    void clear() {
      head_ = 0;
      count_ = 0;
    }

   private:
    std::vector<Slot> ring_;
    std::size_t head_ = 0, count_ = 0;
  };

  // ---- reading ----

  void do_read() {
    if (closed_ || reading_ || stop_reading_ || draining_)
      return;
    if (queue_.size() >= sh_.limits.max_pipelined)
      return;  // resumed after a write
    reading_ = true;
    if (buffer_.size() == 0) {
      // Idle keep-alive: wait for the first byte of the next request.
      beast::get_lowest_layer(stream_).expires_after(sh_.limits.idle_timeout);
      stream_.async_read_some(
          buffer_.prepare(4096),
          [self = self()](beast::error_code ec, std::size_t n) { self->on_first_bytes(ec, n); });
      return;
    }
    read_header();
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (ec) {
      reading_ = false;
      return on_read_error(ec, /*partial=*/false);
    }
    buffer_.commit(n);
    if (draining_) {
      reading_ = false;
      if (queue_.empty())
        close();
      return;
    }
    read_header();
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(sh_.limits.max_header_bytes));
    parser_->body_limit(sh_.limits.max_body_bytes);
    // One deadline for the whole request: trickling bytes does not extend it (slowloris).
    beast::get_lowest_layer(stream_).expires_after(sh_.limits.request_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = self()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) {
      reading_ = false;
      return on_read_error(ec, true);
    }
    auto& req = parser_->get();
    auto expect = req[http::field::expect];
    if (!parser_->is_done() && iequals(expect, "100-continue") && !writing_ && queue_.empty()) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      writing_ = true;
      net::async_write(stream_, net::buffer(kContinue),
                       [self = self()](beast::error_code wec, std::size_t) {
                         self->writing_ = false;
                         if (wec) {
                           self->reading_ = false;
                           return self->close();
                         }
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done())
      return on_request();
    http::async_read(stream_, buffer_, *parser_,
                     [self = self()](beast::error_code ec, std::size_t) {
                       if (ec) {
                         self->reading_ = false;
                         return self->on_read_error(ec, true);
                       }
                       self->on_request();
                     });
  }

  void on_read_error(beast::error_code ec, bool partial) {
    if (ec == http::error::header_limit) {
      return reject(
          errc::headers_too_large,
          "request headers exceed " + std::to_string(sh_.limits.max_header_bytes) + " bytes");
    }
    if (ec == http::error::body_limit) {
      return reject(errc::payload_too_large,
                    "request body exceeds " + std::to_string(sh_.limits.max_body_bytes) + " bytes");
    }
    if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset || !partial ||
        closed_) {
      // Idle timeout, slow client or the peer went away: nothing to answer.
      peer_gone_ = true;
      stop_reading_ = true;
      if (queue_.empty() || ec == beast::error::timeout)
        close();
      return;
    }
    // Any other parse error: the request is malformed.
    reject(errc::bad_request, std::string("malformed HTTP request: ") + ec.message());
  }

  // Answers a request that could not be read, then closes.
  void reject(errc code, std::string detail) {
    stop_reading_ = true;
    Slot& slot = push_slot();
    slot.request_id = sh_.new_request_id();
    slot.method = "-";
    slot.target = "-";
    Response r = problem(code, std::move(detail));
    r.close = true;
    fill(slot, std::move(r));
    do_write();
  }

  Slot& push_slot() {
    Slot& s = queue_.emplace_back();
    s.seq = next_seq_++;
    s.start = Clock::now();
    return s;
  }

  void on_request() {
    reading_ = false;
    auto msg = parser_->release();
    parser_.reset();
    Slot& slot = push_slot();
    std::uint64_t seq = slot.seq;

    headers_.clear();
    for (const auto& f : msg)
      headers_.emplace_back(f.name_string(), f.value());
    Request req;
    req.method = parse_method(msg.method_string());
    req.target = msg.target();
    std::size_t qm = req.target.find('?');
    req.path = req.target.substr(0, qm);
    if (qm != std::string_view::npos)
      req.query = req.target.substr(qm + 1);
    req.body = msg.body();
    req.headers = headers_;
    std::string_view given = req.header("X-Request-Id");
    slot.request_id = valid_request_id(given) ? std::string(given) : sh_.new_request_id();
    req.request_id = slot.request_id;
    req.peer = peer_;
    slot.head = req.method == Method::head;
    slot.keep_alive = msg.keep_alive();
    slot.method = std::string(msg.method_string());
    if (sh_.access_log)
      slot.target = std::string(req.target);

    if (!slot.keep_alive)
      stop_reading_ = true;
    std::optional<Response> res;
    try {
      res = sh_.router.dispatch(req, sh_.ctx, [this, seq] {
        return Completion([self = self(), seq](Response r) {
          auto* s = self.get();
          net::post(s->stream_.get_executor(),
                    [self = std::move(self), seq, r = std::move(r)]() mutable {
                      self->complete(seq, std::move(r));
                    });
        });
      });
      slot.route = req.route;
    } catch (const std::exception& e) {
      log::write(log::Level::error, "handler failed",
                 {{"request_id", slot.request_id}, {"error", e.what()}});
      res = problem(errc::internal, "an unexpected error occurred");
    }
    if (res)
      complete(seq, std::move(*res));
    do_read();
  }

  // ---- responding ----

  void complete(std::uint64_t seq, Response r) {
    if (queue_.empty() || seq < queue_.front().seq)
      return;
    Slot& slot = queue_[seq - queue_.front().seq];
    fill(slot, std::move(r));
    if (slot.close || slot.sse)
      stop_reading_ = true;
    do_write();
  }

  void fill(Slot& slot, Response r) {
    slot.close = r.close || !slot.keep_alive || draining_;
    slot.sse = std::move(r.sse);
    // Headers the session owns; a handler's own of the same name are dropped, and among a
    // handler's headers the last of a name wins.
    auto ours = [](std::string_view name) {
      for (std::string_view n : {"server", "content-type", "content-length", "connection",
                                 "transfer-encoding", "x-request-id", "x-content-type-options"}) {
        if (iequals(name, n))
          return true;
      }
      return false;
    };
    auto last_of_name = [&r](std::size_t i) {
      for (std::size_t j = i + 1; j < r.headers.size(); ++j) {
        if (iequals(r.headers[j].first, r.headers[i].first))
          return false;
      }
      return true;
    };
    if (slot.sse) {
      slot.close = false;
      for (std::size_t i = 0; i < r.headers.size(); ++i) {
        if (!ours(r.headers[i].first) && last_of_name(i))
          slot.sse_headers.push_back(std::move(r.headers[i]));
      }
      slot.sse_headers.emplace_back("X-Request-Id", slot.request_id);
      slot.sse_headers.emplace_back("X-Content-Type-Options", "nosniff");
    } else {
      // Serialized here in one buffer, written with one call: cheaper than a message object and
      // its serializer for answers that are small and complete.
      std::string& w = slot.wire;
      w.clear();
      w.reserve(256 + r.body.size());
      auto line = [&w](std::string_view name, std::string_view value) {
        w += name;
        w += ": ";
        std::size_t at = w.size();
        w += value;
        for (std::size_t i = at; i < w.size(); ++i) {  // no header splitting, whatever the value
          if (w[i] == '\r' || w[i] == '\n')
            w[i] = ' ';
        }
        w += "\r\n";
      };
      w += "HTTP/1.1 ";
      w += std::to_string(r.status);
      w += ' ';
      w += http::obsolete_reason(static_cast<http::status>(r.status));
      w += "\r\nServer: eventcrm\r\n";
      if (!r.content_type.empty())
        line("Content-Type", r.content_type);
      for (std::size_t i = 0; i < r.headers.size(); ++i) {
        if (!ours(r.headers[i].first) && last_of_name(i))
          line(r.headers[i].first, r.headers[i].second);
      }
      line("X-Request-Id", slot.request_id);
      // Also on answers the session makes itself (413, 431, 408), which skip the router.
      w += "X-Content-Type-Options: nosniff\r\n";
      if (slot.close)
        w += "Connection: close\r\n";
      if (r.status != 304 && r.status != 204 && !(r.status >= 100 && r.status < 200))
        line("Content-Length", std::to_string(r.body.size()));
      w += "\r\n";
      slot.body_bytes = slot.head ? 0 : r.body.size();
      if (!slot.head)
        w += r.body;
    }
    slot.ready = true;
    double secs = std::chrono::duration<double>(Clock::now() - slot.start).count();
    sh_.metrics->record(slot.route, r.status, secs);
    if (sh_.access_log && log::enabled(log::Level::info)) {
      std::string status = std::to_string(r.status);
      char ms[32];
      std::snprintf(ms, sizeof ms, "%.3f", secs * 1000.0);
      std::string bytes = std::to_string(slot.body_bytes);
      log::write(log::Level::info, "access",
                 {{"request_id", slot.request_id},
                  {"method", slot.method},
                  {"target", slot.target},
                  {"status", status, true},
                  {"duration_ms", ms, true},
                  {"bytes", bytes, true}});
    }
  }

  void do_write() {
    if (writing_ || closed_ || queue_.empty() || !queue_.front().ready)
      return;
    Slot& front = queue_.front();
    if (front.sse)
      return start_sse(std::move(*front.sse));
    writing_ = true;
    beast::get_lowest_layer(stream_).expires_after(sh_.limits.write_timeout);
    net::async_write(stream_, net::buffer(front.wire),
                     [self = self()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    if (ec)
      return close();
    bool close_after = queue_.front().close;
    queue_.pop_front();
    if (close_after)
      return shutdown_send();
    if (queue_.empty() && (draining_ || peer_gone_))
      return close();
    do_write();
    do_read();
  }

  void shutdown_send() {
    if (reading_)
      return close();
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    // Let the peer read the response before the socket goes (avoids an RST eating it).
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(1));
    linger_ = std::make_shared<std::array<char, 512>>();
    drain_input();
  }

  void drain_input() {
    stream_.async_read_some(net::buffer(*linger_),
                            [self = self()](beast::error_code ec, std::size_t) {
                              if (ec)
                                return self->close();
                              self->drain_input();
                            });
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
    if (heartbeat_)
      heartbeat_->cancel();
  }

  // ---- Server-Sent Events ----

  void start_sse(SseStart start) {
    Slot& front = queue_.front();
    sse_ = true;
    sse_pos_ = start.after;
    sse_filter_ = std::move(start.filter);
    sh_.sse_subscribers.fetch_add(1, std::memory_order_relaxed);
    sh_.metrics->sse_subscribers.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(sh_.mu);
      sh_.sse_sessions.emplace(this, weak_from_this());
    }
    // The stream is close-delimited: no Content-Length, no chunking.
    std::string& out = sse_buf_;
    out =
        "HTTP/1.1 200 OK\r\nServer: eventcrm\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: close\r\n";
    for (const auto& [name, value] : front.sse_headers) {
      out += name;
      out += ": ";
      for (char c : value)
        out.push_back(c == '\r' || c == '\n' ? ' ' : c);
      out += "\r\n";
    }
    out += "\r\n: connected\n\n";
    queue_.clear();
    heartbeat_.emplace(stream_.get_executor());
    arm_heartbeat();
    sse_write();
  }

  void arm_heartbeat() {
    heartbeat_->expires_after(sh_.limits.sse_heartbeat);
    heartbeat_->async_wait([self = self()](beast::error_code ec) {
      if (ec || self->closed_)
        return;
      if (!self->writing_ && self->sse_buf_.empty()) {
        self->sse_buf_ = ": heartbeat\n\n";
        self->sse_write();
      }
      self->arm_heartbeat();
    });
  }

  void sse_write() {
    writing_ = true;
    // A client that cannot take one batch within the write timeout is dropped: nothing is
    // buffered beyond that batch.
    beast::get_lowest_layer(stream_).expires_after(sh_.limits.write_timeout);
    net::async_write(stream_, net::buffer(sse_buf_),
                     [self = self()](beast::error_code ec, std::size_t) {
                       self->writing_ = false;
                       self->sse_buf_.clear();
                       if (ec) {
                         if (ec == beast::error::timeout)
                           self->sh_.metrics->sse_dropped.fetch_add(1, std::memory_order_relaxed);
                         return self->close();
                       }
                       self->sse_pump();
                     });
  }

  // Reads on from the log and writes the next batch, if any.
  void sse_pump() {
    if (!sse_ || writing_ || closed_)
      return;
    if (draining_)
      return close();
    constexpr std::size_t kBatch = 256;
    auto page = sh_.ctx.store->read_all(sse_pos_, kBatch, sse_filter_, 10'000);
    if (!page) {
      log::write(log::Level::warn, "sse read failed", {{"error", page.error().message}});
      return close();
    }
    std::uint64_t scanned = page->scanned_to;
    if (page->events.empty()) {
      if (scanned > sse_pos_) {
        sse_pos_ = scanned;
        // Filtered-out events only: keep scanning if the head is further.
        if (sse_pos_ < sh_.ctx.store->head())
          wake();
      }
      return;
    }
    std::string& out = sse_buf_;
    std::string json;
    for (const store::RecordedEvent& e : page->events) {
      out += "id: ";
      out += std::to_string(e.position);
      out += "\nevent: ";
      out += e.type;
      json.clear();
      store::append_cloudevent_json(json, e);
      std::size_t startpos = 0;
      while (true) {
        std::size_t nl = json.find('\n', startpos);
        out += "\ndata: ";
        out.append(json, startpos, nl == std::string::npos ? std::string::npos : nl - startpos);
        if (nl == std::string::npos)
          break;
        startpos = nl + 1;
      }
      out += "\n\n";
    }
    sh_.metrics->sse_events_sent.fetch_add(page->events.size(), std::memory_order_relaxed);
    sse_pos_ = std::max(scanned, page->events.back().position);
    sse_write();
  }

  Stream stream_;
  Shared& sh_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::vector<HeaderField> headers_;
  std::string peer_;  // the client's address
  Slots queue_;
  std::uint64_t next_seq_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool stop_reading_ = false;
  bool peer_gone_ = false;
  bool draining_ = false;
  bool closed_ = false;
  std::shared_ptr<std::array<char, 512>> linger_;

  bool sse_ = false;
  std::uint64_t sse_pos_ = 0;
  store::Filter sse_filter_;
  std::string sse_buf_;
  std::optional<net::steady_timer> heartbeat_;
  std::atomic<bool> wake_pending_{false};
};

// One io_context per I/O thread: a connection lives on one thread, so its handlers never
// hop between threads (no strands, no cross-thread wake-ups on the hot path).
class IoPool {
 public:
  explicit IoPool(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i) {
      ctxs_.push_back(std::make_unique<net::io_context>(1));
      guards_.push_back(net::make_work_guard(*ctxs_.back()));
    }
  }
  net::io_context& main() { return *ctxs_.front(); }
  net::io_context& next() { return *ctxs_[next_.fetch_add(1) % ctxs_.size()]; }
  void stop() {
    for (auto& c : ctxs_)
      c->stop();
  }
  // Runs every context, the first on the calling thread; returns when all are stopped.
  void run() {
    std::vector<std::thread> pool;
    for (std::size_t i = 1; i < ctxs_.size(); ++i)
      pool.emplace_back([c = ctxs_[i].get()] {
        name_this_thread("http-io");
        c->run();
      });
    ctxs_.front()->run();
    for (auto& t : pool)
      t.join();
  }

 private:
  std::vector<std::unique_ptr<net::io_context>> ctxs_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::atomic<std::size_t> next_{0};
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(IoPool& pool, Shared& sh) : pool_(pool), acceptor_(pool.main()), sh_(sh) {}

  bool open(const tcp::endpoint& ep, std::string& error) {
    beast::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec)
      acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(ep, ec);
    if (!ec)
      acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      error = ec.message();
      return false;
    }
    return true;
  }

  tcp::endpoint local() const { return acceptor_.local_endpoint(); }

  void start() { do_accept(); }

  void stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

 private:
  void do_accept() {
    acceptor_.async_accept(pool_.next().get_executor(),
                           [self = shared_from_this()](beast::error_code ec, Socket s) {
                             self->on_accept(ec, std::move(s));
                           });
  }

  void on_accept(beast::error_code ec, Socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open())
      return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto open = sh_.metrics->open_connections.load(std::memory_order_relaxed);
      if (open >= static_cast<std::int64_t>(sh_.limits.max_connections)) {
        sh_.metrics->connections_rejected.fetch_add(1, std::memory_order_relaxed);
        refuse(std::move(socket));
      } else {
        if (sh_.tls)
          std::make_shared<Session<TlsStream>>(std::move(socket), sh_, *sh_.tls)->start();
        else
          std::make_shared<Session<PlainStream>>(std::move(socket), sh_)->start();
      }
    } else if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space) {
      // Out of file descriptors: back off briefly instead of spinning.
      auto t = std::make_shared<net::steady_timer>(acceptor_.get_executor(),
                                                   std::chrono::milliseconds(50));
      t->async_wait([self = shared_from_this(), t](beast::error_code) { self->do_accept(); });
      return;
    }
    do_accept();
  }

  // Over the connection limit: a short 503 and close, without a session.
  static void refuse(Socket socket) {
    Response r = problem(errc::unavailable, "too many open connections");
    auto msg = std::make_shared<std::string>();
    *msg =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
        "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
        std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
    auto sock = std::make_shared<Socket>(std::move(socket));
    net::async_write(*sock, net::buffer(*msg), [sock, msg](beast::error_code, std::size_t) {
      beast::error_code ec;
      sock->shutdown(tcp::socket::shutdown_both, ec);
      sock->close(ec);
    });
  }

  IoPool& pool_;
  tcp::acceptor acceptor_;
  Shared& sh_;
};

std::vector<std::shared_ptr<SessionBase>> snapshot(Shared& sh, bool sse_only) {
  std::vector<std::shared_ptr<SessionBase>> out;
  std::lock_guard lock(sh.mu);
  auto& reg = sse_only ? sh.sse_sessions : sh.sessions;
  out.reserve(reg.size());
  for (auto& [p, w] : reg)
    if (auto s = w.lock())
      out.push_back(std::move(s));
  return out;
}

std::string random_prefix() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return buf;
}

}  // namespace

std::string openapi_document() {
  return std::string(openapi_json());
}

std::string permission_matrix() {
  return perm::matrix_markdown(make_router().routes());
}

std::vector<std::string> route_list() {
  std::vector<std::string> out;
  Router r = make_router();
  for (const Route& route : r.routes())
    out.push_back(std::string(to_string(route.method)) + " " + std::string(route.pattern));
  return out;
}

int run_server(const ServerOptions& o) {
  if (!log::setup(o.log_level, o.log_format)) {
    std::cerr << "invalid log level or format\n";
    return 2;
  }
  store::Options so;
  so.path = o.data_dir;
  so.personal_data = domain::personal_data();  // sealed with per-subject keys (README "Erasure")
  if (o.durability == "sync")
    so.durability = store::Durability::sync;
  else if (o.durability == "relaxed")
    so.durability = store::Durability::relaxed;
  else {
    log::write(log::Level::error, "invalid durability mode (sync|relaxed)",
               {{"durability", o.durability}});
    return 2;
  }
  so.wal_spare_bytes = o.wal_spare_mb << 20;
  auto opened = store::EventStore::open(so);
  if (!opened) {
    log::write(log::Level::error, "cannot open the event store",
               {{"path", o.data_dir}, {"error", opened.error().message}});
    return 1;
  }
  std::unique_ptr<store::EventStore> es = std::move(*opened);
  std::unique_ptr<Extensions> ext;
  if (o.extensions) {
    std::string error;
    ext = o.extensions(*es, error);
    if (!ext) {
      log::write(log::Level::error, "cannot start", {{"error", error}});
      es->close();
      return 1;
    }
  }
  // Extensions stop before the store closes, whichever way this function returns.
  struct StopExtensions {
    std::unique_ptr<Extensions>& e;
    ~StopExtensions() {
      if (e)
        e->stop();
    }
  } stop_extensions{ext};

  Shared sh;
  for (const Route& r : sh.router.routes())
    sh.labels.push_back(std::string(to_string(r.method)) + " " + std::string(r.pattern));
  sh.metrics = std::make_unique<Metrics>(sh.labels);
  sh.limits = o.limits;
  sh.access_log = o.access_log;
  sh.id_prefix = random_prefix();
  sh.ctx.store = es.get();
  sh.ctx.metrics = sh.metrics.get();
  sh.ctx.limits = o.limits;
  sh.ctx.draining = &sh.draining;
  sh.ctx.inflight_appends = &sh.inflight_appends;
  sh.ctx.sse_subscribers = &sh.sse_subscribers;
  sh.ctx.extensions = ext.get();
  SystemClock clock;
  app::RandomIdGenerator ids;
  app::CommandRunner runner(*es, clock, ids);
  Workers workers(std::max(1u, o.command_threads));
  sh.ctx.commands = &runner;  // on a read replica the router refuses commands before handlers
  sh.ctx.read_replica = o.read_replica;
  sh.ctx.writer_url = o.writer_url;
  sh.ctx.workers = &workers;
  Security security(o.security);
  {
    std::string error;
    if (!security.start(*es, error) ||
        (!o.read_replica && security.enabled() && !security.bootstrap(runner, error))) {
      log::write(log::Level::error, "cannot start security", {{"error", error}});
      security.stop();
      workers.stop();
      if (ext)
        ext->stop();
      es->close();
      return 2;
    }
  }
  sh.ctx.security = &security;
  if (!o.tls_cert.empty()) {
    // TLS 1.2 and later only; the certificate chain and key from PEM files.
    sh.tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    beast::error_code tec;
    sh.tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                            net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                            net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use,
                        tec);
    if (!tec)
      sh.tls->use_certificate_chain_file(o.tls_cert, tec);
    if (!tec)
      sh.tls->use_private_key_file(o.tls_key, net::ssl::context::pem, tec);
    if (tec) {
      log::write(log::Level::error, "cannot load the TLS certificate or key",
                 {{"cert", o.tls_cert}, {"key", o.tls_key}, {"error", tec.message()}});
      security.stop();
      workers.stop();
      if (ext)
        ext->stop();
      es->close();
      return 2;
    }
  }

  unsigned threads = o.io_threads;
  if (threads == 0)
    threads = std::max(2u, 2 * std::thread::hardware_concurrency());
  int exit_code = 0;
  {
    IoPool ioc(threads);
    beast::error_code ec;
    auto addr = net::ip::make_address(o.address, ec);
    if (ec) {
      log::write(log::Level::error, "invalid listen address", {{"address", o.address}});
      if (ext)
        ext->stop();
      es->close();
      return 2;
    }
    auto listener = std::make_shared<Listener>(ioc, sh);
    std::string error;
    if (!listener->open(tcp::endpoint(addr, o.port), error)) {
      log::write(log::Level::error, "cannot listen", {{"address", o.address}, {"error", error}});
      if (ext)
        ext->stop();
      es->close();
      return 1;
    }
    tcp::endpoint local = listener->local();
    std::string where = local.address().to_string() + ":" + std::to_string(local.port());
    std::cout << "listening on " << where << std::endl;
    log::write(log::Level::info, "listening",
               {{"address", where}, {"data_dir", o.data_dir}, {"durability", o.durability}});

    // Commits wake the SSE sessions (on their own I/O threads; this runs on the writer thread).
    std::uint64_t listener_id = es->add_commit_listener([&sh](std::uint64_t) {
      for (auto& s : snapshot(sh, true))
        s->wake();
    });

    net::signal_set signals(ioc.main(), SIGINT, SIGTERM);
    net::steady_timer drain_timer(ioc.main());
    net::steady_timer grace_timer(ioc.main());
    int signals_seen = 0;
    std::function<void()> poll_drained = [&] {
      drain_timer.expires_after(std::chrono::milliseconds(20));
      drain_timer.async_wait([&](beast::error_code tec) {
        if (tec)
          return;
        bool empty;
        {
          std::lock_guard lock(sh.mu);
          empty = sh.sessions.empty();
        }
        if (empty && sh.inflight_appends.load() == 0) {
          ioc.stop();
          return;
        }
        poll_drained();
      });
    };
    std::function<void()> wait_signal = [&] {
      signals.async_wait([&](beast::error_code sec, int signo) {
        if (sec)
          return;
        ++signals_seen;
        if (signals_seen == 1) {
          log::write(log::Level::info, "shutting down: draining connections",
                     {{"signal", std::to_string(signo), true}});
          sh.draining = true;
          listener->stop();
          for (auto& s : snapshot(sh, false))
            net::post(s->executor(), [s] { s->drain(); });
          grace_timer.expires_after(o.limits.shutdown_grace);
          grace_timer.async_wait([&](beast::error_code gec) {
            if (gec)
              return;
            log::write(log::Level::warn, "shutdown grace period over: forcing");
            ioc.stop();
          });
          poll_drained();
          wait_signal();
        } else {
          log::write(log::Level::warn, "second signal: forcing shutdown");
          exit_code = 1;
          ioc.stop();
        }
      });
    };
    wait_signal();
    listener->start();

    ioc.run();

    // Commands still running finish before the store closes; their completions post to the
    // stopped io_context and are dropped with it.
    workers.stop();
    es->remove_commit_listener(listener_id);
    security.stop();
    if (ext)
      ext->stop();
    // Appends still queued finish here; their completions post to the stopped io_context
    // and are dropped with it (each was durable before its completion ran).
    es->close();
  }
  log::write(log::Level::info, "stopped");
  log::flush();
  return exit_code;
}

}  // namespace eventcrm::api
