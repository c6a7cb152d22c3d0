// Marketing campaigns (R-MKT): a draft filled step by step (basics → audience → budget →
// tracking → review), launched into scheduled/active, then completed or cancelled; cost entries
// and tracking links at any time. The high-volume facts (clicks, impressions, responses) live in
// a second stream per campaign, `campaign_activity-<id>` (the `Activity` aggregate below), so
// they never contend with the campaign's own optimistic-concurrency version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/money.hpp"

namespace eventcrm::domain::campaign {

inline constexpr std::string_view kCategory = "campaign";
inline constexpr std::string_view kActivityCategory = "campaign_activity";

// email, sms, ads, newsletter, webcast, search, telesales, print, tv, event, other
bool valid_channel(std::string_view c);
const std::vector<std::string>& channels();
// opened, clicked, registered, replied, purchased, unsubscribed
bool valid_response_kind(std::string_view k);
const std::vector<std::string>& response_kinds();
// accounts, contacts, leads
bool valid_segment_entity(std::string_view e);
// The filterable fields of a segment over `entity` (the collection's list filters).
const std::vector<std::string>& segment_fields(std::string_view entity);
// An absolute http(s) URL of printable ASCII, at most 2,000 bytes.
bool valid_target_url(std::string_view url);

struct SegmentFilter {
  std::string field;
  std::string value;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("field", s.field);
    f("value", s.value);
  }
  bool operator==(const SegmentFilter&) const = default;
};

// A saved filter over one collection; members who unsubscribed are left out of a selection.
struct Segment {
  std::string entity;  // accounts | contacts | leads
  std::vector<SegmentFilter> filters;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("entity", s.entity);
    f("filters", s.filters);
  }
  bool operator==(const Segment&) const = default;
};

struct Created {
  static constexpr std::string_view kType = "campaign.created.v1";
  std::string campaign_id;
  std::string name;
  std::string channel;
  std::optional<std::string> objective;
  std::optional<Money> budget;
  std::optional<Date> starts_on;
  std::optional<Date> ends_on;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("name", s.name);
    f("channel", s.channel);
    f("objective", s.objective);
    f("budget", s.budget);
    f("starts_on", s.starts_on);
    f("ends_on", s.ends_on);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

// Wizard step 1.
struct BasicsSet {
  static constexpr std::string_view kType = "campaign.basics_set.v1";
  std::string campaign_id;
  std::string name;
  std::string channel;
  std::optional<std::string> objective;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("name", s.name);
    f("channel", s.channel);
    f("objective", s.objective);
  }
  bool operator==(const BasicsSet&) const = default;
};

// Wizard step 2.
struct AudienceSet {
  static constexpr std::string_view kType = "campaign.audience_set.v1";
  std::string campaign_id;
  Segment segment;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("segment", s.segment);
  }
  bool operator==(const AudienceSet&) const = default;
};

// Wizard step 3: budget and period.
struct BudgetSet {
  static constexpr std::string_view kType = "campaign.budget_set.v1";
  std::string campaign_id;
  Money budget;
  Date starts_on;
  Date ends_on;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("budget", s.budget);
    f("starts_on", s.starts_on);
    f("ends_on", s.ends_on);
  }
  bool operator==(const BudgetSet&) const = default;
};

// Wizard step 4: where the campaign sends people and how their visits are tagged.
struct TrackingSet {
  static constexpr std::string_view kType = "campaign.tracking_set.v1";
  std::string campaign_id;
  std::string landing_url;
  std::optional<std::string> utm_source;
  std::optional<std::string> utm_medium;
  std::optional<std::string> utm_campaign;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("landing_url", s.landing_url);
    f("utm_source", s.utm_source);
    f("utm_medium", s.utm_medium);
    f("utm_campaign", s.utm_campaign);
  }
  bool operator==(const TrackingSet&) const = default;
};

// Wizard step 5: the whole draft checked and confirmed.
struct Reviewed {
  static constexpr std::string_view kType = "campaign.reviewed.v1";
  std::string campaign_id;
  std::string reviewed_by;
  Timestamp reviewed_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("reviewed_by", s.reviewed_by);
    f("reviewed_at", s.reviewed_at);
  }
  bool operator==(const Reviewed&) const = default;
};

