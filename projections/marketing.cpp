// The campaigns collection and the campaign ROI / funnel read model; see marketing.hpp.
// campaign_roi rows (projection-local keys):
//   c/<campaign>              → CampaignRow: totals ever, status, currency, open pipeline
//   d/<campaign>\0<YYYY-MM-DD> → CampaignFlows of that day (period queries sum a key range)
//   o/<opportunity>           → OppRow: its campaign and what it adds to the pipeline
//   l/<lead>                  → the lead's campaign (and whether its qualification counted)
//   u/<contact|lead>/<id>     → unsubscribed (the campaign it happened on)
#include "projections/marketing.hpp"

#include <simdjson.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "domain/campaign.hpp"
#include "domain/lead.hpp"
#include "domain/opportunity.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

__extension__ using i128 = __int128;
namespace campaign = domain::campaign;
namespace lead = domain::lead;
namespace opportunity = domain::opportunity;
using domain::Decimal;
using domain::Money;

// ---- the campaigns collection ----

struct CostRow {
  std::string cost_id;
  Money amount;
  domain::Date date;
  std::string category;
  std::optional<std::string> note;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("cost_id", s.cost_id);
    f("amount", s.amount);
    f("date", s.date);
    f("category", s.category);
    f("note", s.note);
  }
};

struct LinkRow {
  std::string code;
  std::string target_url;
  domain::Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("code", s.code);
    f("target_url", s.target_url);
    f("created_at", s.created_at);
  }
};

struct CampaignDoc {
  std::string id;
  std::string name;
  std::string channel;
  std::optional<std::string> objective;
  std::string status = "draft";
  std::optional<campaign::Segment> segment;
  std::optional<Money> budget;
  std::optional<domain::Date> starts_on;
  std::optional<domain::Date> ends_on;
  std::optional<std::string> landing_url;
  std::optional<std::string> utm_source;
  std::optional<std::string> utm_medium;
  std::optional<std::string> utm_campaign;
  bool reviewed = false;
  std::optional<std::string> cancel_reason;
  // The latest entries (a document stays small however many there are; all of them are in the
  // campaign's stream) and how many there are in all.
  std::vector<CostRow> costs;
  std::int64_t cost_entries = 0;
  std::vector<LinkRow> tracking_links;
  std::int64_t tracking_link_count = 0;
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("name", s.name);
    f("channel", s.channel);
    f("objective", s.objective);
    f("status", s.status);
    f("segment", s.segment);
    f("budget", s.budget);
    f("starts_on", s.starts_on);
    f("ends_on", s.ends_on);
    f("landing_url", s.landing_url);
    f("utm_source", s.utm_source);
    f("utm_medium", s.utm_medium);
    f("utm_campaign", s.utm_campaign);
    f("reviewed", s.reviewed);
    f("cancel_reason", s.cancel_reason);
    f("costs", s.costs);
    f("cost_entries", s.cost_entries);
    f("tracking_links", s.tracking_links);
    f("tracking_link_count", s.tracking_link_count);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

constexpr std::size_t kListedEntries = 200;

class Campaigns final : public RecordProjection<campaign::Aggregate, CampaignDoc> {
 public:
  std::string name() const override { return std::string(kCampaigns); }
  std::uint32_t version() const override { return 4; }  // 4: one index per sort key
  const records::Spec& spec() const override { return campaigns_spec(); }

