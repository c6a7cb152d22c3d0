// Quotes, orders and contracts over HTTP. A quote's lines are priced by the domain
// (domain/quote.cpp); accepting a sent quote creates its order in one atomic append
// (app/quote_acceptance.cpp); contracts carry dates, a value and attached documents' metadata.
// Read models: projections/quotes.cpp, orders.cpp, contracts.cpp.
#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "api/handlers/command.hpp"
#include "api/handlers/query.hpp"
#include "app/quote_acceptance.hpp"
#include "app/stock_documents.hpp"
#include "domain/account.hpp"
#include "domain/codec.hpp"
#include "domain/contact.hpp"
#include "domain/contract.hpp"
#include "domain/opportunity.hpp"
#include "domain/order.hpp"
#include "domain/quote.hpp"
#include "projections/contracts.hpp"
#include "projections/orders.hpp"
#include "projections/quotes.hpp"

namespace eventcrm::api {
namespace {

namespace quote = domain::quote;
namespace order = domain::order;
namespace contract = domain::contract;

constexpr std::string_view kQuotes = "quotes";
constexpr std::string_view kOrders = "orders";
constexpr std::string_view kContracts = "contracts";
constexpr std::size_t kMaxLines = 200;

const query::Collection& quotes() {
  static const query::Collection c{
      kQuotes,
      projections::kQuotes,
      &projections::quotes_spec(),
      {"account_id", "status", "opportunity_id", "contact_id", "currency"},
      {"created_at", "valid_until"}};
  return c;
}

const query::Collection& orders() {
  static const query::Collection c{
      kOrders,
      projections::kOrders,
      &projections::orders_spec(),
      {"account_id", "status", "quote_id", "opportunity_id", "currency"},
      {"created_at"}};
  return c;
}

const query::Collection& contracts() {
  static const query::Collection c{kContracts,
                                   projections::kContracts,
                                   &projections::contracts_spec(),
                                   {"account_id", "status", "order_id"},
                                   {"ends_on", "starts_on", "renewal_on", "created_at"}};
  return c;
}

// ---- shared pieces ----

// A record the command refers to, checked before it runs.
struct Reference {
  std::string_view category;  // "account"
  std::string id;
  std::string field;  // "account_id"
};

// 422 naming every reference that does not exist; nullopt when all do.
std::optional<Response> missing(const Context& ctx, const std::vector<Reference>& refs) {
  std::vector<FieldError> errors;
  for (const Reference& r : refs) {
    if (!command::exists(ctx, r.category, r.id))
      errors.push_back({r.field, "no such " + std::string(r.category)});
  }
  if (errors.empty())
    return std::nullopt;
  return problem(errc::validation_failed, "the request refers to records that do not exist",
                 std::move(errors));
}

// The domain names some fields after its own types; the API's names are these.
using Renames = std::vector<std::pair<std::string_view, std::string_view>>;

Response failure(app::Error e, const Renames& renames = {}) {
  for (auto& f : e.fields) {
    for (const auto& [from, to] : renames) {
      if (f.field == from)
        f.field = std::string(to);
    }
  }
  return command::from_app_error(e);
}

const Renames& contract_renames() {
  static const Renames r{{"start_date", "starts_on"},
                         {"end_date", "ends_on"},
                         {"renewal_date", "renewal_on"},
                         {"file_name", "name"},
                         {"size_bytes", "size"}};
  return r;
}

// Appends `,"<name>":{...}` members to a command result's JSON object.
void append_members(Response& res, const std::string& members) {
  if (!res.body.empty() && res.body.back() == '}') {
    res.body.pop_back();
    res.body += members;
    res.body.push_back('}');
  }
}

void write_money(std::string& b, const domain::Money& m) {
  b += "{\"amount\":";
  json::write_string(b, domain::codec::decimal_text(m.amount));
  b += ",\"currency\":";
  json::write_string(b, m.currency);
  b += '}';
}

std::string totals_member(const std::vector<quote::Line>& lines, const std::string& currency) {
  auto t = quote::compute_totals(lines, currency);
  if (!t)
    return {};
  std::string b = ",\"totals\":{\"subtotal\":";
  write_money(b, t->subtotal);
  b += ",\"discount\":";
  write_money(b, t->discount);
  b += ",\"tax\":";
  write_money(b, t->tax);
  b += ",\"total\":";
  write_money(b, t->total);
  b += '}';
  return b;
}

// The reason a command needs: the body's "reason" or else X-Reason (both land in the metadata).
std::string required_reason(command::Fields& f, const app::CommandOptions& options) {
  auto reason = f.text("reason", false, 1000);
  return reason ? *reason : options.metadata.reason;
}

// ---- quote lines ----

// A decimal given as a string ("7.5") or, for percentages, a plain JSON number (7.5).
std::optional<domain::Decimal> decimal_of(const json::Value& v, bool numbers) {
  if (v.is_string() || (numbers && v.is_number()))
    return domain::Decimal::parse(v.text);
  return std::nullopt;
}

// The lines of a quote. `currency`: the quote's, when known (a unit price given as money must be
// in it); otherwise the currencies given are collected in `stated` (field → currency).
std::vector<quote::Line> read_lines(command::Fields& f, const std::string* currency,
                                    std::vector<std::pair<std::string, std::string>>* stated) {
  std::vector<quote::Line> out;
  const json::Value* arr = f.array("lines", true);
  if (arr == nullptr)
    return out;
  if (arr->items.size() > kMaxLines) {
    f.fail("lines", "must have at most " + std::to_string(kMaxLines) + " lines");
    return out;
  }
  for (std::size_t i = 0; i < arr->items.size(); ++i) {
    const json::Value& item = arr->items[i];
    const std::string at = "lines[" + std::to_string(i) + "]";
    if (!item.is_object()) {
      f.fail(at, "must be an object");
      continue;
    }
    quote::Line line;
    bool has_quantity = false, has_price = false;
    for (const json::Member& m : item.members) {
      const std::string field = at + "." + m.first;
      const json::Value& v = m.second;
      if (v.kind == json::Value::Kind::null)
        continue;
      if (m.first == "product_id" || m.first == "description") {
        const std::size_t max = m.first == "product_id" ? 200 : 1000;
        if (!v.is_string())
          f.fail(field, "must be a string");
        else if (v.text.size() > max)
          f.fail(field, "must be at most " + std::to_string(max) + " bytes");
        else if (m.first == "product_id")
          line.product_id = v.text;
        else
          line.description = v.text;
      } else if (m.first == "quantity") {
        has_quantity = true;
        if (auto d = decimal_of(v, false))
          line.quantity = *d;
        else
          f.fail(field, "must be a decimal string, e.g. \"2.5\"");
      } else if (m.first == "unit_price") {
        has_price = true;
        if (v.is_object()) {
          const json::Value* amount = v.find("amount");
          const json::Value* cur = v.find("currency");
          auto d = amount != nullptr ? decimal_of(*amount, false) : std::nullopt;
          if (cur == nullptr || !cur->is_string() || !d || v.members.size() != 2) {
            f.fail(field,
                   "must be a decimal string or {\"amount\": \"<decimal>\", \"currency\": "
                   "\"<ISO 4217>\"}");
          } else {
            line.unit_price = *d;
            if (currency != nullptr && !currency->empty() && cur->text != *currency)
              f.fail(field + ".currency", "must be the quote's currency, " + *currency);
            else if (currency == nullptr && stated != nullptr)
              stated->emplace_back(field + ".currency", cur->text);
          }
        } else if (auto d = decimal_of(v, false)) {
          line.unit_price = *d;
        } else {
          f.fail(field, "must be a decimal string, e.g. \"1250.00\", or money");
        }
      } else if (m.first == "discount_percent" || m.first == "tax_percent") {
        if (auto d = decimal_of(v, true))
          (m.first == "discount_percent" ? line.discount_percent : line.tax_percent) = *d;
        else
          f.fail(field, "must be a percentage, e.g. \"7.5\"");
      } else {
        f.fail(field, "unknown field");
      }
    }
    if (!has_quantity)
      f.fail(at + ".quantity", "is required");
    if (!has_price)
      f.fail(at + ".unit_price", "is required");
    out.push_back(std::move(line));
  }
  return out;
}

// ---- quotes ----

void create_quote(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(
      body, {"account_id", "contact_id", "opportunity_id", "currency", "valid_until", "lines"});
  quote::Create c;
  c.account_id = f.text("account_id", true).value_or("");
  c.contact_id = f.text("contact_id", false);
  c.opportunity_id = f.text("opportunity_id", false);
  c.currency = f.text("currency", true).value_or("");
  c.valid_until = f.date("valid_until", false);
  c.lines = read_lines(f, &c.currency, nullptr);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  std::vector<Reference> refs{{domain::account::kCategory, c.account_id, "account_id"}};
  if (c.contact_id)
    refs.push_back({domain::contact::kCategory, *c.contact_id, "contact_id"});
  if (c.opportunity_id)
    refs.push_back({domain::opportunity::kCategory, *c.opportunity_id, "opportunity_id"});
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  const Context* context = &ctx;
  command::submit(ctx, std::move(done),
                  [context, id = std::move(id), c = std::move(c), options = std::move(options),
                   refs = std::move(refs)]() -> Response {
                    if (auto bad = missing(*context, refs))
                      return std::move(*bad);
                    auto r = context->commands->run<quote::Aggregate>(id, c, options);
                    if (!r)
                      return failure(r.error());
                    Response res = command::result(*r, kQuotes, true);
                    append_members(res, totals_member(c.lines, c.currency));
                    return res;
                  });
}

void replace_lines(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"lines"});
  std::vector<std::pair<std::string, std::string>> stated;
  quote::ReplaceLines c{read_lines(f, nullptr, &stated)};
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = req.params.at(0), c = std::move(c), stated = std::move(stated),
                   options = std::move(options)]() -> Response {
                    // A quote's currency is fixed at creation, so checking it before deciding is
                    // safe.
                    auto loaded = runner->load<quote::Aggregate>(id);
                    if (!loaded)
                      return failure(loaded.error());
                    const std::string& currency = loaded->state.currency;
                    if (loaded->version >= 0) {
                      std::vector<FieldError> errors;
                      for (const auto& [field, cur] : stated) {
                        if (cur != currency)
                          errors.push_back({field, "must be the quote's currency, " + currency});
                      }
                      if (!errors.empty())
                        return problem(errc::validation_failed, "the request is invalid",
                                       std::move(errors));
                    }
                    auto r = runner->run<quote::Aggregate>(id, c, options);
                    if (!r)
                      return failure(r.error());
                    Response res = command::result(*r, kQuotes, false);
                    append_members(res, totals_member(c.lines, currency));
                    return res;
                  });
}

