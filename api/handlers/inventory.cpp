// The warehouse over HTTP (R-INV): products, warehouses, stock movement documents (receipts,
// issues, transfers, adjustments: app/stock_documents.cpp), vouchers, and the inventory read
// models (balances, low stock, the movement ledger, the stock-movement report, order payment
// status and daily cash). Read models: projections/inventory.cpp, products.cpp, vouchers.cpp.
#include <chrono>
#include <utility>

#include "api/handlers/command.hpp"
#include "api/handlers/query.hpp"
#include "api/security.hpp"
#include "app/duplicates.hpp"
#include "app/stock_documents.hpp"
#include "domain/account.hpp"
#include "domain/codec.hpp"
#include "domain/contract.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/voucher.hpp"
#include "domain/warehouse.hpp"
#include "projections/inventory.hpp"
#include "projections/orders.hpp"
#include "projections/products.hpp"
#include "projections/vouchers.hpp"

namespace eventcrm::api {
namespace {

namespace product = domain::product;
namespace warehouse = domain::warehouse;
namespace voucher = domain::voucher;
using domain::Decimal;

constexpr std::string_view kProductsPath = "products";
constexpr std::string_view kWarehousesPath = "warehouses";
constexpr std::string_view kVouchersPath = "vouchers";
constexpr std::size_t kMaxLines = 200;

const query::Collection& products() {
  static const query::Collection c{kProductsPath,
                                   projections::kProducts,
                                   &projections::products_spec(),
                                   {"sku", "active", "unit"},
                                   {"created_at"}};
  return c;
}
const query::Collection& warehouses() {
  static const query::Collection c{kWarehousesPath,
                                   projections::kWarehouses,
                                   &projections::warehouses_spec(),
                                   {"code"},
                                   {"created_at"}};
  return c;
}
const query::Collection& vouchers() {
  static const query::Collection c{
      kVouchersPath,
      projections::kVouchers,
      &projections::vouchers_spec(),
      {"account_id", "order_id", "contract_id", "kind", "method", "status", "currency", "supplier"},
      {"date", "created_at"}};
  return c;
}

template <const query::Collection& (*C)()>
void get(const Request& req, const Context& ctx, Completion done) {
  query::get(req, ctx, std::move(done), C());
}
template <const query::Collection& (*C)()>
void list(const Request& req, const Context& ctx, Completion done) {
  query::list(req, ctx, std::move(done), C());
}

// A price given as money, or as a decimal string in `currency`.
std::optional<domain::Money> price(command::Fields& f, std::string_view name,
                                   const std::string& currency) {
  const json::Value* v = f.root().find(name);
  if (v == nullptr || v->kind == json::Value::Kind::null)
    return std::nullopt;
  if (v->is_string()) {
    auto d = f.decimal(name, false);
    return d ? std::optional<domain::Money>(domain::Money{*d, currency}) : std::nullopt;
  }
  return f.money(name, false);
}

Response today_problem() {
  return problem(errc::bad_request, "invalid parameters");
}

domain::Date today_utc() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return domain::Timestamp{ms}.date();
}

// A create refused because the SKU or code is taken: 409 naming the record that has it (no
// `force` here: two products with one SKU would make the SKU useless as a key).
Response unique_failure(app::Error e, std::string_view field, std::string_view message) {
  if (e.code == app::errc::already_exists && !e.existing_id.empty())
    e.message = std::string(message) + " (" + std::string(field) + "): " + e.existing_id;
  return command::from_app_error(e);
}

// ---- products ----

void create_product(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"sku", "name", "unit", "decimals", "currency", "sale_price", "cost",
                           "reorder_level", "active"});
  product::Create c;
  c.sku = f.text("sku", true, 64).value_or("");
  c.name = f.text("name", true).value_or("");
  c.unit = f.text("unit", true, 20).value_or("");
  if (auto d = f.integer("decimals", false, 0, 4))
    c.decimals = static_cast<int>(*d);
  std::string currency = f.text("currency", false, 3).value_or("VND");
  if (f.has("currency") && !domain::valid_currency(currency))
    f.fail("currency", "must be an ISO 4217 code, e.g. VND");
  c.sale_price = price(f, "sale_price", currency);
  c.cost = price(f, "cost", currency);
  c.reorder_level = f.decimal("reorder_level", false);
  c.active = f.flag("active");
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  if (!c.sale_price && !c.cost && f.has("currency")) {
    // No price to carry it: the currency still says what stock is valued in.
    c.cost = domain::Money{Decimal{}, currency};
  }
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  app::CommandRunner* runner = ctx.commands;
  command::submit(
      ctx, std::move(done),
      [runner, id = std::move(id), c = std::move(c), options = std::move(options)]() -> Response {
        std::vector<app::Identity> sku{{"sku", product::normalize_sku(c.sku)}};
        auto r = app::create_unique<product::Aggregate>(*runner, id, c, sku, false, options);
        if (!r)
          return unique_failure(r.error(), "sku", "another product has this SKU");
        return command::result(*r, kProductsPath, true);
      });
}

