// The tracking-link map and the batching click recorder; see tracking.hpp.
#include "app/tracking.hpp"
#include "common/thread_name.hpp"

#include <map>

namespace eventcrm::app {
namespace {
namespace campaign = domain::campaign;

const std::string kLinkType(campaign::TrackingLinkCreated::kType);

// Header values go into JSON and reports: printable ASCII kept, anything else replaced.
std::optional<std::string> clean(std::string_view v, std::size_t max) {
  if (v.empty())
    return std::nullopt;
  std::string out(v.substr(0, max));
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f)
      c = '?';
  }
  return out;
}

}  // namespace

Tracking::Tracking(store::EventStore& store, Clock& clock, IdGenerator& ids,
                   TrackingOptions options)
    : store_(store), clock_(clock), ids_(ids), options_(options) {}

Result<std::unique_ptr<Tracking>> Tracking::start(store::EventStore& store, Clock& clock,
                                                  IdGenerator& ids, TrackingOptions options) {
  std::unique_ptr<Tracking> t(new Tracking(store, clock, ids, options));
  std::uint64_t position = 0;
  if (auto loaded = t->load(position); !loaded)
    return unexpected(std::move(loaded).error());
  Tracking* self = t.get();
  t->follower_ = std::thread([self, position] {
    name_this_thread("click-follower");
    self->follow(position);
  });
  t->recorder_ = std::thread([self] {
    name_this_thread("click-recorder");
    self->recorder();
  });
  return t;
}

Tracking::~Tracking() {
  stop();
}

// Reads the links recorded up to the head now (a filtered scan of the log).
Status<Error> Tracking::load(std::uint64_t& position) {
  store::Filter filter;
  filter.types = {kLinkType};
  const std::uint64_t head = store_.head();
  while (position < head) {
    auto page = store_.read_all(position, 10'000, filter, 1'000'000);
    if (!page)
      return unexpected(CommandRunner::from_store(std::move(page).error()));
    for (const auto& e : page->events) {
      auto ev = campaign::Aggregate::decode(e.type, e.data);
      if (!ev)
        continue;
      const auto& link = std::get<campaign::TrackingLinkCreated>(*ev);
      std::unique_lock lk(links_mu_);
      links_[link.code] =
          std::make_shared<const TrackingLink>(TrackingLink{link.campaign_id, link.target_url});
    }
    if (page->scanned_to <= position)
      break;
    position = page->scanned_to;
  }
  return Ok{};
}

void Tracking::follow(std::uint64_t from) {
  store::Filter filter;
  filter.types = {kLinkType};
  auto sub = store_.subscribe(from, filter);
  while (!follow_stop_.load()) {
    auto batch = sub->next(1000, std::chrono::milliseconds(100));
    if (!batch) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    for (const auto& e : *batch) {
      auto ev = campaign::Aggregate::decode(e.type, e.data);
      if (!ev || !std::holds_alternative<campaign::TrackingLinkCreated>(*ev))
        continue;
      const auto& link = std::get<campaign::TrackingLinkCreated>(*ev);
      std::unique_lock lk(links_mu_);
      links_[link.code] =
          std::make_shared<const TrackingLink>(TrackingLink{link.campaign_id, link.target_url});
    }
  }
}

std::shared_ptr<const TrackingLink> Tracking::find(std::string_view code) const {
  std::shared_lock lk(links_mu_);
  auto it = links_.find(code);
  return it == links_.end() ? nullptr : it->second;
}

void Tracking::remember(const std::string& code, TrackingLink link) {
  std::unique_lock lk(links_mu_);
  links_[code] = std::make_shared<const TrackingLink>(std::move(link));
}

void Tracking::record(std::string_view code, std::shared_ptr<const TrackingLink> link,
                      std::string_view user_agent, std::string_view referrer) {
  received_.fetch_add(1, std::memory_order_relaxed);
  Pending p{std::move(link), campaign::Click{std::string(code), domain::Timestamp{clock_.now_ms()},
                                             clean(user_agent, options_.max_user_agent),
                                             clean(referrer, options_.max_referrer)}};
  std::lock_guard lk(mu_);
  ++enqueued_;
  if (buffer_.size() >= options_.max_buffered || stopping_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    ++settled_;
    return;
  }
  buffer_.push_back(std::move(p));
  // The recorder wakes on its interval; a full event's worth wakes it at once.
  if (buffer_.size() == options_.max_clicks_per_event)
    cv_.notify_one();
}

bool Tracking::append(std::vector<Pending>& batch) {
  // Per campaign, events of up to max_event_bytes / max_clicks_per_event clicks, all in one
  // atomic append. The event ids are ours, so an append retried after an unclear failure is not
  // written twice.
  std::map<std::string, std::vector<campaign::Click>> by_campaign;
  for (auto& p : batch)
    by_campaign[p.link->campaign_id].push_back(std::move(p.click));
  std::vector<store::StreamAppend> parts;
  for (auto& [id, clicks] : by_campaign) {
    store::StreamAppend part{
        domain::stream_name(campaign::kActivityCategory, id), store::ExpectedVersion::any(), {}};
    for (std::size_t i = 0; i < clicks.size();) {
      // As many clicks as fit the event size and count bounds (at least one).
      std::size_t end = i, bytes = 0;
      while (end < clicks.size() && end - i < options_.max_clicks_per_event) {
        const auto& c = clicks[end];
        bytes += 96 + c.code.size() + (c.user_agent ? c.user_agent->size() : 0) +
                 (c.referrer ? c.referrer->size() : 0);
        if (end > i && bytes > options_.max_event_bytes)
          break;
        ++end;
      }
      campaign::ClicksRecorded ev{id, {}};
      ev.clicks.assign(std::make_move_iterator(clicks.begin() + static_cast<std::ptrdiff_t>(i)),
                       std::make_move_iterator(clicks.begin() + static_cast<std::ptrdiff_t>(end)));
      i = end;
      store::NewEvent ne;
      ne.id = ids_.next();
      ne.type = std::string(campaign::ClicksRecorded::kType);
      ne.data = campaign::Activity::encode(ev);
      ne.metadata.actor = "tracking";
      part.events.push_back(std::move(ne));
    }
    parts.push_back(std::move(part));
  }
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto r = store_.append_multi(parts);
    if (r)
      return true;
    failures_.fetch_add(1, std::memory_order_relaxed);
    if (r.error().code == store::errc::closed)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
  }
  return false;
}

