// Opportunities as listed and shown: stage, probability, amount, status, owner, account, dates.
#include "projections/opportunities.hpp"

#include "domain/opportunity.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace opportunity = domain::opportunity;

struct OpportunityRow {
  std::string id;
  std::string account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> lead_id;
  std::optional<std::string> campaign_id;
  std::string name;
  domain::Money amount;
  domain::Money weighted_amount;  // amount × probability / 100 while open
  domain::Date expected_close_date;
  std::string stage;  // the last open stage (kept when won or lost)
  int probability = 0;
  std::string status = "open";  // open | won | lost
  std::string owner_id;
  std::optional<domain::Date> closed_on;
  std::optional<std::string> lost_reason;
  std::optional<std::string> reopened_from;  // won | lost, after a reopen
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("lead_id", s.lead_id);
    f("campaign_id", s.campaign_id);
    f("name", s.name);
    f("amount", s.amount);
    f("weighted_amount", s.weighted_amount);
    f("expected_close_date", s.expected_close_date);
    f("stage", s.stage);
    f("probability", s.probability);
    f("status", s.status);
    f("owner_id", s.owner_id);
    f("closed_on", s.closed_on);
    f("lost_reason", s.lost_reason);
    f("reopened_from", s.reopened_from);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

class Opportunities final : public RecordProjection<opportunity::Aggregate, OpportunityRow> {
 public:
  std::string name() const override { return std::string(kOpportunities); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return opportunities_spec(); }

 protected:
  void update(OpportunityRow& row, const opportunity::Event& event,
              const store::RecordedEvent&) override {
    std::visit(domain::codec::overloaded{
                   [&](const opportunity::Created& e) {
                     row.account_id = e.account_id;
                     row.contact_id = e.contact_id;
                     row.lead_id = e.lead_id;
                     row.campaign_id = e.campaign_id;
                     row.name = e.name;
                     row.amount = e.amount;
                     row.expected_close_date = e.expected_close_date;
                     row.stage = e.stage;
                     row.probability = e.probability;
                     row.owner_id = e.owner_id;
                     row.created_by = e.created_by;
                   },
                   [&](const opportunity::StageChanged& e) {
                     row.stage = e.to_stage;
                     row.probability = e.probability;
                   },
                   [&](const opportunity::Updated& e) {
                     if (e.name)
                       row.name = *e.name;
                     if (e.amount)
                       row.amount = *e.amount;
                     if (e.expected_close_date)
                       row.expected_close_date = *e.expected_close_date;
                     if (e.probability)
                       row.probability = *e.probability;
                   },
                   [&](const opportunity::Won& e) {
                     row.status = "won";
                     row.probability = 100;
                     row.amount = e.amount;
                     row.closed_on = e.closed_on;
                     row.lost_reason.reset();
                   },
                   [&](const opportunity::Lost& e) {
                     row.status = "lost";
                     row.probability = 0;
                     row.closed_on = e.closed_on;
                     row.lost_reason = e.reason;
                   },
                   [&](const opportunity::Reopened& e) {
                     row.reopened_from = e.previous_status;
                     row.status = "open";
                     row.stage = e.stage;
                     row.probability = e.probability;
                     row.closed_on.reset();
                     row.lost_reason.reset();
                   },
                   [&](const opportunity::Assigned& e) { row.owner_id = e.owner_id; },
                   [&](const auto&) {},  // notifications: the stream's version moves on
               },
               event);
    domain::Decimal weighted;
    if (row.status == "open") {
      // A probability is 0..100, so the weighted amount never exceeds the amount.
      weighted = row.amount.amount.percent(static_cast<std::int64_t>(row.probability))
                     .value_or(domain::Decimal{});
    }
    row.weighted_amount = domain::Money{weighted, row.amount.currency};
  }
  records::Facets facets(const OpportunityRow& row) const override {
    records::Facets f{{"name", row.name},
                      {"account_id", row.account_id},
                      {"owner_id", row.owner_id},
                      {"stage", row.stage},
                      {"status", row.status},
                      {"currency", row.amount.currency},
                      {"expected_close_date", row.expected_close_date.to_string()},
                      {"created_at", row.created_at.to_string()}};
    if (row.campaign_id)
      f.emplace_back("campaign_id", *row.campaign_id);
    if (row.contact_id)
      f.emplace_back("contact_id", *row.contact_id);
    if (row.closed_on)
      f.emplace_back("closed_on", row.closed_on->to_string());
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(
      const OpportunityRow& row) const override {
    return {{"created_at", row.created_at.to_string()},
            {"updated_at", row.updated_at.to_string()},
            {"name", records::key_text(row.name)},
            {"expected_close_date", row.expected_close_date.to_string()},
            {"amount", records::key_decimal(row.amount.amount)}};
  }
};

}  // namespace

const records::Spec& opportunities_spec() {
  static const records::Spec spec{
      {"-created_at", "created_at", "name", "expected_close_date", "-expected_close_date",
       "-amount", "amount"},
      {"account_id", "campaign_id", "owner_id", "stage", "status"},
      {"name"},
  };
  return spec;
}

std::unique_ptr<Projection> make_opportunities() {
  return std::make_unique<Opportunities>();
}

}  // namespace eventcrm::projections