void update_product(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"name", "unit", "sale_price", "cost", "reorder_level", "active"});
  product::Update c;
  c.name = f.text("name", false);
  c.unit = f.text("unit", false, 20);
  c.sale_price = price(f, "sale_price", "");
  c.cost = price(f, "cost", "");
  c.reorder_level = f.decimal("reorder_level", false);
  c.active = f.flag("active");
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = req.params.at(0), c = std::move(c),
                   options = std::move(options)]() mutable -> Response {
                    // A price given as a plain decimal is in the product's currency.
                    auto loaded = runner->load<product::Aggregate>(id);
                    if (!loaded)
                      return command::from_app_error(loaded.error());
                    for (auto* p : {&c.sale_price, &c.cost}) {
                      if (*p && p->value().currency.empty())
                        p->value().currency = loaded->state.currency;
                    }
                    auto r = runner->run<product::Aggregate>(id, c, options);
                    if (!r)
                      return command::from_app_error(r.error());
                    return command::result(*r, kProductsPath, false);
                  });
}

// ---- warehouses ----

void create_warehouse(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"code", "name"});
  warehouse::Create c;
  c.code = f.text("code", true, 32).value_or("");
  c.name = f.text("name", true).value_or("");
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  app::CommandRunner* runner = ctx.commands;
  command::submit(
      ctx, std::move(done),
      [runner, id = std::move(id), c = std::move(c), options = std::move(options)]() -> Response {
        std::vector<app::Identity> code{{"code", warehouse::normalize_code(c.code)}};
        auto r = app::create_unique<warehouse::Aggregate>(*runner, id, c, code, false, options);
        if (!r)
          return unique_failure(r.error(), "code", "another warehouse has this code");
        return command::result(*r, kWarehousesPath, true);
      });
}

void set_negative_stock(const Request& req, const Context& ctx, Completion done) {
  command::action<warehouse::Aggregate>(
      req, ctx, std::move(done), {"allowed"}, kWarehousesPath,
      [](command::Fields& f) -> std::optional<warehouse::Command> {
        auto allowed = f.flag("allowed");
        if (!allowed) {
          if (!f.has("allowed"))
            f.fail("allowed", "required");
          return std::nullopt;
        }
        return warehouse::SetNegativeStock{*allowed};
      });
}

// ---- stock documents ----