void Tracking::recorder() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait_for(lk, options_.flush_interval,
                 [this] { return stopping_ || buffer_.size() >= options_.max_clicks_per_event; });
    if (buffer_.empty()) {
      if (stopping_)
        return;
      continue;
    }
    std::vector<Pending> batch;
    batch.swap(buffer_);
    buffer_.reserve(batch.size());  // the next interval's clicks, without regrowing
    lk.unlock();
    const std::size_t n = batch.size();
    const bool ok = append(batch);
    lk.lock();
    settled_ += n;
    (ok ? appended_ : dropped_).fetch_add(n, std::memory_order_relaxed);
    flushed_cv_.notify_all();
  }
}

void Tracking::flush() {
  std::unique_lock lk(mu_);
  const std::uint64_t target = enqueued_;
  cv_.notify_one();
  flushed_cv_.wait_for(lk, std::chrono::seconds(30), [&] { return settled_ >= target; });
}

void Tracking::stop() {
  follow_stop_.store(true);
  if (follower_.joinable())
    follower_.join();
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (recorder_.joinable())
    recorder_.join();
}

TrackingStatus Tracking::status() const {
  TrackingStatus s;
  {
    std::shared_lock lk(links_mu_);
    s.links = links_.size();
  }
  s.clicks_received = received_.load();
  s.clicks_appended = appended_.load();
  s.clicks_dropped = dropped_.load();
  s.append_failures = failures_.load();
  s.pending = s.clicks_received - std::min(s.clicks_received, s.clicks_appended + s.clicks_dropped);
  return s;
}

}  // namespace eventcrm::app