void send_quote(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {});
  f.text("reason", false, 1000);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  command::run<quote::Aggregate>(ctx, std::move(done), req.params.at(0), quote::Send{},
                                 std::move(options), kQuotes, false);
}

void reject_quote(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {});
  auto reason = f.text("reason", false, 1000);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  if (!reason && !options.metadata.reason.empty())
    reason = options.metadata.reason;
  command::run<quote::Aggregate>(ctx, std::move(done), req.params.at(0), quote::Reject{reason},
                                 std::move(options), kQuotes, false);
}

void accept_quote(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {});
  f.text("reason", false, 1000);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = req.params.at(0), options = std::move(options)]() -> Response {
                    auto r = app::accept_quote(*runner, id, options);
                    if (!r)
                      return failure(r.error());
                    Response res;
                    res.status = 200;
                    res.content_type = "application/json";
                    std::string& b = res.body;
                    b += "{\"quote_id\":";
                    json::write_string(b, r->quote.id);
                    b += ",\"order_id\":";
                    json::write_string(b, r->order_id);
                    b += ",\"version\":" + std::to_string(r->quote.version);
                    b += ",\"position\":" + std::to_string(r->quote.position);
                    b += '}';
                    res.set_header("ETag", "\"" + std::to_string(r->quote.version) + "\"");
                    res.set_header("X-Position", std::to_string(r->quote.position));
                    return res;
                  });
}