// The lines of a document; errors go to `f`.
std::vector<app::StockLine> read_lines(command::Fields& f, app::DocumentKind kind) {
  std::vector<app::StockLine> out;
  const json::Value* arr = f.array("lines", true);
  if (arr == nullptr)
    return out;
  if (arr->items.empty())
    f.fail("lines", "at least one line");
  if (arr->items.size() > kMaxLines) {
    f.fail("lines", "at most " + std::to_string(kMaxLines) + " lines");
    return out;
  }
  for (std::size_t i = 0; i < arr->items.size(); ++i) {
    const json::Value& item = arr->items[i];
    const std::string at = "lines[" + std::to_string(i) + "]";
    if (!item.is_object()) {
      f.fail(at, "must be an object");
      continue;
    }
    app::StockLine line;
    for (const json::Member& m : item.members) {
      const std::string field = at + "." + m.first;
      const json::Value& v = m.second;
      auto decimal = [&]() -> std::optional<Decimal> {
        auto d = v.is_string() ? Decimal::parse(v.text) : std::nullopt;
        if (!d)
          f.fail(field, "must be a decimal string, e.g. \"2.5\"");
        return d;
      };
      if (m.first == "product_id") {
        if (!v.is_string() || v.text.empty() || v.text.size() > 200)
          f.fail(field, "must be a record id");
        else
          line.product_id = v.text;
      } else if (m.first == "quantity" && kind != app::DocumentKind::adjustment) {
        line.quantity = decimal();
      } else if (m.first == "unit_cost" && kind == app::DocumentKind::receipt) {
        if (v.is_object()) {
          const json::Value* amount = v.find("amount");
          const json::Value* cur = v.find("currency");
          auto d = amount != nullptr && amount->is_string() ? Decimal::parse(amount->text)
                                                            : std::nullopt;
          if (!d || cur == nullptr || !cur->is_string() || !domain::valid_currency(cur->text) ||
              v.members.size() != 2)
            f.fail(field, "must be a decimal string or {\"amount\", \"currency\"}");
          else
            line.unit_cost = domain::Money{*d, cur->text};
        } else if (auto d = decimal()) {
          line.unit_cost = domain::Money{*d, ""};
        }
      } else if (m.first == "counted" && kind == app::DocumentKind::adjustment) {
        line.counted = decimal();
      } else if (m.first == "difference" && kind == app::DocumentKind::adjustment) {
        line.difference = decimal();
      } else {
        f.fail(field, "unknown field");
      }
    }
    if (!item.find("product_id"))
      f.fail(at + ".product_id", "required");
    out.push_back(std::move(line));
  }
  return out;
}

void write_decimal(std::string& b, std::string_view key, Decimal d) {
  b += ",\"";
  b += key;
  b += "\":";
  json::write_string(b, domain::codec::decimal_text(d));
}

Response stock_failure(const app::StockFailure& failure) {
  // A shortage is not a concurrency conflict: its own problem type, so clients can tell them apart.
  Response res = failure.shortage ? problem(errc::insufficient_stock, failure.error.message)
                                  : command::from_app_error(failure.error);
  if (failure.shortage && !res.body.empty() && res.body.back() == '}') {
    const app::Shortage& s = *failure.shortage;
    res.body.pop_back();
    res.body += ",\"product_id\":";
    json::write_string(res.body, s.product_id);
    res.body += ",\"warehouse_id\":";
    json::write_string(res.body, s.warehouse_id);
    write_decimal(res.body, "available", s.available);
    write_decimal(res.body, "requested", s.requested);
    res.body += '}';
  }
  return res;
}

template <app::DocumentKind Kind>
void stock_document(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  app::StockDocument doc;
  doc.kind = Kind;
  command::Fields f = [&body] {
    switch (Kind) {
      case app::DocumentKind::receipt:
        return command::Fields(body, {"warehouse_id", "supplier", "lines"});
      case app::DocumentKind::issue:
        return command::Fields(body, {"warehouse_id", "account_id", "order_id", "lines"});
      case app::DocumentKind::transfer:
        return command::Fields(body, {"from_warehouse_id", "to_warehouse_id", "lines"});
      case app::DocumentKind::adjustment:
        break;
    }
    return command::Fields(body, {"warehouse_id", "lines"});
  }();
  if (Kind == app::DocumentKind::transfer) {
    doc.warehouse_id = f.text("from_warehouse_id", true).value_or("");
    doc.to_warehouse_id = f.text("to_warehouse_id", true).value_or("");
  } else {
    doc.warehouse_id = f.text("warehouse_id", true).value_or("");
  }
  if (Kind == app::DocumentKind::receipt)
    doc.supplier = f.text("supplier", false);
  if (Kind == app::DocumentKind::issue) {
    doc.account_id = f.text("account_id", false);
    doc.order_id = f.text("order_id", false);
  }
  std::optional<std::string> reason;
  if (Kind == app::DocumentKind::adjustment)
    reason = f.text("reason", false, 1000);
  doc.lines = read_lines(f, Kind);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  if (Kind == app::DocumentKind::adjustment) {
    doc.reason = reason.value_or(options.metadata.reason);
    if (doc.reason.empty())
      return done(problem(errc::validation_failed, "an adjustment needs a reason",
                          {{"reason", "required (the body's reason or X-Reason)"}}));
  }
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, doc = std::move(doc), options = std::move(options)]() -> Response {
                    auto r = app::record_stock_document(*runner, doc, options);
                    if (!r)
                      return stock_failure(r.error());
                    Response res;
                    res.status = 201;
                    res.content_type = "application/json";
                    std::string& b = res.body;
                    b += "{\"id\":";
                    json::write_string(b, r->document_id);
                    b += ",\"kind\":";
                    json::write_string(b, app::to_string(doc.kind));
                    b += ",\"position\":" + std::to_string(r->position);
                    b += ",\"movements\":" + std::to_string(r->movements);
                    b += ",\"attempts\":" + std::to_string(r->attempts);
                    b += '}';
                    res.set_header("Location", "/v1/stock/documents/" + r->document_id);
                    res.set_header("X-Position", std::to_string(r->position));
                    return res;
                  });
}

