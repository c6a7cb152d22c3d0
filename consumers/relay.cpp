// The relay loop: subscription → producer; delivery reports → checkpoint.
//
// Everything librdkafka calls back (delivery reports) runs inside rd_kafka_poll() on the relay's
// own thread, so the in-flight window needs no lock. Positions are produced in log order;
// `window_` holds one state per position after `base_`: the checkpoint is the last position of
// the unbroken acknowledged prefix.
#include "consumers/relay.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/thread_name.hpp"
#include "consumers/kafka_handle.hpp"
#include "eventstore/cloudevents.hpp"
#include "eventstore/store.hpp"

namespace eventcrm::consumers {
namespace {

using Clock = std::chrono::steady_clock;

enum class Slot : std::uint8_t { pending, acked, failed };

// Writes the checkpoint durably: temp file, fsync, rename, fsync of the directory.
bool write_checkpoint(const std::string& path, std::uint64_t pos) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return false;
  std::string text = std::to_string(pos) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0)
    return false;
  auto dir = std::filesystem::path(path).parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

class KafkaRelay final : public Relay {
 public:
  KafkaRelay(store::EventStore& s, RelayOptions o) : store_(s), opts_(std::move(o)) {}
  ~KafkaRelay() override { stop(); }

  Result<bool, std::string> init() {
    auto cp = read_checkpoint(opts_.checkpoint_path);
    if (!cp)
      return unexpected(cp.error());
    checkpoint_ = *cp;
    saved_checkpoint_ = *cp;
    if (checkpoint_ > store_.head()) {
      return unexpected("the relay checkpoint (" + std::to_string(checkpoint_) +
                        ") is past the log's head (" + std::to_string(store_.head()) +
                        "): is this checkpoint file from another data directory?");
    }
    std::string error;
    auto conf = detail::make_conf(opts_.kafka,
                                  {{"enable.idempotence", "true"},
                                   {"acks", "all"},
                                   {"linger.ms", "5"},
                                   {"queue.buffering.max.messages", "200000"},
                                   {"log_level", "4"}},
                                  error);
    if (!conf)
      return unexpected(error);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaRelay::on_delivery);
    char err[512];
    rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.release(), err, sizeof err));
    if (!rk_)
      return unexpected(std::string("cannot create the Kafka producer: ") + err);
    running_ = true;
    thread_ = std::thread([this] { run(); });
    return true;
  }

  RelayStatus status() const override {
    RelayStatus s;
    s.checkpoint = checkpoint_.load();
    s.head = store_.head();
    s.produced = produced_.load();
    s.delivered = delivered_.load();
    s.delivery_errors = errors_.load();
    s.rewinds = rewinds_.load();
    s.running = running_.load();
    if (s.head > s.checkpoint) {
      auto oldest = store_.get_at(s.checkpoint + 1);
      if (oldest) {
        auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
        s.lag_seconds =
            static_cast<double>(std::max<std::int64_t>(0, now_ms - oldest->time_ms)) / 1000.0;
      }
    }
    return s;
  }

  void stop() override {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    static_cast<KafkaRelay*>(opaque)->delivered(
        static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->_private)), m->err);
  }

  void delivered(std::uint64_t pos, rd_kafka_resp_err_t err) {
    --outstanding_;
    if (pos <= base_ || pos > base_ + window_.size())
      return;  // from before a rewind
    auto& slot = window_[pos - base_ - 1];
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (slot == Slot::pending)
        slot = Slot::acked;
      delivered_.fetch_add(1, std::memory_order_relaxed);
    } else {
      slot = Slot::failed;
      errors_.fetch_add(1, std::memory_order_relaxed);
      rewind_needed_ = true;
    }
  }

  void advance() {
    while (!window_.empty() && window_.front() == Slot::acked) {
      window_.pop_front();
      ++base_;
    }
    checkpoint_.store(base_);
  }

  void save(bool force) {
    auto now = Clock::now();
    if (checkpoint_ == saved_checkpoint_ ||
        (!force && now - last_save_ < std::chrono::milliseconds(200))) {
      return;
    }
    if (write_checkpoint(opts_.checkpoint_path, checkpoint_)) {
      saved_checkpoint_ = checkpoint_.load();
      last_save_ = now;
    }
  }

  // Per-category names (topic, ce_source), built once per category: a log has a few dozen.
  struct CategoryNames {
    std::string category, topic, source;
  };
  const CategoryNames& names_for(const store::RecordedEvent& e) {
    std::string_view stream = e.stream;
    std::string_view category = stream.substr(0, stream.find('-'));
    for (const auto& n : names_) {
      if (n.category == category)
        return n;
    }
    std::string c(category);
    names_.push_back({c, opts_.topic + "." + c, "/eventcrm/" + c});
    if (opts_.topic_mode == TopicMode::per_category)
      detail::warm_topic_metadata(rk_.get(), names_.back().topic, 1000);
    return names_.back();
  }
  const std::string& topic_for(const store::RecordedEvent& e) {
    return opts_.topic_mode == TopicMode::single ? opts_.topic : names_for(e).topic;
  }

  // The CloudEvents binary-mode headers of `e`. Values are formatted into stack buffers and
  // copied by librdkafka, so an event costs no temporary strings of ours (the relay is
  // allocation-bound otherwise).
  rd_kafka_headers_t* binary_headers(const store::RecordedEvent& e) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(14 + e.metadata.extra.size());
    auto add = [hdrs](const char* name, std::string_view v) {
      if (!v.empty())
        rd_kafka_header_add(hdrs, name, -1, v.data(), static_cast<ssize_t>(v.size()));
    };
    auto add_number = [hdrs](const char* name, std::uint64_t v) {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v);
      rd_kafka_header_add(hdrs, name, -1, buf, r.ptr - buf);
    };
    add("ce_specversion", "1.0");
    add("ce_id", e.id);
    add("ce_type", e.type);
    add("ce_source", names_for(e).source);
    add("ce_subject", e.stream);
    char time[kRfc3339MsMax];
    add("ce_time", std::string_view(time, write_rfc3339_ms(e.time_ms, time)));
    add_number("ce_position", e.position);
    add_number("ce_streamversion", static_cast<std::uint64_t>(e.stream_version));
    add("ce_actor", e.metadata.actor);
    add("ce_reason", e.metadata.reason);
    add("ce_correlationid", e.metadata.correlation_id);
    add("ce_causationid", e.metadata.causation_id);
    char hash[64];
    store::write_hex(e.hash, hash);
    add("ce_hash", std::string_view(hash, sizeof hash));
    // Free metadata keys, in order and even when empty: a read replica rebuilds the exact
    // event (and so its hash) from the headers.
    for (const auto& [k, v] : e.metadata.extra) {
      char name[128];
      std::string_view prefix = kExtraHeaderPrefix;
      if (prefix.size() + k.size() >= sizeof name) {
        std::string long_name = std::string(prefix) + k;
        rd_kafka_header_add(hdrs, long_name.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
        continue;
      }
      std::memcpy(name, prefix.data(), prefix.size());
      std::memcpy(name + prefix.size(), k.data(), k.size());
      rd_kafka_header_add(hdrs, name, static_cast<ssize_t>(prefix.size() + k.size()), v.data(),
                          static_cast<ssize_t>(v.size()));
    }
    add("content-type", "application/json");
    return hdrs;
  }

  // Hands one event to the producer; false only when stopping.
  bool produce(const store::RecordedEvent& e) {
    const std::string& topic = topic_for(e);
    for (;;) {
      rd_kafka_headers_t* hdrs = nullptr;
      std::string_view value = e.data;
      if (opts_.content == ContentMode::binary) {
        hdrs = binary_headers(e);
      } else {
        structured_.clear();
        store::append_cloudevent_json(structured_, e);
        value = structured_;
        hdrs = rd_kafka_headers_new(1);
        rd_kafka_header_add(hdrs, "content-type", -1, "application/cloudevents+json", -1);
      }
      rd_kafka_vu_t vus[6];
      vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
      vus[0].u.cstr = topic.c_str();
      vus[1].vtype = RD_KAFKA_VTYPE_KEY;
      vus[1].u.mem = {const_cast<char*>(e.stream.data()), e.stream.size()};
      vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
      vus[2].u.mem = {const_cast<char*>(value.data()), value.size()};
      vus[3].vtype = RD_KAFKA_VTYPE_HEADERS;
      vus[3].u.headers = hdrs;
      vus[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
      vus[4].u.ptr = reinterpret_cast<void*>(static_cast<std::uintptr_t>(e.position));
      // Without F_COPY librdkafka would keep pointing into the event after this call.
      vus[5].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
      vus[5].u.i = RD_KAFKA_MSG_F_COPY;
      rd_kafka_error_t* err = rd_kafka_produceva(rk_.get(), vus, 6);
      if (err == nullptr) {
        ++outstanding_;
        produced_.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
      auto code = rd_kafka_error_code(err);
      rd_kafka_error_destroy(err);
      rd_kafka_headers_destroy(hdrs);
      if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        // Not retriable at this layer (e.g. message too large): count it and go back to the
        // checkpoint later rather than skip the event.
        errors_.fetch_add(1, std::memory_order_relaxed);
        rewind_needed_ = true;
        return false;
      }
      if (stop_)
        return false;
      rd_kafka_poll(rk_.get(), 100);  // the local queue is full: serve delivery reports
      advance();
      save(false);
    }
  }

  void run() {
    name_this_thread("kafka-relay");
    if (opts_.topic_mode == TopicMode::single)
      detail::warm_topic_metadata(rk_.get(), opts_.topic, 1000);
    base_ = checkpoint_;
    // Events as stored: personal fields stay sealed on the topic (the topic cannot forget, and
    // replicas check the hash chain over the stored bytes). See the README, "Erasure".
    store::Filter stored;
    stored.stored_form = true;
    auto sub = store_.subscribe(base_, stored);
    while (!stop_) {
      rd_kafka_poll(rk_.get(), 0);
      advance();
      save(false);
      if (rewind_needed_) {
        // Wait for every outstanding report, then produce again from the checkpoint.
        if (outstanding_ > 0) {
          rd_kafka_poll(rk_.get(), 50);
          continue;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms_));
        backoff_ms_ = std::min(backoff_ms_ * 2, 5000);
        window_.clear();
        base_ = checkpoint_;
        sub = store_.subscribe(base_, stored);
        rewind_needed_ = false;
        rewinds_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (window_.size() >= 500'000) {
        rd_kafka_poll(rk_.get(), 50);
        continue;
      }
      auto batch = sub->next(opts_.batch, std::chrono::milliseconds(50));
      if (!batch) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      for (const auto& e : *batch) {
        if (!produce(e))
          break;
        window_.push_back(Slot::pending);
      }
      if (!batch->empty() && !rewind_needed_)
        backoff_ms_ = 100;
    }
    // Bounded flush so a stop never hangs on an unreachable cluster.
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (outstanding_ > 0 && Clock::now() < deadline) {
      rd_kafka_poll(rk_.get(), 50);
      advance();
    }
    advance();
    save(true);
    running_ = false;
  }

  store::EventStore& store_;
  RelayOptions opts_;
  detail::HandlePtr rk_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};

  // Relay thread only.
  std::uint64_t base_ = 0;
  std::deque<Slot> window_;
  std::int64_t outstanding_ = 0;
  bool rewind_needed_ = false;
  int backoff_ms_ = 100;
  std::uint64_t saved_checkpoint_ = 0;
  Clock::time_point last_save_{};

  std::deque<CategoryNames> names_;  // a deque: references stay valid as it grows
  std::string structured_;           // reused envelope buffer

  std::atomic<std::uint64_t> checkpoint_{0};
  std::atomic<std::uint64_t> produced_{0}, delivered_{0}, errors_{0}, rewinds_{0};
};

}  // namespace

Result<std::uint64_t, std::string> read_checkpoint(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return std::uint64_t{0};
  std::uint64_t pos = 0;
  if (!(in >> pos)) {
    return unexpected("the relay checkpoint file " + path +
                      " is unreadable; delete it to republish from the start (consumers drop "
                      "duplicates by ce_id)");
  }
  return pos;
}

Result<std::unique_ptr<Relay>, std::string> Relay::start(store::EventStore& store,
                                                         RelayOptions options) {
  if (options.checkpoint_path.empty()) {
    return unexpected(std::string("the relay needs a checkpoint path"));
  }
  auto r = std::make_unique<KafkaRelay>(store, std::move(options));
  auto ok = r->init();
  if (!ok)
    return unexpected(ok.error());
  return std::unique_ptr<Relay>(std::move(r));
}

}  // namespace eventcrm::consumers