 protected:
  void update(CampaignDoc& row, const campaign::Event& event,
              const store::RecordedEvent&) override {
    std::visit(domain::codec::overloaded{
                   [&](const campaign::Created& e) {
                     row.name = e.name;
                     row.channel = e.channel;
                     row.objective = e.objective;
                     row.budget = e.budget;
                     row.starts_on = e.starts_on;
                     row.ends_on = e.ends_on;
                     row.created_by = e.created_by;
                   },
                   [&](const campaign::BasicsSet& e) {
                     row.name = e.name;
                     row.channel = e.channel;
                     row.objective = e.objective;
                     row.reviewed = false;
                   },
                   [&](const campaign::AudienceSet& e) {
                     row.segment = e.segment;
                     row.reviewed = false;
                   },
                   [&](const campaign::BudgetSet& e) {
                     row.budget = e.budget;
                     row.starts_on = e.starts_on;
                     row.ends_on = e.ends_on;
                     row.reviewed = false;
                   },
                   [&](const campaign::TrackingSet& e) {
                     row.landing_url = e.landing_url;
                     row.utm_source = e.utm_source;
                     row.utm_medium = e.utm_medium;
                     row.utm_campaign = e.utm_campaign;
                     row.reviewed = false;
                   },
                   [&](const campaign::Reviewed&) { row.reviewed = true; },
                   [&](const campaign::Launched& e) { row.status = e.status; },
                   [&](const campaign::Started&) { row.status = "active"; },
                   [&](const campaign::Completed&) { row.status = "completed"; },
                   [&](const campaign::Cancelled& e) {
                     row.status = "cancelled";
                     row.cancel_reason = e.reason;
                   },
                   [&](const campaign::CostRecorded& e) {
                     row.costs.push_back({e.cost_id, e.amount, e.date, e.category, e.note});
                     if (row.costs.size() > kListedEntries)
                       row.costs.erase(row.costs.begin());
                     ++row.cost_entries;
                   },
                   [&](const campaign::TrackingLinkCreated& e) {
                     row.tracking_links.push_back({e.code, e.target_url, e.created_at});
                     if (row.tracking_links.size() > kListedEntries)
                       row.tracking_links.erase(row.tracking_links.begin());
                     ++row.tracking_link_count;
                   },
               },
               event);
  }
  records::Facets facets(const CampaignDoc& row) const override {
    return {{"status", row.status},
            {"channel", row.channel},
            {"name", row.name},
            {"created_at", row.created_at.to_string()}};
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(
      const CampaignDoc& row) const override {
    return {{"created_at", row.created_at.to_string()},
            {"updated_at", row.updated_at.to_string()},
            {"name", records::key_text(row.name)}};
  }
};

// ---- campaign_roi ----

template <class T>
std::string encode(const T& v) {
  domain::json::Writer w;
  domain::codec::put_fields(w, v);
  return w.take();
}
template <class T>
bool decode(std::string_view bytes, T& out) {
  auto parsed = domain::json::parse(bytes);
  std::string error;
  return parsed && domain::codec::get_fields(*parsed, out, "", error);
}

// Attribution models: rows "c/", "d/" (first touch: every figure) and "C/", "D/" (last touch:
// only the opportunity figures, the rest is the same under both).
enum class Model { first, last };
constexpr Model kModels[] = {Model::first, Model::last};

struct CampaignRow {
  std::string campaign_id;
  std::string name;
  std::string channel;
  std::string status = "draft";
  std::optional<std::string> currency;
  CampaignFlows flows;
  std::int64_t open_opportunities = 0;
  Decimal pipeline;
  Decimal weighted_pipeline;
  std::int64_t other_currency_opportunities = 0;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("name", s.name);
    f("channel", s.channel);
    f("status", s.status);
    f("currency", s.currency);
    f("flows", s.flows);
    f("open_opportunities", s.open_opportunities);
    f("pipeline", s.pipeline);
    f("weighted_pipeline", s.weighted_pipeline);
    f("other_currency_opportunities", s.other_currency_opportunities);
  }
};

// An opportunity attributed to a campaign, first touch (its campaign_id) and last touch (the
// campaign its contact, else its lead, last responded to before it was created).
struct OppRow {
  std::optional<std::string> campaign_id;
  std::optional<std::string> last_campaign_id;
  Money amount;
  int probability = 0;
  std::string status = "open";  // open | won | lost
  // In the campaign's currency: summed into its money figures (per attribution).
  bool counted = false;
  bool last_counted = false;
  std::optional<domain::Date> won_on;
  std::optional<Decimal> won_amount;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("last_campaign_id", s.last_campaign_id);
    f("amount", s.amount);
    f("probability", s.probability);
    f("status", s.status);
    f("counted", s.counted);
    f("last_counted", s.last_counted);
    f("won_on", s.won_on);
    f("won_amount", s.won_amount);
  }
  const std::optional<std::string>& campaign(Model m) const {
    return m == Model::first ? campaign_id : last_campaign_id;
  }
  bool is_counted(Model m) const { return m == Model::first ? counted : last_counted; }
};