// ---- orders' stock ----

void reserve_order(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"warehouse_id"});
  std::string warehouse_id = f.text("warehouse_id", true).value_or("");
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = req.params.at(0), warehouse_id = std::move(warehouse_id),
                   options = std::move(options)]() -> Response {
                    auto r = app::reserve_order(*runner, id, warehouse_id, options);
                    if (!r)
                      return stock_failure(r.error());
                    Response res;
                    res.status = 200;
                    res.content_type = "application/json";
                    res.body = "{\"order_id\":";
                    json::write_string(res.body, id);
                    res.body += ",\"warehouse_id\":";
                    json::write_string(res.body, warehouse_id);
                    res.body += ",\"position\":" + std::to_string(r->position) +
                                ",\"lines\":" + std::to_string(r->movements) + "}";
                    res.set_header("X-Position", std::to_string(r->position));
                    return res;
                  });
}

void fulfil_order(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {});
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  app::CommandRunner* runner = ctx.commands;
  command::submit(ctx, std::move(done),
                  [runner, id = req.params.at(0), options = std::move(options)]() -> Response {
                    auto r = app::fulfil_order(*runner, id, options);
                    if (!r)
                      return stock_failure(r.error());
                    Response res;
                    res.status = 201;
                    res.content_type = "application/json";
                    res.body = "{\"id\":";
                    json::write_string(res.body, r->document_id);
                    res.body += ",\"kind\":\"issue\",\"order_id\":";
                    json::write_string(res.body, id);
                    res.body += ",\"position\":" + std::to_string(r->position) +
                                ",\"movements\":" + std::to_string(r->movements) +
                                ",\"attempts\":" + std::to_string(r->attempts) + "}";
                    res.set_header("Location", "/v1/stock/documents/" + r->document_id);
                    res.set_header("X-Position", std::to_string(r->position));
                    return res;
                  });
}

// ---- vouchers ----

void create_voucher(const Request& req, const Context& ctx, Completion done) {
  json::Value body;
  if (auto bad = command::parse_object(req, body))
    return done(std::move(*bad));
  command::Fields f(body, {"kind", "amount", "method", "date", "account_id", "supplier", "order_id",
                           "contract_id", "description"});
  voucher::Record c;
  if (auto kind = f.text("kind", true, 20); kind && !voucher::from_string(*kind, c.kind))
    f.fail("kind", "must be receipt (money in) or payment (money out)");
  c.amount = f.money("amount", true).value_or(domain::Money{});
  c.method = f.text("method", true, 40).value_or("");
  c.date = f.date("date", false);
  c.account_id = f.text("account_id", false);
  c.supplier = f.text("supplier", false);
  c.order_id = f.text("order_id", false);
  c.contract_id = f.text("contract_id", false);
  c.description = f.text("description", false, 1000);
  if (!f.ok())
    return done(f.problem());
  app::CommandOptions options;
  if (auto bad = command::read_envelope(req, &body, options))
    return done(std::move(*bad));
  std::string id = ctx.commands != nullptr ? ctx.commands->new_id(options) : std::string();
  const Context* context = &ctx;
  command::submit(
      ctx, std::move(done),
      [context, id = std::move(id), c = std::move(c),
       options = std::move(options)]() mutable -> Response {
        std::vector<FieldError> errors;
        if (c.account_id && !command::exists(*context, domain::account::kCategory, *c.account_id))
          errors.push_back({"account_id", "no such account"});
        if (c.contract_id) {
          auto k = context->commands->load<domain::contract::Aggregate>(*c.contract_id);
          if (!k || k->version < 0)
            errors.push_back({"contract_id", "no such contract"});
          else if (c.account_id && k->state.account_id != *c.account_id)
            errors.push_back({"contract_id", "belongs to another account"});
          else if (!c.account_id)
            c.account_id = k->state.account_id;
        }
        if (c.order_id) {
          // An order's vouchers are in its currency and for its customer.
          auto o = context->commands->load<domain::order::Aggregate>(*c.order_id);
          if (!o || o->state.status == domain::order::Status::none) {
            errors.push_back({"order_id", "no such order"});
          } else {
            if (c.account_id && o->state.account_id != *c.account_id)
              errors.push_back({"order_id", "belongs to another account"});
            else
              c.account_id = o->state.account_id;
            if (o->state.totals.total.currency != c.amount.currency)
              errors.push_back(
                  {"amount", "must be in the order's currency, " + o->state.totals.total.currency});
          }
        }
        if (!errors.empty())
          return problem(errc::validation_failed, "the voucher is invalid", std::move(errors));
        auto r = context->commands->run<voucher::Aggregate>(id, c, options);
        if (!r)
          return command::from_app_error(r.error());
        return command::result(*r, kVouchersPath, true);
      });
}

