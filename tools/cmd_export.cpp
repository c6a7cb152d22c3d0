// `eventcrm export`: writes a customer's history or a range of the log for an auditor, with a
// manifest (count, positions, last chain hash, SHA-256 of the file) to re-verify offline.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "domain/registry.hpp"
#include "eventstore/store.hpp"
#include "projections/export.hpp"
#include "projections/registry.hpp"
#include "projections/runtime.hpp"
#include "tools/commands.hpp"
#include "tools/progress.hpp"

namespace eventcrm::tools {

void register_export(CLI::App& app) {
  struct Args {
    std::string data_dir = "./data";
    std::string account;
    std::uint64_t from = 0, to = 0;
    std::string format = "ndjson";
    std::string out;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "export", "Export a customer's history or a log range with a verifiable manifest (offline)");
  cmd->add_option("--data-dir", args->data_dir, "Data directory")
      ->envname("EVENTCRM_DATA_DIR")
      ->capture_default_str();
  auto* account = cmd->add_option("--account", args->account, "Account id: its full history");
  auto* from = cmd->add_option("--from", args->from, "First log position of a range");
  cmd->add_option("--to", args->to, "Last log position of a range (default: the head)")
      ->needs(from);
  account->excludes(from);
  cmd->add_option("--format", args->format, "ndjson (CloudEvents per line) or csv")
      ->check(CLI::IsMember({"ndjson", "csv"}))
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Output directory")->required();
  cmd->callback([args, account, from] {
    if (account->count() == 0 && from->count() == 0) {
      std::fprintf(stderr, "eventcrm export: pass --account ID or --from POS [--to POS]\n");
      exit_code() = 2;
      return;
    }
    store::Options o;
    o.path = args->data_dir;
    o.personal_data = domain::personal_data();  // exports read personal fields with their keys
    auto st = store::EventStore::open(o);
    if (!st) {
      std::fprintf(stderr,
                   "eventcrm export: %s\n(is the data directory right, and is no server running "
                   "on it? stop the server or pass --data-dir)\n",
                   st.error().message.c_str());
      exit_code() = 2;
      return;
    }
    auto& s = **st;
    std::unique_ptr<projections::Runtime> runtime;
    if (!args->account.empty()) {
      // The customer history must be complete up to the head before it is exported.
      projections::RuntimeOptions ro;
      ro.path = projections::readmodels_path(args->data_dir);
      auto rt = projections::Runtime::open(s, ro);
      if (!rt) {
        std::fprintf(stderr, "eventcrm export: %s\n", rt.error().message.c_str());
        exit_code() = 1;
        return;
      }
      runtime = std::move(*rt);
      for (auto& p : projections::all_projections())
        (void)runtime->add(std::move(p));
      Progress catching_up("bringing read models up to date");
      auto caught = runtime->run_until_caught_up([&](const auto& status) {
        std::uint64_t at = 0, total = 0;
        for (const auto& p : status) {
          at += p.build_position ? p.build_position : p.checkpoint;
          total += p.head;
        }
        catching_up.update(at, total);
      });
      catching_up.finish();
      if (!caught) {
        std::fprintf(stderr, "eventcrm export: %s\n", caught.error().message.c_str());
        exit_code() = 1;
        return;
      }
    }
    projections::ExportOptions eo;
    eo.account_id = args->account;
    eo.from = args->from == 0 ? 1 : args->from;
    eo.to = args->to;
    eo.format =
        args->format == "csv" ? projections::ExportFormat::csv : projections::ExportFormat::ndjson;
    eo.out_dir = args->out;
    Progress progress("exporting");
    auto m = projections::export_events(
        s, runtime.get(), eo,
        [&](std::uint64_t done, std::uint64_t total) { progress.update(done, total); });
    progress.finish();
    runtime.reset();
    s.close();
    if (!m) {
      std::fprintf(stderr, "eventcrm export: %s\n", m.error().message.c_str());
      exit_code() = 1;
      return;
    }
    std::printf("exported %llu events (positions %llu..%llu) to %s/%s\nsha256 %s\n",
                static_cast<unsigned long long>(m->count),
                static_cast<unsigned long long>(m->first_position),
                static_cast<unsigned long long>(m->last_position), args->out.c_str(),
                m->file.c_str(), m->file_sha256.c_str());
    exit_code() = 0;
  });
}

}  // namespace eventcrm::tools
