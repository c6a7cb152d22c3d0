// Contacts as listed and shown: the person, the account they belong to, owner, status.
#include "projections/contacts.hpp"

#include "domain/contact.hpp"
#include "projections/record_projection.hpp"

namespace eventcrm::projections {
namespace {

namespace contact = domain::contact;

struct ContactRow {
  std::string id;
  std::optional<std::string> account_id;
  std::optional<std::string> first_name;
  std::string last_name;
  std::string name;  // "first last", for lists and search
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> title;
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
    f("account_id", s.account_id);
    f("first_name", s.first_name);
    f("last_name", s.last_name);
    f("name", s.name);
    f("email", s.email);
    f("phone", s.phone);
    f("title", s.title);
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

// Present fields replace the row's; an empty string clears an optional one.
void merge(ContactRow& row, const contact::Profile& p) {
  auto set = [](std::optional<std::string>& field, const std::optional<std::string>& v) {
    if (v)
      field = v->empty() ? std::nullopt : v;
  };
  set(row.first_name, p.first_name);
  if (p.last_name)
    row.last_name = *p.last_name;
  set(row.email, p.email);
  set(row.phone, p.phone);
  set(row.title, p.title);
  row.name = row.first_name ? *row.first_name + " " + row.last_name : row.last_name;
}

class Contacts final : public RecordProjection<contact::Aggregate, ContactRow> {
 public:
  std::string name() const override { return std::string(kContacts); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return contacts_spec(); }

 protected:
  void update(ContactRow& row, const contact::Event& event, const store::RecordedEvent&) override {
    std::visit(domain::codec::overloaded{
                   [&](const contact::Created& e) {
                     merge(row, e.profile);
                     row.account_id = e.account_id;
                     row.owner_id = e.owner_id;
                     row.lead_id = e.lead_id;
                     row.created_by = e.created_by;
                   },
                   [&](const contact::Updated& e) { merge(row, e.changes); },
                   [&](const contact::OwnerAssigned& e) { row.owner_id = e.owner_id; },
                   [&](const contact::LinkedToAccount& e) { row.account_id = e.account_id; },
                   [&](const contact::UnlinkedFromAccount&) { row.account_id.reset(); },
                   [&](const contact::Archived& e) {
                     row.status = "archived";
                     row.archive_reason = e.reason;
                   },
                   // Erasure: the row (and its index rows) lose what they held of the person.
                   [&](const contact::Forgotten&) {
                     contact::Profile erased;
                     erased.first_name = row.first_name;
                     erased.last_name = row.last_name;
                     erased.email = row.email;
                     erased.phone = row.phone;
                     merge(row, contact::erased(erased));
                   },
               },
               event);
  }
  records::Facets facets(const ContactRow& row) const override {
    records::Facets f{{"name", row.name},
                      {"owner_id", row.owner_id},
                      {"status", row.status},
                      {"created_at", row.created_at.to_string()}};
    if (row.account_id)
      f.emplace_back("account_id", *row.account_id);
    if (row.email)
      f.emplace_back("email", *row.email);
    if (row.phone)
      f.emplace_back("phone", *row.phone);
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(const ContactRow& row) const override {
    return {{"created_at", row.created_at.to_string()},
            {"updated_at", row.updated_at.to_string()},
            {"last_name", records::key_text(row.last_name + " " + row.first_name.value_or(""))}};
  }
};

}  // namespace

const records::Spec& contacts_spec() {
  static const records::Spec spec{
      {"-created_at", "created_at", "last_name", "-updated_at"},
      {"account_id", "owner_id", "status"},
      {"name", "email", "phone"},
  };
  return spec;
}

std::unique_ptr<Projection> make_contacts() {
  return std::make_unique<Contacts>();
}

}  // namespace eventcrm::projections