void void_voucher(const Request& req, const Context& ctx, Completion done) {
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
  command::run<voucher::Aggregate>(ctx, std::move(done), req.params.at(0),
                                   voucher::Void{reason.value_or(options.metadata.reason)},
                                   std::move(options), kVouchersPath, false);
}

// ---- queries ----

Response json_page(const std::vector<std::string>& items, const std::string& next_cursor,
                   std::uint64_t position) {
  Response res;
  res.status = 200;
  res.content_type = "application/json";
  std::string& b = res.body;
  b += "{\"items\":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      b.push_back(',');
    b += items[i];
  }
  b += "],\"next_cursor\":";
  if (next_cursor.empty())
    b += "null";
  else
    json::write_string(b, next_cursor);
  b += '}';
  res.set_header("X-Position", std::to_string(position));
  return res;
}

// `name` or its `_id` spelling (warehouse / warehouse_id).
std::optional<std::string> either(params::Query& q, std::string_view name, std::string_view alt) {
  auto a = q.get(name);
  auto b = q.get(alt);
  if (a && b) {
    q.fail(std::string(name), "give " + std::string(name) + " or " + std::string(alt));
    return std::nullopt;
  }
  if (a)
    return std::string(*a);
  if (b)
    return std::string(*b);
  return std::nullopt;
}

void balances_query(const Request& req, const Context& ctx, Completion done, bool low_only) {
  params::Query q(req, {"warehouse", "warehouse_id", "product", "product_id", "below_reorder",
                        "limit", "cursor", "min_position"});
  auto min = query::min_position(req, q);
  projections::inventory::BalanceQuery bq;
  bq.warehouse_id = either(q, "warehouse", "warehouse_id");
  bq.product_id = either(q, "product", "product_id");
  bq.below_reorder = low_only;
  if (auto b = q.get("below_reorder")) {
    if (*b == "true")
      bq.below_reorder = true;
    else if (*b != "false")
      q.fail("below_reorder", "must be true or false");
  }
  bq.limit = q.limit(query::kDefaultLimit, query::kMaxLimit);
  bq.cursor = std::string(q.get("cursor").value_or(""));
  if (!q.ok())
    return done(q.problem());
  const Context* context = &ctx;
  query::when_applied(ctx, std::move(done), {std::string(projections::kInventory)}, min,
                      [context, bq]() -> Response {
                        Response error;
                        auto view = query::open_view(*context, projections::kInventory, error);
                        if (!view)
                          return error;
                        auto page = projections::inventory::balances(*view, bq);
                        if (!page)
                          return problem(
                              errc::bad_request, "invalid cursor",
                              {{"cursor", "must be a next_cursor from a previous page"}});
                        return json_page(page->items, page->next_cursor, view->position());
                      });
}

void balances(const Request& req, const Context& ctx, Completion done) {
  balances_query(req, ctx, std::move(done), false);
}
void low_stock(const Request& req, const Context& ctx, Completion done) {
  balances_query(req, ctx, std::move(done), true);
}

