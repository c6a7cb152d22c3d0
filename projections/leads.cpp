// Leads as listed and shown: the prospect, where it came from (source, campaign, UTM), owner,
// status, and once converted the account, contact and opportunity it became.
#include "projections/leads.hpp"

#include "common/personal_data.hpp"
#include "domain/lead.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace lead = domain::lead;

struct LeadRow {
  std::string id;
  std::string company;
  std::string first_name;
  std::string last_name;
  std::string name;  // "first last", for lists and search
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> source;
  std::optional<std::string> campaign_id;
  std::optional<lead::Utm> utm;  // absent when the lead carried no UTM parameters
  std::string owner_id;
  std::string status = "open";  // open | qualified | disqualified | converted
  std::optional<std::string> qualified_by;
  std::optional<std::string> disqualify_reason;
  std::optional<std::string> account_id;  // once converted
  std::optional<std::string> contact_id;
  std::optional<std::string> opportunity_id;
  std::optional<bool> account_created;
  std::optional<domain::Timestamp> converted_at;
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("company", s.company);
    f("first_name", s.first_name);
    f("last_name", s.last_name);
    f("name", s.name);
    f("email", s.email);
    f("phone", s.phone);
    f("source", s.source);
    f("campaign_id", s.campaign_id);
    f("utm", s.utm);
    f("owner_id", s.owner_id);
    f("status", s.status);
    f("qualified_by", s.qualified_by);
    f("disqualify_reason", s.disqualify_reason);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("opportunity_id", s.opportunity_id);
    f("account_created", s.account_created);
    f("converted_at", s.converted_at);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

class Leads final : public RecordProjection<lead::Aggregate, LeadRow> {
 public:
  std::string name() const override { return std::string(kLeads); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return leads_spec(); }

 protected:
  void update(LeadRow& row, const lead::Event& event,
              const store::RecordedEvent& recorded) override {
    std::visit(domain::codec::overloaded{
                   [&](const lead::Created& e) {
                     row.company = e.company;
                     row.first_name = e.first_name;
                     row.last_name = e.last_name;
                     row.name =
                         e.first_name.empty() ? e.last_name : e.first_name + " " + e.last_name;
                     row.email = e.email;
                     row.phone = e.phone;
                     row.source = e.source;
                     row.campaign_id = e.campaign_id;
                     if (e.utm != lead::Utm{})
                       row.utm = e.utm;
                     row.owner_id = e.owner_id;
                     row.created_by = e.created_by;
                   },
                   [&](const lead::Qualified& e) {
                     row.status = "qualified";
                     row.qualified_by = e.qualified_by;
                     row.disqualify_reason.reset();
                   },
                   [&](const lead::Disqualified& e) {
                     row.status = "disqualified";
                     row.disqualify_reason = e.reason;
                   },
                   [&](const lead::Assigned& e) { row.owner_id = e.owner_id; },
                   [&](const lead::Converted& e) {
                     row.status = "converted";
                     row.account_id = e.account_id;
                     row.contact_id = e.contact_id;
                     row.opportunity_id = e.opportunity_id;
                     row.account_created = e.account_created;
                     row.converted_at = domain::Timestamp{recorded.time_ms};
                   },
                   [&](const domain::notification::Requested&) {},
                   // Erasure: the row (and its index rows) lose what they held of the person.
                   [&](const lead::Forgotten&) {
                     const std::string marker(kErasedMarker);
                     if (!row.first_name.empty())
                       row.first_name = marker;
                     row.last_name = marker;
                     row.name = row.first_name.empty() ? marker : marker + " " + marker;
                     if (row.email)
                       row.email = marker;
                     if (row.phone)
                       row.phone = marker;
                   },
               },
               event);
  }
  records::Facets facets(const LeadRow& row) const override {
    records::Facets f{{"company", row.company},
                      {"name", row.name},
                      {"owner_id", row.owner_id},
                      {"status", row.status},
                      {"created_at", row.created_at.to_string()}};
    if (row.email)
      f.emplace_back("email", *row.email);
    if (row.phone)
      f.emplace_back("phone", *row.phone);
    if (row.source)
      f.emplace_back("source", *row.source);
    if (row.campaign_id)
      f.emplace_back("campaign_id", *row.campaign_id);
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(const LeadRow& row) const override {
    return {{"created_at", row.created_at.to_string()},
            {"updated_at", row.updated_at.to_string()},
            {"company", records::key_text(row.company)}};
  }
};

}  // namespace

const records::Spec& leads_spec() {
  static const records::Spec spec{
      {"-created_at", "created_at", "company", "-updated_at"},
      {"status", "owner_id", "source", "campaign_id"},
      {"company", "name", "email", "phone"},
  };
  return spec;
}

std::unique_ptr<Projection> make_leads() {
  return std::make_unique<Leads>();
}

}  // namespace eventcrm::projections
