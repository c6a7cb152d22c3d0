// Stock movement documents (R-INV 2): goods receipts, goods issues, transfers and count
// adjustments. A document's lines become one movement event each in the stock stream of their
// product × warehouse (domain/stock.hpp), all appended in one atomic multi-stream write with
// every stream's expected version; a transfer writes the issue half and the receipt half in
// the same write. When another document changed one of the balances first, the whole document
// is decided again on the fresh balances (bounded), so "on hand never goes negative" holds
// however many clients issue the same stock at once.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/command_runner.hpp"
#include "domain/money.hpp"

namespace eventcrm::app {

enum class DocumentKind { receipt, issue, transfer, adjustment };
const char* to_string(DocumentKind k) noexcept;

struct StockLine {
  std::string product_id;
  std::optional<domain::Decimal> quantity;    // receipt, issue, transfer
  std::optional<domain::Money> unit_cost;     // receipt; the currency may be left empty
  std::optional<domain::Decimal> counted;     // adjustment: what the count found, or
  std::optional<domain::Decimal> difference;  // a signed correction
};

struct StockDocument {
  DocumentKind kind = DocumentKind::receipt;
  std::string warehouse_id;               // the transfer's source
  std::string to_warehouse_id;            // transfer only
  std::optional<std::string> supplier;    // receipt
  std::optional<std::string> account_id;  // issue
  std::optional<std::string> order_id;    // issue
  std::string reason;                     // adjustment (required)
  std::vector<StockLine> lines;
};

// Not enough stock for a line: the product, warehouse, what it had available when decided and
// what the document asked for.
struct Shortage {
  std::string product_id;
  std::string warehouse_id;
  domain::Decimal available;
  domain::Decimal requested;
};

struct StockResult {
  std::string document_id;
  std::uint64_t position = 0;
  int attempts = 1;  // decide + append rounds (> 1: it met concurrent writes to its stock)
  std::size_t movements = 0;
};

struct StockFailure {
  Error error;
  std::optional<Shortage> shortage;  // set for a refused issue, transfer or adjustment
};

struct StockOptions {
  int max_attempts = 64;  // contention on one balance is normal: retrying is cheap and sound
  // Decide documents touching the same stock one at a time in this process (see the .cpp). Off,
  // concurrent documents race to the store and the losers decide again (tests prove both).
  bool serialize = true;
  // Another record's part of the same atomic write, made afresh on every attempt from the
  // document's id (e.g. the order's reservation marked fulfilled by its goods issue).
  std::function<Result<store::StreamAppend>(const std::string& document_id)> also_append;
};

// Checks the document's references (warehouses, products, account, order), decides every line
// and appends them all at once. Idempotent with a key, like CommandRunner::run.
eventcrm::Result<StockResult, StockFailure> record_stock_document(CommandRunner& runner,
                                                                  const StockDocument& doc,
                                                                  const CommandOptions& options,
                                                                  StockOptions limits = {});

}  // namespace eventcrm::app

namespace eventcrm::app {

// ---- orders and their stock (R-INV 5) ----
// An order reserves stock in one warehouse: every line of the order whose product_id is a
// catalogue product (other lines — services, free text — hold no stock) reserves its quantity
// in the same atomic write as the order's reservation record (domain/reservation.hpp); a
// product short of available stock refuses the whole reservation (StockFailure::shortage).
eventcrm::Result<StockResult, StockFailure> reserve_order(CommandRunner& runner,
                                                          const std::string& order_id,
                                                          const std::string& warehouse_id,
                                                          const CommandOptions& options);
// Fulfilment: a goods issue of the reserved quantities for the order (consuming its
// reservation), and the reservation marked fulfilled, in one write.
eventcrm::Result<StockResult, StockFailure> fulfil_order(CommandRunner& runner,
                                                         const std::string& order_id,
                                                         const CommandOptions& options);
// Cancelling an order releases what it reserved: the order's cancellation, its reservation
// released and each stock's reservation released, in one write. Answers like
// CommandRunner::run for the order (If-Match pins the order's version).
Result<CommandResult> cancel_order(CommandRunner& runner, const std::string& order_id,
                                   const std::string& reason, const CommandOptions& options);

}  // namespace eventcrm::app