// An instant from RFC 3339 or a date (its first millisecond; `end`: the day after's).
std::optional<std::int64_t> instant(params::Query& q, std::string_view name, bool end) {
  auto v = q.get(name);
  if (!v)
    return std::nullopt;
  if (auto d = domain::Date::parse(*v))
    return static_cast<std::int64_t>(d->days + (end ? 1 : 0)) * 86'400'000;
  if (auto t = domain::Timestamp::parse(*v))
    return t->ms;
  q.fail(std::string(name), "must be a date (YYYY-MM-DD) or an RFC 3339 time");
  return std::nullopt;
}

void movements(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"product_id", "document_id", "warehouse_id", "from", "to", "limit",
                        "cursor", "min_position"});
  auto min = query::min_position(req, q);
  projections::inventory::LedgerQuery lq;
  if (auto p = q.get("product_id"))
    lq.product_id = std::string(*p);
  if (auto d = q.get("document_id"))
    lq.document_id = std::string(*d);
  if (auto w = q.get("warehouse_id"))
    lq.warehouse_id = std::string(*w);
  if (!lq.product_id && !lq.document_id)
    q.fail("product_id",
           "give product_id (a product's ledger) or document_id (a document's lines)");
  lq.from_ms = instant(q, "from", false);
  lq.to_ms = instant(q, "to", true);
  lq.limit = q.limit(query::kDefaultLimit, query::kMaxLimit);
  lq.cursor = std::string(q.get("cursor").value_or(""));
  if (!q.ok())
    return done(q.problem());
  const Context* context = &ctx;
  query::when_applied(ctx, std::move(done), {std::string(projections::kInventory)}, min,
                      [context, lq]() -> Response {
                        Response error;
                        auto view = query::open_view(*context, projections::kInventory, error);
                        if (!view)
                          return error;
                        auto page = projections::inventory::ledger(*view, lq);
                        if (!page)
                          return problem(
                              errc::bad_request, "invalid cursor",
                              {{"cursor", "must be a next_cursor from a previous page"}});
                        return json_page(page->items, page->next_cursor, view->position());
                      });
}

void stock_document_get(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"min_position"});
  auto min = query::min_position(req, q);
  if (!q.ok())
    return done(q.problem());
  const Context* context = &ctx;
  query::when_applied(ctx, std::move(done), {std::string(projections::kInventory)}, min,
                      [context, id = req.params.at(0)]() -> Response {
                        Response error;
                        auto view = query::open_view(*context, projections::kInventory, error);
                        if (!view)
                          return error;
                        projections::inventory::LedgerQuery lq;
                        lq.document_id = id;
                        lq.limit = 2 * kMaxLines;
                        auto page = projections::inventory::ledger(*view, lq);
                        if (!page || page->items.empty())
                          return problem(errc::not_found, "no such stock document");
                        Response res;
                        res.status = 200;
                        res.content_type = "application/json";
                        std::string& b = res.body;
                        b += "{\"id\":";
                        json::write_string(b, id);
                        b += ",\"lines\":[";
                        for (std::size_t i = 0; i < page->items.size(); ++i) {
                          if (i > 0)
                            b.push_back(',');
                          b += page->items[i];
                        }
                        b += "]}";
                        res.set_header("X-Position", std::to_string(view->position()));
                        return res;
                      });
}

// from/to dates (inclusive); `to` defaults to today, `from` to the first day of to's month.
std::optional<std::pair<domain::Date, domain::Date>> period(params::Query& q) {
  auto date = [&](std::string_view name) -> std::optional<domain::Date> {
    auto v = q.get(name);
    if (!v)
      return std::nullopt;
    auto d = domain::Date::parse(*v);
    if (!d)
      q.fail(std::string(name), "must be a date, YYYY-MM-DD");
    return d;
  };
  auto from = date("from");
  auto to = date("to");
  if (!q.ok())
    return std::nullopt;
  domain::Date end = to.value_or(today_utc());
  domain::Date start;
  if (from) {
    start = *from;
  } else {
    std::string first = end.to_string().substr(0, 8) + "01";
    start = domain::Date::parse(first).value_or(end);
  }
  if (start > end) {
    q.fail("from", "must not be after to");
    return std::nullopt;
  }
  return std::make_pair(start, end);
}