struct LeadRow {
  std::string campaign_id;
  bool qualified = false;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("campaign_id", s.campaign_id);
    f("qualified", s.qualified);
  }
};

std::string campaign_key(std::string_view id, Model m = Model::first) {
  return (m == Model::first ? "c/" : "C/") + std::string(id);
}
std::string day_prefix(std::string_view id, Model m) {
  std::string k = (m == Model::first ? "d/" : "D/") + std::string(id);
  k.push_back('\0');
  return k;
}
std::string day_key(std::string_view id, domain::Date d, Model m = Model::first) {
  std::string k = (m == Model::first ? "d/" : "D/") + std::string(id);
  k.push_back('\0');
  k += d.to_string();
  return k;
}

Decimal plus(Decimal a, Decimal b) {
  auto r = a.plus(b);
  if (!r)
    throw std::runtime_error("campaign figure overflow");
  return *r;
}
Decimal minus(Decimal a, Decimal b) {
  auto r = a.minus(b);
  if (!r)
    throw std::runtime_error("campaign figure overflow");
  return *r;
}
Decimal weighted(Decimal amount, int probability) {
  auto r = amount.percent(probability);
  if (!r)
    throw std::runtime_error("campaign figure overflow");
  return *r;
}

class CampaignRoi final : public Projection {
 public:
  std::string name() const override { return std::string(kCampaignRoi); }
  std::uint32_t version() const override { return 2; }
  store::Filter filter() const override {
    return {{},
            {std::string(campaign::kCategory), std::string(campaign::kActivityCategory),
             std::string(lead::kCategory), std::string(opportunity::kCategory)}};
  }

  void apply(const store::RecordedEvent& e, Batch& batch) override {
    const std::string category = e.category();
    if (category == campaign::kCategory) {
      auto ev = campaign::Aggregate::decode(e.type, e.data);
      if (!ev)
        throw std::runtime_error("event " + e.id + " does not decode: " + ev.error().message);
      on_campaign(*ev, e, batch);
    } else if (category == campaign::kActivityCategory) {
      // Click batches are the bulk of the log (~1,250 clicks an event); only their days count
      // here, read without building the batch (the full decode below is the fallback).
      if (e.type == campaign::ClicksRecorded::kType && count_clicks(e.data, batch))
        return;
      auto ev = campaign::Activity::decode(e.type, e.data);
      if (!ev)
        throw std::runtime_error("event " + e.id + " does not decode: " + ev.error().message);
      on_activity(*ev, batch);
    } else if (category == lead::kCategory) {
      auto ev = lead::Aggregate::decode(e.type, e.data);
      if (!ev)
        throw std::runtime_error("event " + e.id + " does not decode: " + ev.error().message);
      on_lead(*ev, e, batch);
    } else if (category == opportunity::kCategory) {
      auto ev = opportunity::Aggregate::decode(e.type, e.data);
      if (!ev)
        throw std::runtime_error("event " + e.id + " does not decode: " + ev.error().message);
      on_opportunity(*ev, batch);
    }
  }

