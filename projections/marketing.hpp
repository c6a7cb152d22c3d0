// Marketing read models (R-MKT): the campaigns collection (GET /v1/campaigns, /v1/campaigns/{id})
// and `campaign_roi`, which folds campaigns, their activity streams, leads and opportunities into
// per-campaign and per-campaign-day figures for the ROI and funnel reports, and remembers who
// unsubscribed (segment selections leave them out).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/money.hpp"
#include "domain/time.hpp"
#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kCampaigns = "campaigns";
inline constexpr std::string_view kCampaignRoi = "campaign_roi";
const records::Spec& campaigns_spec();
std::unique_ptr<Projection> make_campaigns();
std::unique_ptr<Projection> make_campaign_roi();

// Flow figures: what happened in a period (per day rows summed) or ever (the campaign row).
struct CampaignFlows {
  domain::Decimal cost;
  std::int64_t impressions = 0;
  std::int64_t clicks = 0;
  std::int64_t opened = 0, clicked = 0, registered = 0, replied = 0, purchased = 0,
               unsubscribed = 0;
  std::int64_t leads = 0;
  std::int64_t qualified = 0;
  std::int64_t opportunities = 0;
  std::int64_t won = 0;
  domain::Decimal won_revenue;

  std::int64_t responses() const {
    return opened + clicked + registered + replied + purchased + unsubscribed;
  }
  void add(const CampaignFlows& o);
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("cost", s.cost);
    f("impressions", s.impressions);
    f("clicks", s.clicks);
    f("opened", s.opened);
    f("clicked", s.clicked);
    f("registered", s.registered);
    f("replied", s.replied);
    f("purchased", s.purchased);
    f("unsubscribed", s.unsubscribed);
    f("leads", s.leads);
    f("qualified", s.qualified);
    f("opportunities", s.opportunities);
    f("won", s.won);
    f("won_revenue", s.won_revenue);
  }
};

struct CampaignFigures {
  std::string campaign_id;
  std::string name;
  std::string channel;
  std::string status;
  std::optional<std::string> currency;  // the budget's, the first cost's or opportunity's
  CampaignFlows flows;                  // within [from, to] when asked, else ever
  // The campaign's open opportunities now (not windowed): amount and probability-weighted.
  std::int64_t open_opportunities = 0;
  domain::Decimal pipeline;
  domain::Decimal weighted_pipeline;
  // Opportunities in another currency than the campaign's: counted, not summed.
  std::int64_t other_currency_opportunities = 0;
};

struct RoiQuery {
  std::optional<std::string> campaign_id;  // none: every campaign
  std::optional<domain::Date> from, to;    // inclusive; a day's figures count by its date
  // Opportunities (and their pipeline and won revenue) by the campaign the contact or lead last
  // responded to before the opportunity was created, instead of the opportunity's campaign_id.
  bool last_touch = false;
  std::size_t limit = 200;
};

std::vector<CampaignFigures> campaign_figures(const View& view, const RoiQuery& q);

// Whether a contact or lead ("contact"/"lead") unsubscribed from any campaign.
bool unsubscribed(const View& view, std::string_view kind, std::string_view id);

// a / b with 4 fractional digits, rounded half away from zero; nullopt when b is 0.
std::optional<domain::Decimal> divide(domain::Decimal a, domain::Decimal b);

}  // namespace eventcrm::projections
