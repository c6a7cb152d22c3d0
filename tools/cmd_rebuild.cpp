// `eventcrm rebuild`: rebuilds read models from position 0 into fresh storage, offline (server
// stopped), switching to the new copy when done. Also `eventcrm bench rebuild`: generates a log
// of CRM-like events and measures how fast every read model is rebuilt from it.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "domain/registry.hpp"
#include "eventstore/store.hpp"
#include "projections/registry.hpp"
#include "projections/runtime.hpp"
#include "tools/commands.hpp"
#include "tools/progress.hpp"

namespace eventcrm::tools {

namespace {

using SteadyClock = std::chrono::steady_clock;

struct RebuildOutcome {
  bool ok = false;
  std::uint64_t events = 0;
  double seconds = 0;
  std::vector<projections::ProjectionStatus> status;
  std::string error;
};

// Rebuilds `names` (empty: every read model) of the store at `data_dir`.
RebuildOutcome rebuild(store::EventStore& s, const std::string& data_dir,
                       const std::vector<std::string>& names, bool quiet) {
  RebuildOutcome out;
  projections::RuntimeOptions ro;
  ro.path = projections::readmodels_path(data_dir);
  auto rt = projections::Runtime::open(s, ro);
  if (!rt) {
    out.error = rt.error().message;
    return out;
  }
  auto& runtime = **rt;
  std::vector<std::string> selected = names;
  for (auto& p : projections::all_projections()) {
    const std::string name = p->name();
    if (names.empty())
      selected.push_back(name);
    if (auto added = runtime.add(std::move(p)); !added) {
      out.error = added.error().message;
      return out;
    }
  }
  for (const auto& n : selected) {
    if (auto r = runtime.rebuild(n); !r) {
      out.error = r.error().message;
      return out;
    }
  }
  out.events = s.head();
  Progress progress("rebuilding " + std::to_string(selected.size()) + " read model(s)", quiet);
  const auto started = SteadyClock::now();
  auto done =
      runtime.run_until_caught_up([&](const std::vector<projections::ProjectionStatus>& st) {
        std::uint64_t at = 0, total = 0;
        for (const auto& p : st) {
          at += p.build_position ? p.build_position : p.checkpoint;
          total += out.events;
        }
        progress.update(at, total);
      });
  out.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  progress.finish();
  out.status = runtime.status();
  if (!done) {
    out.error = done.error().message;
    return out;
  }
  out.ok = true;
  return out;
}

void register_rebuild_command(CLI::App& app) {
  struct Args {
    std::string data_dir = "./data";
    std::vector<std::string> projections;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "rebuild", "Rebuild read models from the log into fresh storage (offline: stop the server)");
  cmd->add_option("--data-dir", args->data_dir, "Data directory")
      ->envname("EVENTCRM_DATA_DIR")
      ->capture_default_str();
  cmd->add_option("--projection", args->projections,
                  "Read model to rebuild (repeatable; default: all)");
  cmd->add_flag("--json", args->json, "Print one JSON line");
  cmd->callback([args] {
    store::Options o;
    o.path = args->data_dir;
    o.personal_data = domain::personal_data();  // read models see personal fields opened
    auto st = store::EventStore::open(o);
    if (!st) {
      std::fprintf(stderr,
                   "eventcrm rebuild: %s\n(is the data directory right, and is no server running "
                   "on it? stop the server or pass --data-dir)\n",
                   st.error().message.c_str());
      exit_code() = 2;
      return;
    }
    auto r = rebuild(**st, args->data_dir, args->projections, args->json);
    (*st)->close();
    if (!r.ok) {
      std::fprintf(stderr, "eventcrm rebuild: %s\n", r.error.c_str());
      exit_code() = 1;
      return;
    }
    const double rate = r.seconds > 0 ? static_cast<double>(r.events) / r.seconds : 0;
    if (args->json) {
      std::string names;
      for (const auto& p : r.status) {
        names += (names.empty() ? "" : ",") + std::string("{\"name\":\"") + p.name +
                 "\",\"version\":" + std::to_string(p.serving_version) +
                 ",\"checkpoint\":" + std::to_string(p.checkpoint) + "}";
      }
      std::printf(
          "{\"events\":%llu,\"seconds\":%.3f,\"events_per_sec\":%.1f,\"projections\":[%s]}\n",
          static_cast<unsigned long long>(r.events), r.seconds, rate, names.c_str());
    } else {
      for (const auto& p : r.status) {
        std::printf("%-24s version %u at position %llu (%s)\n", p.name.c_str(), p.serving_version,
                    static_cast<unsigned long long>(p.checkpoint), projections::to_string(p.state));
      }
      std::printf("rebuilt from %llu events in %.2f s (%.0f events/s)\n",
                  static_cast<unsigned long long>(r.events), r.seconds, rate);
    }
  });
}

// ---- bench rebuild ----

struct BenchRebuildConfig {
  std::uint64_t events = 5'000'000;
  std::string data_dir;  // empty: a fresh temporary directory, removed afterwards
  bool json = false;
};

// Peak resident set size of this process so far, in MiB (VmHWM).
double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0)
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

// Resets VmHWM so the peak measured covers the rebuild only.
void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}