// ---- orders ----

void cancel_order(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {});
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  std::string reason = required_reason(f, options);
  if (!f.ok())
    return done(f.problem());
  // The order's cancellation releases the stock it reserved, in the same write
  // (app/stock_documents.hpp).
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = req.params.at(0), reason = std::move(reason),
                   options = std::move(options)]() -> Response {
                    auto r = app::cancel_order(*runner, id, reason, options);
                    if (!r)
                      return failure(r.error());
                    return command::result(*r, kOrders, false);
                  });
}

// ---- contracts ----

void create_contract(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(
      body, {"account_id", "order_id", "title", "starts_on", "ends_on", "renewal_on", "value"});
  contract::Create c;
  c.account_id = f.text("account_id", true).value_or("");
  c.order_id = f.text("order_id", false);
  c.title = f.text("title", true).value_or("");
  c.start_date = f.date("starts_on", true);
  c.end_date = f.date("ends_on", true);
  c.renewal_date = f.date("renewal_on", false);
  c.value = f.money("value", false);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  std::vector<Reference> refs{{domain::account::kCategory, c.account_id, "account_id"}};
  if (c.order_id)
    refs.push_back({order::kCategory, *c.order_id, "order_id"});
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  const Context* context = &ctx;
  command::submit(ctx, std::move(done),
                  [context, id = std::move(id), c = std::move(c), options = std::move(options),
                   refs = std::move(refs)]() -> Response {
                    if (auto bad = missing(*context, refs))
                      return std::move(*bad);
                    if (c.order_id) {
                      auto o = context->commands->load<order::Aggregate>(*c.order_id);
                      if (!o)
                        return failure(o.error());
                      if (o->state.account_id != c.account_id) {
                        return problem(errc::validation_failed, "the order is another account's",
                                       {{"order_id", "belongs to another account"}});
                      }
                    }
                    auto r = context->commands->run<contract::Aggregate>(id, c, options);
                    if (!r)
                      return failure(r.error(), contract_renames());
                    return command::result(*r, kContracts, true);
                  });
}