 private:
  // A clicks_recorded.v1 event's clicks per day, read with simdjson On-Demand: the campaign id
  // and each click's `at`. False (nothing written) when the document is not as expected.
  static bool count_clicks(std::string_view data, Batch& b) {
    thread_local simdjson::ondemand::parser parser;
    thread_local std::string buf;
    buf.assign(data);
    buf.append(simdjson::SIMDJSON_PADDING, '\0');
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (parser.iterate(buf.data(), data.size(), buf.size()).get(doc) || doc.get_object().get(obj))
      return false;
    std::string campaign_id;
    std::vector<std::pair<domain::Date, std::int64_t>> days;  // runs of clicks on one day
    bool saw_clicks = false;
    for (auto field_result : obj) {
      simdjson::ondemand::field field;
      std::string_view key;
      if (std::move(field_result).get(field) || field.unescaped_key().get(key))
        return false;
      if (key == "campaign_id") {
        std::string_view v;
        if (field.value().get_string().get(v))
          return false;
        campaign_id = std::string(v);
      } else if (key == "clicks") {
        simdjson::ondemand::array clicks;
        if (field.value().get_array().get(clicks))
          return false;
        saw_clicks = true;
        for (auto click_result : clicks) {
          simdjson::ondemand::object click;
          std::string_view at;
          if (std::move(click_result).get_object().get(click) || click["at"].get_string().get(at))
            return false;
          auto t = domain::Timestamp::parse(at);
          if (!t)
            return false;
          const domain::Date day = t->date();
          if (days.empty() || !(days.back().first == day))
            days.emplace_back(day, 0);
          ++days.back().second;
        }
      }
    }
    if (campaign_id.empty() || !saw_clicks)
      return false;
    for (const auto& [day, n] : days) {
      const std::int64_t count = n;
      add(b, campaign_id, day, [count](CampaignFlows& f) { f.clicks += count; });
    }
    return true;
  }

  static std::optional<CampaignRow> load(Batch& b, std::string_view id, Model m = Model::first) {
    auto v = b.get(campaign_key(id, m));
    if (!v)
      return std::nullopt;
    CampaignRow row;
    if (!decode(*v, row))
      throw std::runtime_error("campaign_roi row of " + std::string(id) + " does not decode");
    return row;
  }
  static CampaignRow load_or_new(Batch& b, std::string_view id, Model m = Model::first) {
    if (auto r = load(b, id, m))
      return std::move(*r);
    CampaignRow row;
    row.campaign_id = std::string(id);
    return row;
  }
  static void save(Batch& b, const CampaignRow& row, Model m = Model::first) {
    b.put(campaign_key(row.campaign_id, m), encode(row));
  }
  // Adds to the campaign's totals and to one day's figures.
  template <class Fn>
  static void add(Batch& b, std::string_view id, domain::Date day, Fn&& fn,
                  Model m = Model::first) {
    CampaignRow row = load_or_new(b, id, m);
    fn(row.flows);
    save(b, row, m);
    const std::string dk = day_key(id, day, m);
    CampaignFlows flows;
    if (auto v = b.get(dk); v && !decode(*v, flows))
      throw std::runtime_error("campaign_roi day row does not decode");
    fn(flows);
    b.put(dk, encode(flows));
  }

  void on_campaign(const campaign::Event& ev, const store::RecordedEvent& e, Batch& b) {
    const std::string id = e.stream.substr(campaign::kCategory.size() + 1);
    std::visit(domain::codec::overloaded{
                   [&](const campaign::Created& x) {
                     CampaignRow row = load_or_new(b, id);
                     row.name = x.name;
                     row.channel = x.channel;
                     if (x.budget && !row.currency)
                       row.currency = x.budget->currency;
                     save(b, row);
                   },
                   [&](const campaign::BasicsSet& x) {
                     CampaignRow row = load_or_new(b, id);
                     row.name = x.name;
                     row.channel = x.channel;
                     save(b, row);
                   },
                   [&](const campaign::BudgetSet& x) {
                     CampaignRow row = load_or_new(b, id);
                     if (!row.currency)
                       row.currency = x.budget.currency;
                     save(b, row);
                   },
                   [&](const campaign::Launched& x) { set_status(b, id, x.status); },
                   [&](const campaign::Started&) { set_status(b, id, "active"); },
                   [&](const campaign::Completed&) { set_status(b, id, "completed"); },
                   [&](const campaign::Cancelled&) { set_status(b, id, "cancelled"); },
                   [&](const campaign::CostRecorded& x) {
                     CampaignRow row = load_or_new(b, id);
                     if (!row.currency) {
                       row.currency = x.amount.currency;
                       save(b, row);
                     }
                     // The domain keeps a campaign's costs in one currency.
                     if (*row.currency != x.amount.currency)
                       return;
                     add(b, id, x.date,
                         [&](CampaignFlows& f) { f.cost = plus(f.cost, x.amount.amount); });
                   },
                   [&](const auto&) {},
               },
               ev);
  }
  static void set_status(Batch& b, const std::string& id, std::string status) {
    CampaignRow row = load_or_new(b, id);
    row.status = std::move(status);
    save(b, row);
  }

