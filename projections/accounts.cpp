// Accounts as listed and shown: profile, owner, status, timestamps.
#include "projections/accounts.hpp"

#include "domain/account.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace account = domain::account;

struct AccountRow {
  std::string id;
  std::string name;
  std::optional<std::string> industry;
  std::optional<std::string> website;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> tax_id;
  std::optional<std::string> address;
  std::string owner_id;
  std::string status = "active";  // active | archived
  std::optional<std::string> archive_reason;
  std::optional<std::string> lead_id;
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("name", s.name);
    f("industry", s.industry);
    f("website", s.website);
    f("email", s.email);
    f("phone", s.phone);
    f("tax_id", s.tax_id);
    f("address", s.address);
    f("owner_id", s.owner_id);
    f("status", s.status);
    f("archive_reason", s.archive_reason);
    f("lead_id", s.lead_id);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

// An update's present fields replace the row's; an empty string clears an optional one.
void merge(AccountRow& row, const account::Profile& p) {
  auto set = [](std::optional<std::string>& field, const std::optional<std::string>& v) {
    if (v)
      field = v->empty() ? std::nullopt : v;
  };
  if (p.name)
    row.name = *p.name;
  set(row.industry, p.industry);
  set(row.website, p.website);
  set(row.email, p.email);
  set(row.phone, p.phone);
  set(row.tax_id, p.tax_id);
  set(row.address, p.address);
}

class Accounts final : public RecordProjection<account::Aggregate, AccountRow> {
 public:
  std::string name() const override { return std::string(kAccounts); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return accounts_spec(); }

 protected:
  void update(AccountRow& row, const account::Event& event, const store::RecordedEvent&) override {
    std::visit(domain::codec::overloaded{
                   [&](const account::Created& e) {
                     merge(row, e.profile);
                     row.owner_id = e.owner_id;
                     row.lead_id = e.lead_id;
                     row.created_by = e.created_by;
                   },
                   [&](const account::Updated& e) { merge(row, e.changes); },
                   [&](const account::OwnerAssigned& e) { row.owner_id = e.owner_id; },
                   [&](const account::Archived& e) {
                     row.status = "archived";
                     row.archive_reason = e.reason;
                   },
                   // Erasure: the row (and its index rows) lose the person's data.
                   [&](const account::Forgotten&) {
                     account::Profile erased;
                     erased.email = row.email;
                     erased.phone = row.phone;
                     erased.tax_id = row.tax_id;
                     erased.address = row.address;
                     merge(row, account::erased(erased));
                   },
               },
               event);
  }
  records::Facets facets(const AccountRow& row) const override {
    records::Facets f{{"name", row.name},
                      {"owner_id", row.owner_id},
                      {"status", row.status},
                      {"created_at", row.created_at.to_string()}};
    if (row.industry)
      f.emplace_back("industry", *row.industry);
    if (row.email)
      f.emplace_back("email", *row.email);
    if (row.tax_id)
      f.emplace_back("tax_id", *row.tax_id);
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(const AccountRow& row) const override {
    return {{"created_at", row.created_at.to_string()},
            {"updated_at", row.updated_at.to_string()},
            {"name", records::key_text(row.name)}};
  }
};

}  // namespace

const records::Spec& accounts_spec() {
  static const records::Spec spec{
      {"-created_at", "created_at", "name", "-updated_at"},
      {"owner_id", "status"},
      {"name", "email", "tax_id"},
  };
  return spec;
}

std::unique_ptr<Projection> make_accounts() {
  return std::make_unique<Accounts>();
}

}  // namespace eventcrm::projections
