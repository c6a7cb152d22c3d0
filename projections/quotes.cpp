// Quotes as listed and shown: lines with their amounts, totals, status and the order an accepted
// quote became.
#include "projections/quotes.hpp"

#include "projections/record_projection.hpp"

namespace eventcrm::projections {

std::vector<PricedLine> priced_lines(const std::vector<domain::quote::Line>& lines,
                                     const std::string& currency) {
  std::vector<PricedLine> out;
  out.reserve(lines.size());
  for (const auto& l : lines) {
    PricedLine p;
    if (!l.product_id.empty())
      p.product_id = l.product_id;
    p.description = l.description;
    p.quantity = l.quantity;
    p.unit_price = {l.unit_price, currency};
    p.discount_percent = l.discount_percent;
    p.tax_percent = l.tax_percent;
    // The domain accepted these lines, so their amounts fit.
    auto t = domain::quote::compute_totals({l}, currency);
    if (t) {
      p.subtotal = t->subtotal;
      p.discount = t->discount;
      p.tax = t->tax;
      p.total = t->total;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::string lines_text(const std::vector<PricedLine>& lines) {
  constexpr std::size_t kMax = 300;  // the facet is copied into every index row
  std::string out;
  for (const auto& l : lines) {
    for (const auto* part : {&l.product_id, &l.description}) {
      if (*part && !(*part)->empty() && out.size() < kMax)
        out += (out.empty() ? "" : " ") + **part;
    }
  }
  if (out.size() > kMax) {
    std::size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
      --cut;  // not inside a UTF-8 sequence
    out.resize(cut);
  }
  return out;
}

namespace {

namespace quote = domain::quote;

struct QuoteRow {
  std::string id;
  std::string account_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> opportunity_id;
  std::string currency;
  std::vector<PricedLine> lines;
  quote::Totals totals;
  std::optional<domain::Date> valid_until;
  std::string status = "draft";  // draft | sent | accepted | rejected
  std::optional<std::string> order_id;
  std::optional<std::string> rejection_reason;
  std::optional<domain::Timestamp> sent_at;
  std::optional<domain::Timestamp> accepted_at;
  std::optional<domain::Timestamp> rejected_at;
  std::string created_by;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  std::int64_t version = -1;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("account_id", s.account_id);
    f("contact_id", s.contact_id);
    f("opportunity_id", s.opportunity_id);
    f("currency", s.currency);
    f("lines", s.lines);
    f("totals", s.totals);
    f("valid_until", s.valid_until);
    f("status", s.status);
    f("order_id", s.order_id);
    f("rejection_reason", s.rejection_reason);
    f("sent_at", s.sent_at);
    f("accepted_at", s.accepted_at);
    f("rejected_at", s.rejected_at);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
    f("updated_at", s.updated_at);
    f("version", s.version);
  }
};

class Quotes final : public RecordProjection<quote::Aggregate, QuoteRow> {
 public:
  std::string name() const override { return std::string(kQuotes); }
  std::uint32_t version() const override { return 3; }  // 3: one index per sort key
  const records::Spec& spec() const override { return quotes_spec(); }

 protected:
  void update(QuoteRow& row, const quote::Event& event,
              const store::RecordedEvent& recorded) override {
    std::visit(domain::codec::overloaded{
                   [&](const quote::Created& e) {
                     row.account_id = e.account_id;
                     row.contact_id = e.contact_id;
                     row.opportunity_id = e.opportunity_id;
                     row.currency = e.currency;
                     row.lines = priced_lines(e.lines, e.currency);
                     row.totals = e.totals;
                     row.valid_until = e.valid_until;
                     row.created_by = e.created_by;
                   },
                   [&](const quote::LinesReplaced& e) {
                     row.lines = priced_lines(e.lines, row.currency);
                     row.totals = e.totals;
                   },
                   [&](const quote::Sent& e) {
                     row.status = "sent";
                     row.sent_at = e.sent_at;
                   },
                   [&](const quote::Accepted& e) {
                     row.status = "accepted";
                     row.order_id = e.order_id;
                     row.accepted_at = e.accepted_at;
                   },
                   [&](const quote::Rejected& e) {
                     row.status = "rejected";
                     row.rejection_reason = e.reason;
                     row.rejected_at = domain::Timestamp{recorded.time_ms};
                   },
               },
               event);
  }
  records::Facets facets(const QuoteRow& row) const override {
    records::Facets f{{"account_id", row.account_id},
                      {"status", row.status},
                      {"currency", row.currency},
                      {"created_at", row.created_at.to_string()}};
    if (row.contact_id)
      f.emplace_back("contact_id", *row.contact_id);
    if (row.opportunity_id)
      f.emplace_back("opportunity_id", *row.opportunity_id);
    if (row.valid_until)
      f.emplace_back("valid_until", row.valid_until->to_string());
    if (std::string text = lines_text(row.lines); !text.empty())
      f.emplace_back("lines", std::move(text));
    return f;
  }
  std::vector<std::pair<std::string, std::string>> sort_keys(const QuoteRow& row) const override {
    return {{"created_at", row.created_at.to_string()},
            {"updated_at", row.updated_at.to_string()},
            {"total", records::key_decimal(row.totals.total.amount)},
            {"valid_until", row.valid_until ? row.valid_until->to_string() : std::string()}};
  }
};

}  // namespace

const records::Spec& quotes_spec() {
  static const records::Spec spec{
      {"-created_at", "created_at", "-updated_at", "-total", "total", "valid_until"},
      {"account_id", "status", "opportunity_id"},
      {"lines"},
  };
  return spec;
}

std::unique_ptr<Projection> make_quotes() {
  return std::make_unique<Quotes>();
}

}  // namespace eventcrm::projections