void renew_contract(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"ends_on", "renewal_on"});
  auto ends_on = f.date("ends_on", true);
  auto renewal_on = f.date("renewal_on", false);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = req.params.at(0), c = contract::Renew{*ends_on, renewal_on},
                   options = std::move(options)]() -> Response {
                    auto r = runner->run<contract::Aggregate>(id, c, options);
                    if (!r)
                      return failure(r.error(), contract_renames());
                    return command::result(*r, kContracts, false);
                  });
}

void terminate_contract(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {});
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  contract::Terminate c{required_reason(f, options)};
  if (!f.ok())
    return done(f.problem());
  command::run<contract::Aggregate>(ctx, std::move(done), req.params.at(0), std::move(c),
                                    std::move(options), kContracts, false);
}

void attach_document(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"name", "media_type", "size", "sha256"});
  contract::AttachDocument c;
  c.file_name = f.text("name", true, 255).value_or("");
  c.media_type = f.text("media_type", true, 255).value_or("");
  c.size_bytes = f.integer("size", true, 0, std::int64_t{1} << 50).value_or(0);
  c.sha256 = f.text("sha256", true, 64).value_or("");
  // Hex digests are compared as text: one spelling.
  std::transform(c.sha256.begin(), c.sha256.end(), c.sha256.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (f.has("media_type") && c.media_type.find('/') == std::string::npos)
    f.fail("media_type", "must be a media type, e.g. application/pdf");
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  const Context* context = &ctx;
  command::submit(
      ctx, std::move(done),
      [context, id = req.params.at(0), c = std::move(c),
       options = std::move(options)]() -> Response {
        auto r = context->commands->run<contract::Aggregate>(id, c, options);
        if (!r)
          return failure(r.error(), contract_renames());
        Response res = command::result(*r, kContracts, true);
        // The document's id was decided with the event: read it back from the log.
        auto written = context->store->read_stream(domain::stream_name(contract::kCategory, id),
                                                   r->version, store::Direction::forward, 1);
        if (written && !written->empty()) {
          auto e = contract::Aggregate::decode(written->front().type, written->front().data);
          if (e) {
            if (const auto* d = std::get_if<contract::DocumentAttached>(&*e)) {
              std::string member = ",\"document_id\":";
              json::write_string(member, d->document_id);
              append_members(res, member);
            }
          }
        }
        return res;
      });
}

// ---- queries ----

template <const query::Collection& (*C)()>
void get(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), C());
}

template <const query::Collection& (*C)()>
void list(const Request& req, const Context& ctx, Completion done) {
  query::list(req, ctx, std::move(done), C());
}

}  // namespace

std::vector<Route> commerce_routes() {
  return {
      {Method::post, "/v1/quotes", nullptr, create_quote, Produces::json, true, "Create a quote"},
      {Method::get, "/v1/quotes", nullptr, list<quotes>, Produces::json, false, "List quotes"},
      {Method::get, "/v1/quotes/{id}", nullptr, get<quotes>, Produces::json, false, "A quote"},
      {Method::post, "/v1/quotes/{id}/replace-lines", nullptr, replace_lines, Produces::json, true,
       "Replace a draft quote's lines"},
      {Method::post, "/v1/quotes/{id}/send", nullptr, send_quote, Produces::json, true,
       "Send a quote"},
      {Method::post, "/v1/quotes/{id}/accept", nullptr, accept_quote, Produces::json, true,
       "Accept a quote, creating its order"},
      {Method::post, "/v1/quotes/{id}/reject", nullptr, reject_quote, Produces::json, true,
       "Reject a quote"},
      {Method::get, "/v1/orders", nullptr, list<orders>, Produces::json, false, "List orders"},
      {Method::get, "/v1/orders/{id}", nullptr, get<orders>, Produces::json, false, "An order"},
      {Method::post, "/v1/orders/{id}/cancel", nullptr, cancel_order, Produces::json, true,
       "Cancel an order"},
      {Method::post, "/v1/contracts", nullptr, create_contract, Produces::json, true,
       "Create a contract"},
      {Method::get, "/v1/contracts", nullptr, list<contracts>, Produces::json, false,
       "List contracts"},
      {Method::get, "/v1/contracts/{id}", nullptr, get<contracts>, Produces::json, false,
       "A contract with its documents"},
      {Method::post, "/v1/contracts/{id}/renew", nullptr, renew_contract, Produces::json, true,
       "Renew a contract"},
      {Method::post, "/v1/contracts/{id}/terminate", nullptr, terminate_contract, Produces::json,
       true, "Terminate a contract"},
      {Method::post, "/v1/contracts/{id}/documents", nullptr, attach_document, Produces::json, true,
       "Attach a document to a contract"},
  };
}

}  // namespace eventcrm::api