  void on_activity(const campaign::ActivityEvent& ev, Batch& b) {
    std::visit(domain::codec::overloaded{
                   [&](const campaign::ClicksRecorded& x) {
                     // A batch may span midnight: count each click on its own day.
                     std::size_t i = 0;
                     while (i < x.clicks.size()) {
                       const domain::Date day = x.clicks[i].at.date();
                       std::int64_t n = 0;
                       while (i < x.clicks.size() && x.clicks[i].at.date() == day) {
                         ++n;
                         ++i;
                       }
                       add(b, x.campaign_id, day, [n](CampaignFlows& f) { f.clicks += n; });
                     }
                   },
                   [&](const campaign::ImpressionsRecorded& x) {
                     add(b, x.campaign_id, x.date,
                         [&](CampaignFlows& f) { f.impressions += x.count; });
                   },
                   [&](const campaign::ResponseRecorded& x) {
                     add(b, x.campaign_id, x.responded_at.date(), [&](CampaignFlows& f) {
                       if (x.kind == "opened")
                         ++f.opened;
                       else if (x.kind == "clicked")
                         ++f.clicked;
                       else if (x.kind == "registered")
                         ++f.registered;
                       else if (x.kind == "replied")
                         ++f.replied;
                       else if (x.kind == "purchased")
                         ++f.purchased;
                       else if (x.kind == "unsubscribed")
                         ++f.unsubscribed;
                     });
                     // The last campaign each person responded to (last-touch attribution).
                     if (x.contact_id)
                       b.put("t/contact/" + *x.contact_id, x.campaign_id);
                     if (x.lead_id)
                       b.put("t/lead/" + *x.lead_id, x.campaign_id);
                     if (x.kind == "unsubscribed") {
                       if (x.contact_id)
                         b.put("u/contact/" + *x.contact_id, x.campaign_id);
                       if (x.lead_id)
                         b.put("u/lead/" + *x.lead_id, x.campaign_id);
                     }
                   },
               },
               ev);
  }

  void on_lead(const lead::Event& ev, const store::RecordedEvent& e, Batch& b) {
    std::visit(domain::codec::overloaded{
                   [&](const lead::Created& x) {
                     if (!x.campaign_id || x.campaign_id->empty())
                       return;
                     b.put("l/" + x.lead_id, encode(LeadRow{*x.campaign_id, false}));
                     add(b, *x.campaign_id, x.created_at.date(),
                         [](CampaignFlows& f) { ++f.leads; });
                   },
                   [&](const lead::Qualified& x) {
                     auto v = b.get("l/" + x.lead_id);
                     LeadRow row;
                     if (!v || !decode(*v, row) || row.qualified)
                       return;  // not from a campaign, or counted once already
                     row.qualified = true;
                     b.put("l/" + x.lead_id, encode(row));
                     add(b, row.campaign_id, domain::Timestamp{e.time_ms}.date(),
                         [](CampaignFlows& f) { ++f.qualified; });
                   },
                   [&](const auto&) {},
               },
               ev);
  }

  // Moves an open opportunity's contribution in or out of its campaign's pipeline.
  static void pipeline(CampaignRow& row, const OppRow& o, Model m, int sign) {
    if (!o.is_counted(m) || o.status != "open")
      return;
    row.open_opportunities += sign;
    if (sign > 0) {
      row.pipeline = plus(row.pipeline, o.amount.amount);
      row.weighted_pipeline = plus(row.weighted_pipeline, weighted(o.amount.amount, o.probability));
    } else {
      row.pipeline = minus(row.pipeline, o.amount.amount);
      row.weighted_pipeline =
          minus(row.weighted_pipeline, weighted(o.amount.amount, o.probability));
    }
  }

  // The campaign's currency (the first money it sees, when it has none yet).
  static std::string currency_of(Batch& b, const std::string& campaign_id,
                                 const std::string& fallback) {
    CampaignRow row = load_or_new(b, campaign_id);
    if (!row.currency) {
      row.currency = fallback;
      save(b, row);
    }
    return *row.currency;
  }