// One customer's worth of CRM activity: 25 events over 8 streams.
void customer_block(std::uint64_t b, std::vector<store::StreamAppend>& parts) {
  const std::string id = std::to_string(b);
  auto event = [](std::string type, std::string data, std::string actor) {
    store::NewEvent e;
    e.type = std::move(type);
    e.data = std::move(data);
    e.metadata.actor = std::move(actor);
    return e;
  };
  const std::string owner = "user-" + std::to_string(b % 50);
  store::StreamAppend account{"account-" + id, store::ExpectedVersion::any(), {}};
  account.events.push_back(event("account.created.v1",
                                 R"({"name":"Customer )" + id +
                                     R"( Co., Ltd","segment":"smb","city":"Ha Noi","owner_id":")" +
                                     owner + R"("})",
                                 owner));
  parts.push_back(std::move(account));
  for (int k = 0; k < 3; ++k) {
    const std::string cid = id + "-" + std::to_string(k);
    store::StreamAppend c{"contact-" + cid, store::ExpectedVersion::any(), {}};
    c.events.push_back(event("contact.created.v1",
                             R"({"account_id":")" + id + R"(","name":"Nguyen Van )" + cid +
                                 R"(","email":"contact)" + cid + R"(@example.vn"})",
                             owner));
    c.events.push_back(
        event("contact.updated.v1", R"({"phone":"+84 90 000 )" + cid + "\"}", owner));
    c.events.push_back(event("contact.updated.v1", R"({"title":"Purchasing manager"})", owner));
    parts.push_back(std::move(c));
  }
  static const char* stages[] = {"qualification", "proposal", "negotiation"};
  for (int k = 0; k < 2; ++k) {
    const std::string oid = id + "-" + std::to_string(k);
    store::StreamAppend o{"opportunity-" + oid, store::ExpectedVersion::any(), {}};
    o.events.push_back(
        event("opportunity.opened.v1",
              R"({"contact_id":")" + id + "-" + std::to_string(k) + R"(","name":"Deal )" + oid +
                  R"(","amount":{"amount":"125000000.00","currency":"VND"},"probability":25})",
              owner));
    for (const char* s : stages) {
      o.events.push_back(
          event("opportunity.stage_changed.v1", std::string(R"({"stage":")") + s + R"("})", owner));
    }
    o.events.push_back(
        event("opportunity.won.v1", R"({"reason":"best price and support"})", owner));
    parts.push_back(std::move(o));
  }
  store::StreamAppend act{"activity-" + id, store::ExpectedVersion::any(), {}};
  for (int k = 0; k < 3; ++k) {
    act.events.push_back(
        event("activity.logged.v1",
              R"({"account_id":")" + id +
                  R"(","kind":"call","note":"Called about the quote and delivery dates"})",
              owner));
  }
  parts.push_back(std::move(act));
  store::StreamAppend lead{"lead-" + id, store::ExpectedVersion::any(), {}};
  lead.events.push_back(event(
      "lead.created.v1", R"({"name":"Web visitor )" + id + R"(","source":"web_form"})", "web"));
  lead.events.push_back(event("lead.noted.v1", R"({"note":"asked for a brochure"})", owner));
  parts.push_back(std::move(lead));
}

