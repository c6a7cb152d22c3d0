// Audit export (R-AUD 3): writes what an auditor read — a customer's history or a range of the
// log — as NDJSON (one CloudEvents envelope per line) or CSV, plus a manifest.json with the
// count, the positions, the chain hash of the last event and the SHA-256 of the export file, so
// the export can be re-verified offline.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "eventstore/store.hpp"
#include "projections/runtime.hpp"

namespace eventcrm::projections {

enum class ExportFormat : std::uint8_t { ndjson, csv };

struct ExportOptions {
  std::string account_id;  // non-empty: the customer's history (needs the runtime)
  std::uint64_t from = 1;  // otherwise: positions [from, to] of the log
  std::uint64_t to = 0;    // 0: the head
  ExportFormat format = ExportFormat::ndjson;
  std::string out_dir;  // created if missing; events.ndjson|events.csv and manifest.json
};

struct ExportManifest {
  std::string file;  // the export file's name inside out_dir
  std::string format;
  std::uint64_t count = 0;
  std::uint64_t first_position = 0;
  std::uint64_t last_position = 0;
  std::string last_hash;      // hex chain hash of the last exported event
  std::string previous_hash;  // range exports: hex chain hash before first_position (zeros at 1)
  std::string file_sha256;    // hex SHA-256 of the export file
  std::uint64_t log_head = 0;
  std::string json;  // manifest.json as written
};

// `progress(done, total)` is called now and then (total: an upper bound of the events to write).
Result<ExportManifest> export_events(
    store::EventStore& store, const Runtime* runtime, const ExportOptions& options,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

// One CSV line (RFC 4180 quoting) for an event: position,time,type,stream,actor,reason,data.
std::string csv_line(const store::RecordedEvent& e);

}  // namespace eventcrm::projections