  void on_created(const opportunity::Created& c, Batch& b) {
    OppRow o;
    if (c.campaign_id && !c.campaign_id->empty())
      o.campaign_id = c.campaign_id;
    for (const auto& [kind, id] :
         {std::pair{"contact", c.contact_id}, std::pair{"lead", c.lead_id}}) {
      if (o.last_campaign_id || !id)
        continue;
      if (auto v = b.get(std::string("t/") + kind + "/" + *id))
        o.last_campaign_id = std::move(*v);
    }
    if (!o.last_campaign_id)
      o.last_campaign_id = o.campaign_id;
    if (!o.campaign_id && !o.last_campaign_id)
      return;  // not from a campaign
    o.amount = c.amount;
    o.probability = c.probability;
    for (Model m : kModels) {
      const auto& id = o.campaign(m);
      if (!id)
        continue;
      const bool counted = currency_of(b, *id, c.amount.currency) == c.amount.currency;
      (m == Model::first ? o.counted : o.last_counted) = counted;
      CampaignRow row = load_or_new(b, *id, m);
      if (!counted)
        ++row.other_currency_opportunities;
      pipeline(row, o, m, +1);
      save(b, row, m);
      add(
          b, *id, c.created_at.date(), [](CampaignFlows& f) { ++f.opportunities; }, m);
    }
    b.put("o/" + c.opportunity_id, encode(o));
  }

  void on_opportunity(const opportunity::Event& ev, Batch& b) {
    if (const auto* c = std::get_if<opportunity::Created>(&ev))
      return on_created(*c, b);
    const std::string opp_id = std::visit(
        [](const auto& x) -> std::string {
          if constexpr (requires { x.opportunity_id; })
            return x.opportunity_id;
          else
            return {};
        },
        ev);
    if (opp_id.empty())
      return;
    auto v = b.get("o/" + opp_id);
    if (!v)
      return;  // not from a campaign
    OppRow o;
    if (!decode(*v, o))
      throw std::runtime_error("campaign_roi opportunity row does not decode");
    const OppRow before = o;
    std::optional<std::pair<domain::Date, Decimal>> won, unwon;
    std::visit(domain::codec::overloaded{
                   [&](const opportunity::StageChanged& x) { o.probability = x.probability; },
                   [&](const opportunity::Updated& x) {
                     if (x.amount && x.amount->currency == o.amount.currency)
                       o.amount = *x.amount;
                     if (x.probability)
                       o.probability = *x.probability;
                   },
                   [&](const opportunity::Won& x) {
                     o.status = "won";
                     if (x.amount.currency == o.amount.currency) {
                       o.won_on = x.closed_on;
                       o.won_amount = x.amount.amount;
                       won = std::pair{x.closed_on, x.amount.amount};
                     }
                   },
                   [&](const opportunity::Lost&) { o.status = "lost"; },
                   [&](const opportunity::Reopened& x) {
                     if (o.status == "won" && o.won_on && o.won_amount)
                       unwon = std::pair{*o.won_on, *o.won_amount};
                     o.status = "open";
                     o.probability = x.probability;
                     o.won_on.reset();
                     o.won_amount.reset();
                   },
                   [&](const auto&) {},
               },
               ev);
    for (Model m : kModels) {
      const auto& id = o.campaign(m);
      if (!id)
        continue;
      CampaignRow row = load_or_new(b, *id, m);
      pipeline(row, before, m, -1);
      pipeline(row, o, m, +1);
      save(b, row, m);
      if (!o.is_counted(m))
        continue;
      if (won) {
        add(
            b, *id, won->first,
            [&](CampaignFlows& f) {
              ++f.won;
              f.won_revenue = plus(f.won_revenue, won->second);
            },
            m);
      }
      if (unwon) {
        add(
            b, *id, unwon->first,
            [&](CampaignFlows& f) {
              --f.won;
              f.won_revenue = minus(f.won_revenue, unwon->second);
            },
            m);
      }
    }
    b.put("o/" + opp_id, encode(o));
  }
};

}  // namespace