// Draft → scheduled (starts later) or active (starts today or earlier).
struct Launched {
  static constexpr std::string_view kType = "campaign.launched.v1";
  std::string campaign_id;
  std::string status;  // scheduled | active
  Date starts_on;
  Date ends_on;
  std::string launched_by;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("status", s.status);
    f("starts_on", s.starts_on);
    f("ends_on", s.ends_on);
    f("launched_by", s.launched_by);
  }
  bool operator==(const Launched&) const = default;
};

struct Started {
  static constexpr std::string_view kType = "campaign.started.v1";
  std::string campaign_id;
  Timestamp started_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("started_at", s.started_at);
  }
  bool operator==(const Started&) const = default;
};

struct Completed {
  static constexpr std::string_view kType = "campaign.completed.v1";
  std::string campaign_id;
  Timestamp completed_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("completed_at", s.completed_at);
  }
  bool operator==(const Completed&) const = default;
};

struct Cancelled {
  static constexpr std::string_view kType = "campaign.cancelled.v1";
  std::string campaign_id;
  std::string previous_status;
  std::string reason;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("previous_status", s.previous_status);
    f("reason", s.reason);
  }
  bool operator==(const Cancelled&) const = default;
};

struct CostRecorded {
  static constexpr std::string_view kType = "campaign.cost_recorded.v1";
  std::string campaign_id;
  std::string cost_id;
  Money amount;
  Date date;
  std::string category;  // e.g. media, agency, production, printing
  std::optional<std::string> note;
  std::string recorded_by;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("cost_id", s.cost_id);
    f("amount", s.amount);
    f("date", s.date);
    f("category", s.category);
    f("note", s.note);
    f("recorded_by", s.recorded_by);
  }
  bool operator==(const CostRecorded&) const = default;
};

struct TrackingLinkCreated {
  static constexpr std::string_view kType = "campaign.tracking_link_created.v1";
  std::string campaign_id;
  std::string code;
  std::string target_url;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("code", s.code);
    f("target_url", s.target_url);
    f("created_at", s.created_at);
  }
  bool operator==(const TrackingLinkCreated&) const = default;
};

using Event =
    std::variant<Created, BasicsSet, AudienceSet, BudgetSet, TrackingSet, Reviewed, Launched,
                 Started, Completed, Cancelled, CostRecorded, TrackingLinkCreated>;

enum class Status { none, draft, scheduled, active, completed, cancelled };
const char* to_string(Status s) noexcept;
bool from_string(std::string_view text, Status& out) noexcept;

struct State {
  Status status = Status::none;
  std::string id;
  std::string name;
  std::string channel;
  std::optional<std::string> objective;
  std::optional<Segment> segment;
  std::optional<Money> budget;
  std::optional<Date> starts_on;
  std::optional<Date> ends_on;
  std::optional<std::string> landing_url;
  std::optional<std::string> currency;  // the budget's, else the first cost's: all costs use it
  std::int64_t links = 0;
  // Snapshots: a campaign with many tracking links is not folded from its first event each time.
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("status", s.status);
    f("id", s.id);
    f("name", s.name);
    f("channel", s.channel);
    f("objective", s.objective);
    f("segment", s.segment);
    f("budget", s.budget);
    f("starts_on", s.starts_on);
    f("ends_on", s.ends_on);
    f("landing_url", s.landing_url);
    f("currency", s.currency);
    f("links", s.links);
  }
};

struct Create {
  std::string name;
  std::string channel;
  std::optional<std::string> objective;
  std::optional<Money> budget;
  std::optional<Date> starts_on;
  std::optional<Date> ends_on;
};
struct SetBasics {
  std::string name;
  std::string channel;
  std::optional<std::string> objective;
};
struct SetAudience {
  Segment segment;
};
struct SetBudget {
  Money budget;
  std::optional<Date> starts_on;
  std::optional<Date> ends_on;
};
struct SetTracking {
  std::string landing_url;
  std::optional<std::string> utm_source;
  std::optional<std::string> utm_medium;
  std::optional<std::string> utm_campaign;
};
struct Review {};
struct Launch {};
struct Start {};
struct Complete {};
struct Cancel {
  std::string reason;
};
struct RecordCost {
  Money amount;
  Date date;
  std::string category;
  std::optional<std::string> note;
  std::optional<std::string> cost_id;  // default: a fresh id (the app passes one to answer it)
};
struct CreateTrackingLink {
  std::string target_url;
  std::string code;  // made by the app from a fresh id (tracking_code), so it can answer it
};
using Command = std::variant<Create, SetBasics, SetAudience, SetBudget, SetTracking, Review, Launch,
                             Start, Complete, Cancel, RecordCost, CreateTrackingLink>;