void stock_movement_report(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"from", "to", "warehouse", "warehouse_id", "min_position"});
  auto min = query::min_position(req, q);
  auto w = either(q, "warehouse", "warehouse_id");
  auto p = period(q);
  if (!q.ok() || !p)
    return done(q.ok() ? today_problem() : q.problem());
  const Context* context = &ctx;
  query::when_applied(ctx, std::move(done), {std::string(projections::kInventory)}, min,
                      [context, w, p]() -> Response {
                        Response error;
                        auto view = query::open_view(*context, projections::kInventory, error);
                        if (!view)
                          return error;
                        auto lines = projections::inventory::stock_movement_report(*view, p->first,
                                                                                   p->second, w);
                        Response res;
                        res.status = 200;
                        res.content_type = "application/json";
                        std::string& b = res.body;
                        b += "{\"from\":\"" + p->first.to_string() + "\",\"to\":\"" +
                             p->second.to_string() + "\",\"items\":[";
                        for (std::size_t i = 0; i < lines.size(); ++i) {
                          if (i > 0)
                            b.push_back(',');
                          b += lines[i].json;
                        }
                        b += "]}";
                        res.set_header("X-Position", std::to_string(view->position()));
                        return res;
                      });
}

void order_payment(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"min_position"});
  auto min = query::min_position(req, q);
  if (!q.ok())
    return done(q.problem());
  const Context* context = &ctx;
  query::when_applied(ctx, std::move(done), {std::string(projections::kPayments)}, min,
                      [context, id = req.params.at(0)]() -> Response {
                        Response error;
                        auto view = query::open_view(*context, projections::kPayments, error);
                        if (!view)
                          return error;
                        auto doc = projections::payments::order_payment(*view, id);
                        if (!doc)
                          return problem(errc::not_found, "no such order");
                        Response res;
                        res.status = 200;
                        res.content_type = "application/json";
                        res.body = std::move(*doc);
                        res.set_header("X-Position", std::to_string(view->position()));
                        return res;
                      });
}

void order_payments(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"account_id", "payment_status", "limit", "cursor", "min_position"});
  auto min = query::min_position(req, q);
  projections::payments::OrderQuery oq;
  if (auto a = q.get("account_id"))
    oq.account_id = std::string(*a);
  if (auto s = q.get("payment_status")) {
    oq.payment_status = std::string(*s);
    if (*s != "unpaid" && *s != "partially_paid" && *s != "paid" && *s != "overpaid")
      q.fail("payment_status", "one of unpaid, partially_paid, paid, overpaid");
  }
  oq.limit = q.limit(query::kDefaultLimit, query::kMaxLimit);
  oq.cursor = std::string(q.get("cursor").value_or(""));
  if (!q.ok())
    return done(q.problem());
  const Context* context = &ctx;
  // Record-level reach: a caller who may not see an order does not see its payments either
  // (judged from the order's record, as the orders list does).
  std::shared_ptr<const Principal> reach;
  if (ctx.security != nullptr && req.auth != nullptr && req.auth->reach != perm::Reach::all)
    reach = req.auth;
  query::when_applied(ctx, std::move(done), {std::string(projections::kPayments)}, min,
                      [context, oq, reach]() -> Response {
                        Response error;
                        auto view = query::open_view(*context, projections::kPayments, error);
                        if (!view)
                          return error;
                        auto page = projections::payments::order_payments(*view, oq);
                        if (reach) {
                          auto orders = query::open_view(*context, projections::kOrders, error);
                          if (!orders)
                            return error;
                          std::erase_if(page.items, [&](const std::string& item) {
                            auto parsed = json::decode(item);
                            const json::Value* id = parsed ? parsed->find("order_id") : nullptr;
                            if (id == nullptr || !id->is_string())
                              return true;
                            auto doc = orders->get("d/" + id->text);
                            return !doc || !context->security->in_reach(*reach, *doc);
                          });
                        }
                        return json_page(page.items, page.next_cursor, view->position());
                      });
}

void cash_report(const Request& req, const Context& ctx, Completion done) {
  params::Query q(req, {"from", "to", "currency", "min_position"});
  auto min = query::min_position(req, q);
  std::optional<std::string> currency;
  if (auto c = q.get("currency")) {
    currency = std::string(*c);
    if (!domain::valid_currency(*currency))
      q.fail("currency", "must be an ISO 4217 code, e.g. VND");
  }
  auto p = period(q);
  if (!q.ok() || !p)
    return done(q.ok() ? today_problem() : q.problem());
  const Context* context = &ctx;
  query::when_applied(ctx, std::move(done), {std::string(projections::kPayments)}, min,
                      [context, currency, p]() -> Response {
                        Response error;
                        auto view = query::open_view(*context, projections::kPayments, error);
                        if (!view)
                          return error;
                        auto days = projections::payments::cash_report(*view, p->first, p->second,
                                                                       currency);
                        Response res = json_page(days, "", view->position());
                        res.body.insert(1, "\"from\":\"" + p->first.to_string() + "\",\"to\":\"" +
                                               p->second.to_string() + "\",");
                        return res;
                      });
}

}  // namespace

