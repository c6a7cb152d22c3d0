// Tracking links at click speed (R-MKT 3): the code → link map held in memory and kept current
// from the log (no disk read per click), and the click recorder, which buffers clicks and
// appends them durably in batches — one `campaign_activity.clicks_recorded.v1` event per campaign
// per flush — so a redirect never waits for the disk, and a click reaches the log within about
// one flush interval plus one group commit.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "app/command_runner.hpp"
#include "common/clock.hpp"
#include "common/string_map.hpp"
#include "domain/campaign.hpp"
#include "eventstore/store.hpp"

namespace eventcrm::app {

struct TrackingOptions {
  std::chrono::milliseconds flush_interval{20};  // the longest a click waits before its append
  std::size_t max_clicks_per_event = 5000;
  std::size_t max_event_bytes = 256 * 1024;  // an event's clicks, roughly: well under 1 MiB
  std::size_t max_buffered = 1'000'000;      // beyond this (the log is down) new clicks are dropped
  std::size_t max_user_agent = 256;          // bytes kept of the User-Agent header
  std::size_t max_referrer = 1024;           // bytes kept of the Referer header
};

struct TrackingLink {
  std::string campaign_id;
  std::string target_url;
};

struct TrackingStatus {
  std::uint64_t links = 0;
  std::uint64_t clicks_received = 0;
  std::uint64_t clicks_appended = 0;
  std::uint64_t clicks_dropped = 0;  // buffer full (the log could not keep up or failed)
  std::uint64_t append_failures = 0;
  std::uint64_t pending = 0;
};

class Tracking {
 public:
  // Loads every tracking link in the log (before it returns, so a restarted server redirects
  // at once), then follows the log for new ones and starts the click recorder.
  static Result<std::unique_ptr<Tracking>> start(store::EventStore& store, Clock& clock,
                                                 IdGenerator& ids, TrackingOptions options = {});
  ~Tracking();
  Tracking(const Tracking&) = delete;
  Tracking& operator=(const Tracking&) = delete;

  // The link of a code (shared, not copied: a click costs no string copies of it).
  std::shared_ptr<const TrackingLink> find(std::string_view code) const;
  // A link this process just appended: served before the follower reads it back.
  void remember(const std::string& code, TrackingLink link);
  // Queues a click on `link` (stamped now); never blocks on the disk.
  void record(std::string_view code, std::shared_ptr<const TrackingLink> link,
              std::string_view user_agent, std::string_view referrer);
  // Appends what is buffered now and waits for it (tests; stop() does it too).
  void flush();
  // Stops following, appends every buffered click, stops the recorder. Idempotent.
  void stop();
  TrackingStatus status() const;

 private:
  struct Pending {
    std::shared_ptr<const TrackingLink> link;  // its campaign_id names the campaign
    domain::campaign::Click click;
  };
  Tracking(store::EventStore& store, Clock& clock, IdGenerator& ids, TrackingOptions options);
  Status<Error> load(std::uint64_t& position);
  void follow(std::uint64_t from);
  void recorder();
  bool append(std::vector<Pending>& batch);  // false: the log refused; `batch` is kept

  store::EventStore& store_;
  Clock& clock_;
  IdGenerator& ids_;
  TrackingOptions options_;

  mutable std::shared_mutex links_mu_;
  // By code; heterogeneous lookup, so a request's code is looked up without a copy.
  StringMap<std::shared_ptr<const TrackingLink>> links_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable flushed_cv_;
  std::vector<Pending> buffer_;
  std::uint64_t enqueued_ = 0;  // clicks ever queued (for flush())
  std::uint64_t settled_ = 0;   // clicks appended or dropped
  bool stopping_ = false;

  std::atomic<bool> follow_stop_{false};
  std::atomic<std::uint64_t> received_{0}, appended_{0}, dropped_{0}, failures_{0};
  std::thread follower_;
  std::thread recorder_;
};

}  // namespace eventcrm::app