// Bytes of the stored record of an event (the store's canonical layout plus the 32-byte hash),
// estimated from its fields: the value size to give db_bench for a fair comparison.
std::size_t record_bytes(const std::string& stream, const store::NewEvent& e) {
  return 1 + 24 + 37 + 1 + stream.size() + 1 + e.type.size() + 2 + e.data.size() + 1 +
         e.metadata.actor.size() + 4 + 32;
}

int run_bench_rebuild(const BenchRebuildConfig& cfg) {
  std::string dir = cfg.data_dir;
  bool owned = false;
  if (dir.empty()) {
    std::string templ =
        (std::filesystem::temp_directory_path() / "eventcrm-bench-rebuild-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
      std::fprintf(stderr, "bench rebuild: cannot create a temporary directory\n");
      return 1;
    }
    dir = templ;
    owned = true;
  }
  struct Cleanup {
    std::string dir;
    bool owned;
    ~Cleanup() {
      std::error_code ec;
      if (owned)
        std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir, owned};

  store::Options o;
  o.path = dir;
  o.durability = store::Durability::relaxed;
  auto st = store::EventStore::open(o);
  if (!st) {
    std::fprintf(stderr, "bench rebuild: %s\n", st.error().message.c_str());
    return 1;
  }
  auto& s = **st;
  std::uint64_t record_total = 0, generated = 0;
  {
    Progress progress("generating", cfg.json);
    std::uint64_t block = s.head() / 25;
    while (s.head() < cfg.events) {
      std::vector<store::StreamAppend> parts;
      std::size_t n = 0;
      while (n < 1000 && s.head() + n < cfg.events) {
        customer_block(block++, parts);
        n += 25;
      }
      for (const auto& p : parts) {
        for (const auto& e : p.events)
          record_total += record_bytes(p.stream, e);
      }
      generated += n;
      auto r = s.append_multi(std::move(parts));
      if (!r) {
        std::fprintf(stderr, "bench rebuild: append failed: %s\n", r.error().message.c_str());
        return 1;
      }
      progress.update(s.head(), cfg.events);
    }
    progress.finish();
  }
  const std::uint64_t events = s.head();
  const double avg_record =
      generated ? static_cast<double>(record_total) / static_cast<double>(generated) : 0;

  reset_peak_rss();
  auto r = rebuild(s, dir, {}, cfg.json);
  s.close();
  if (!r.ok) {
    std::fprintf(stderr, "bench rebuild: %s\n", r.error.c_str());
    return 1;
  }
  const double rate = r.seconds > 0 ? static_cast<double>(events) / r.seconds : 0;
  const double rss = peak_rss_mb();
  if (cfg.json) {
    std::printf(
        "{\"events\":%llu,\"read_models\":%zu,\"seconds\":%.3f,\"events_per_sec\":%.1f,"
        "\"peak_rss_mb\":%.1f,\"avg_record_bytes\":%.0f}\n",
        static_cast<unsigned long long>(events), r.status.size(), r.seconds, rate, rss, avg_record);
  } else {
    std::printf("bench rebuild: %llu events, %zu read model(s)\n",
                static_cast<unsigned long long>(events), r.status.size());
    std::printf("  rebuild time   %12.2f s\n", r.seconds);
    std::printf("  events/s       %12.0f\n", rate);
    std::printf("  peak RSS       %12.1f MiB\n", rss);
    std::printf("  avg record     %12.0f bytes\n", avg_record);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void register_rebuild(CLI::App& app) {
  register_rebuild_command(app);
}

void register_bench_rebuild(CLI::App& bench) {
  auto cfg = std::make_shared<BenchRebuildConfig>();
  auto* cmd = bench.add_subcommand("rebuild", "Rebuild throughput of every read model");
  cmd->add_option("--events", cfg->events, "Events in the generated log")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}))
      ->capture_default_str();
  cmd->add_option("--data-dir", cfg->data_dir,
                  "Store directory (default: a fresh temporary directory, removed afterwards; "
                  "an existing log is extended to --events)");
  cmd->add_flag("--json", cfg->json, "Print one JSON line");
  cmd->callback([cfg] { exit_code() = run_bench_rebuild(*cfg); });
}

}  // namespace eventcrm::tools