std::vector<Route> inventory_routes() {
  using K = app::DocumentKind;
  return {
      {Method::post, "/v1/products", nullptr, create_product, Produces::json, true,
       "Create a product (SKU unique)"},
      {Method::get, "/v1/products", nullptr, list<products>, Produces::json, false,
       "List products"},
      {Method::get, "/v1/products/{id}", nullptr, get<products>, Produces::json, false,
       "A product"},
      {Method::patch, "/v1/products/{id}", nullptr, update_product, Produces::json, true,
       "Edit a product"},
      {Method::post, "/v1/warehouses", nullptr, create_warehouse, Produces::json, true,
       "Create a warehouse (code unique)"},
      {Method::get, "/v1/warehouses", nullptr, list<warehouses>, Produces::json, false,
       "List warehouses"},
      {Method::get, "/v1/warehouses/{id}", nullptr, get<warehouses>, Produces::json, false,
       "A warehouse"},
      {Method::post, "/v1/warehouses/{id}/negative-stock", nullptr, set_negative_stock,
       Produces::json, true, "Allow or forbid negative stock in a warehouse (administrators)"},
      {Method::post, "/v1/stock/receipts", nullptr, stock_document<K::receipt>, Produces::json,
       true, "Record a goods receipt note"},
      {Method::post, "/v1/stock/issues", nullptr, stock_document<K::issue>, Produces::json, true,
       "Record a goods issue note"},
      {Method::post, "/v1/stock/transfers", nullptr, stock_document<K::transfer>, Produces::json,
       true, "Transfer stock between warehouses"},
      {Method::post, "/v1/stock/adjustments", nullptr, stock_document<K::adjustment>,
       Produces::json, true, "Record a stock-count adjustment"},
      {Method::get, "/v1/stock/documents/{id}", nullptr, stock_document_get, Produces::json, false,
       "A stock movement document with its lines"},
      {Method::get, "/v1/stock-movements", nullptr, movements, Produces::json, false,
       "The movement ledger of a product, or a document's lines"},
      {Method::get, "/v1/inventory/balances", nullptr, balances, Produces::json, false,
       "Stock balances per product and warehouse"},
      {Method::get, "/v1/inventory/low-stock", nullptr, low_stock, Produces::json, false,
       "Balances at or below their product's reorder level"},
      {Method::get, "/v1/reports/stock-movement", nullptr, stock_movement_report, Produces::json,
       false, "Opening, in, out and closing per product and warehouse for a period"},
      {Method::post, "/v1/vouchers", nullptr, create_voucher, Produces::json, true,
       "Record a receipt or payment voucher"},
      {Method::get, "/v1/vouchers", nullptr, list<vouchers>, Produces::json, false,
       "List vouchers"},
      {Method::get, "/v1/vouchers/{id}", nullptr, get<vouchers>, Produces::json, false,
       "A voucher"},
      {Method::post, "/v1/vouchers/{id}/void", nullptr, void_voucher, Produces::json, true,
       "Void a voucher"},
      {Method::post, "/v1/orders/{id}/reserve", nullptr, reserve_order, Produces::json, true,
       "Reserve an order's products in a warehouse"},
      {Method::post, "/v1/orders/{id}/fulfil", nullptr, fulfil_order, Produces::json, true,
       "Issue an order's reserved stock"},
      {Method::get, "/v1/orders/{id}/payments", nullptr, order_payment, Produces::json, false,
       "An order's paid and outstanding amounts"},
      {Method::get, "/v1/reports/order-payments", nullptr, order_payments, Produces::json, false,
       "Orders' payment status"},
      {Method::get, "/v1/reports/cash", nullptr, cash_report, Produces::json, false,
       "Daily cash in and out from vouchers"},
  };
}

}  // namespace eventcrm::api