void CampaignFlows::add(const CampaignFlows& o) {
  cost = plus(cost, o.cost);
  impressions += o.impressions;
  clicks += o.clicks;
  opened += o.opened;
  clicked += o.clicked;
  registered += o.registered;
  replied += o.replied;
  purchased += o.purchased;
  unsubscribed += o.unsubscribed;
  leads += o.leads;
  qualified += o.qualified;
  opportunities += o.opportunities;
  won += o.won;
  won_revenue = plus(won_revenue, o.won_revenue);
}

const records::Spec& campaigns_spec() {
  static const records::Spec spec{
      {"-created_at", "created_at", "name", "-updated_at"},
      {"status", "channel"},
      {"name"},
  };
  return spec;
}

std::unique_ptr<Projection> make_campaigns() {
  return std::make_unique<Campaigns>();
}
std::unique_ptr<Projection> make_campaign_roi() {
  return std::make_unique<CampaignRoi>();
}

std::vector<CampaignFigures> campaign_figures(const View& view, const RoiQuery& q) {
  std::vector<CampaignFigures> out;
  auto one = [&](std::string_view value) {
    CampaignRow row;
    if (!decode(value, row))
      throw std::runtime_error("campaign_roi row does not decode");
    CampaignFigures f;
    f.campaign_id = row.campaign_id;
    f.name = row.name;
    f.channel = row.channel;
    f.status = row.status;
    f.currency = row.currency;
    f.open_opportunities = row.open_opportunities;
    f.pipeline = row.pipeline;
    f.weighted_pipeline = row.weighted_pipeline;
    f.other_currency_opportunities = row.other_currency_opportunities;
    auto flows = [&](Model m, const CampaignFlows& ever) {
      if (!q.from && !q.to)
        return ever;
      CampaignFlows sum;
      std::string from = day_prefix(row.campaign_id, m);
      std::string to = from;
      from += q.from ? q.from->to_string() : std::string();
      to += q.to ? q.to->to_string() + "\x01" : std::string("\x7f");
      view.scan(from, to, [&](std::string_view, std::string_view v) {
        CampaignFlows day;
        if (!decode(v, day))
          throw std::runtime_error("campaign_roi day row does not decode");
        sum.add(day);
        return true;
      });
      return sum;
    };
    f.flows = flows(Model::first, row.flows);
    if (q.last_touch) {
      // Only the opportunity figures depend on the attribution model.
      CampaignRow last;
      if (auto lv = view.get(campaign_key(row.campaign_id, Model::last)); lv && !decode(*lv, last))
        throw std::runtime_error("campaign_roi row does not decode");
      const CampaignFlows lf = flows(Model::last, last.flows);
      f.flows.opportunities = lf.opportunities;
      f.flows.won = lf.won;
      f.flows.won_revenue = lf.won_revenue;
      f.open_opportunities = last.open_opportunities;
      f.pipeline = last.pipeline;
      f.weighted_pipeline = last.weighted_pipeline;
      f.other_currency_opportunities = last.other_currency_opportunities;
    }
    out.push_back(std::move(f));
  };
  if (q.campaign_id) {
    if (auto v = view.get(campaign_key(*q.campaign_id)))
      one(*v);
    return out;
  }
  view.scan("c/", "c0", [&](std::string_view, std::string_view v) {
    one(v);
    return out.size() < q.limit;
  });
  return out;
}

bool unsubscribed(const View& view, std::string_view kind, std::string_view id) {
  return view.get("u/" + std::string(kind) + "/" + std::string(id)).has_value();
}

std::optional<Decimal> divide(Decimal a, Decimal b) {
  if (b.units() == 0)
    return std::nullopt;
  // units(a/b) = a.units × 10^4 / b.units, rounded half away from zero.
  i128 num = static_cast<i128>(a.units()) * Decimal::kUnit;
  i128 den = b.units();
  const bool negative = (num < 0) != (den < 0);
  if (num < 0)
    num = -num;
  if (den < 0)
    den = -den;
  i128 q = (num * 2 + den) / (den * 2);
  if (negative)
    q = -q;
  if (q > INT64_MAX || q < INT64_MIN)
    return std::nullopt;
  return Decimal::from_units(static_cast<std::int64_t>(q));
}

}  // namespace eventcrm::projections