// What a launch (and the review step) still needs, one entry per missing item: empty when the
// draft is complete as of `today`.
std::vector<FieldError> missing_for_launch(const State& s, Date today);

// A short code from a fresh id: its first 16 letters and digits (a UUID v4 gives 60 random
// bits).
std::string tracking_code(std::string_view fresh_id);

struct Aggregate {
  using State = campaign::State;
  using Event = campaign::Event;
  using Command = campaign::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
  static std::string encode_state(const State& s);
  static bool decode_state(std::string_view bytes, State& s);
};

// ---- the activity stream: clicks, impressions and responses ----

struct Click {
  std::string code;
  Timestamp at;
  std::optional<std::string> user_agent;
  std::optional<std::string> referrer;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("code", s.code);
    f("at", s.at);
    f("user_agent", s.user_agent);
    f("referrer", s.referrer);
  }
  bool operator==(const Click&) const = default;
};

// Clicks are recorded in batches (see app/tracking.hpp): one event carries many.
struct ClicksRecorded {
  static constexpr std::string_view kType = "campaign_activity.clicks_recorded.v1";
  std::string campaign_id;
  std::vector<Click> clicks;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("clicks", s.clicks);
  }
  bool operator==(const ClicksRecorded&) const = default;
};

struct ImpressionsRecorded {
  static constexpr std::string_view kType = "campaign_activity.impressions_recorded.v1";
  std::string campaign_id;
  std::int64_t count = 0;
  Date date;
  std::optional<std::string> source;  // e.g. the ad network
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("count", s.count);
    f("date", s.date);
    f("source", s.source);
  }
  bool operator==(const ImpressionsRecorded&) const = default;
};

struct ResponseRecorded {
  static constexpr std::string_view kType = "campaign_activity.response_recorded.v1";
  std::string campaign_id;
  std::optional<std::string> response_id;  // the sender's id: the same id is recorded once
  std::string kind;
  std::optional<std::string> contact_id;
  std::optional<std::string> lead_id;
  Timestamp responded_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("response_id", s.response_id);
    f("kind", s.kind);
    f("contact_id", s.contact_id);
    f("lead_id", s.lead_id);
    f("responded_at", s.responded_at);
  }
  bool operator==(const ResponseRecorded&) const = default;
};

using ActivityEvent = std::variant<ClicksRecorded, ImpressionsRecorded, ResponseRecorded>;

struct ActivityState {
  std::int64_t clicks = 0;
  std::int64_t impressions = 0;
  std::int64_t responses = 0;
};

struct Response {
  std::optional<std::string> id;
  std::string kind;
  std::optional<std::string> contact_id;
  std::optional<std::string> lead_id;
  std::optional<Timestamp> time;  // default: now
};
struct RecordResponses {
  std::vector<Response> responses;
};
struct RecordImpressions {
  std::int64_t count = 0;
  std::optional<Date> date;  // default: today (UTC)
  std::optional<std::string> source;
};
using ActivityCommand = std::variant<RecordResponses, RecordImpressions>;

inline constexpr std::size_t kMaxResponsesPerCommand = 10'000;

// The activity stream's facts are appended with no expected version (they are independent
// facts, never refused for a concurrent one); `decide` only checks them. Its Context::id is the
// campaign's id.
struct Activity {
  using State = ActivityState;
  using Event = ActivityEvent;
  using Command = ActivityCommand;
  static constexpr std::string_view category = kActivityCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command&) { return true; }
};

}  // namespace eventcrm::domain::campaign
