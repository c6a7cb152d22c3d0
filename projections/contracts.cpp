// Contracts as listed and shown: dates, value, status, renewals and the attached documents'
// metadata (the bytes live elsewhere).
#include "projections/contracts.hpp"

#include "domain/contract.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace contract = domain::contract;

struct DocumentRow {
  std::string id;
  std::string name;
  std::string media_type;
  std::int64_t size = 0;
  std::string sha256;
  std::string attached_by;
  domain::Timestamp attached_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("name", s.name);
    f("media_type", s.media_type);
    f("size", s.size);
    f("sha256", s.sha256);
    f("attached_by", s.attached_by);
    f("attached_at", s.attached_at);
  }
};

struct RenewalRow {
  domain::Date previous_ends_on;
  domain::Date ends_on;
  std::optional<domain::Date> renewal_on;
  domain::Timestamp renewed_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("previous_ends_on", s.previous_ends_on);
    f("ends_on", s.ends_on);
    f("renewal_on", s.renewal_on);
    f("renewed_at", s.renewed_at);
  }
};

struct ContractRow {
  std::string id;
  std::string account_id;
  std::optional<std::string> order_id;
  std::string title;
  domain::Date starts_on;
  domain::Date ends_on;
  std::optional<domain::Date> renewal_on;
  std::optional<domain::Money> value;
  std::string status = "active";  // active | terminated
  std::vector<DocumentRow> documents;
  std::vector<RenewalRow> renewals;
  std::optional<domain::Date> terminated_on;
  std::optional<std::string> termination_reason;
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("order_id", s.order_id);
    f("title", s.title);
    f("starts_on", s.starts_on);
    f("ends_on", s.ends_on);
    f("renewal_on", s.renewal_on);
    f("value", s.value);
    f("status", s.status);
    f("documents", s.documents);
    f("renewals", s.renewals);
    f("terminated_on", s.terminated_on);
    f("termination_reason", s.termination_reason);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

class Contracts final : public RecordProjection<contract::Aggregate, ContractRow> {
 public:
  std::string name() const override { return std::string(kContracts); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return contracts_spec(); }

 protected:
  void update(ContractRow& row, const contract::Event& event,
              const store::RecordedEvent& recorded) override {
    const domain::Timestamp at{recorded.time_ms};
    std::visit(domain::codec::overloaded{
                   [&](const contract::Created& e) {
                     row.account_id = e.account_id;
                     row.order_id = e.order_id;
                     row.title = e.title;
                     row.starts_on = e.start_date;
                     row.ends_on = e.end_date;
                     row.renewal_on = e.renewal_date;
                     row.value = e.value;
                     row.created_by = e.created_by;
                   },
                   [&](const contract::DocumentAttached& e) {
                     row.documents.push_back({e.document_id, e.file_name, e.media_type,
                                              e.size_bytes, e.sha256, recorded.metadata.actor, at});
                   },
                   [&](const contract::Renewed& e) {
                     row.renewals.push_back({e.previous_end_date, e.end_date, e.renewal_date, at});
                     row.ends_on = e.end_date;
                     row.renewal_on = e.renewal_date;
                   },
                   [&](const contract::Terminated& e) {
                     row.status = "terminated";
                     row.terminated_on = e.terminated_on;
                     row.termination_reason = e.reason;
                   },
               },
               event);
  }
  records::Facets facets(const ContractRow& row) const override {
    records::Facets f{{"account_id", row.account_id},
                      {"status", row.status},
                      {"title", row.title},
                      {"starts_on", row.starts_on.to_string()},
                      {"ends_on", row.ends_on.to_string()},
                      {"created_at", row.created_at.to_string()}};
    if (row.order_id)
      f.emplace_back("order_id", *row.order_id);
    if (row.renewal_on)
      f.emplace_back("renewal_on", row.renewal_on->to_string());
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(
      const ContractRow& row) const override {
    return {{"created_at", row.created_at.to_string()},
            {"updated_at", row.updated_at.to_string()},
            {"ends_on", row.ends_on.to_string()},
            {"renewal_on", row.renewal_on ? row.renewal_on->to_string() : std::string()},
            {"title", records::key_text(row.title)}};
  }
};

}  // namespace

const records::Spec& contracts_spec() {
  static const records::Spec spec{
      {"-created_at", "created_at", "-updated_at", "ends_on", "-ends_on", "renewal_on", "title"},
      {"account_id", "status", "order_id"},
      {"title"},
  };
  return spec;
}

std::unique_ptr<Projection> make_contracts() {
  return std::make_unique<Contracts>();
}

}  // namespace eventcrm::projections
