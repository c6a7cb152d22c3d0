// `eventcrm rebuild`: rebuilds read models from position 0 into fresh storage, offline (server
// stopped), switching to the new copy when done. Also `eventcrm bench rebuild`: generates a log
// of CRM-like events and measures how fast every read model is rebuilt from it.
#include <stdlib.h>

#include <algorithm>
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
                       const std::vector<std::string>& names, std::size_t memory_mb, bool quiet) {
  RebuildOutcome out;
  projections::RuntimeOptions ro;
  ro.path = projections::readmodels_path(data_dir);
  // Offline: nothing is served while it runs, so each copy is built in memory and written as
  // sorted table files (no compaction needed afterwards; the copies replaced are deleted whole).
  ro.bulk_load = true;
  ro.bulk_memory_bytes = memory_mb << 20;
  ro.catch_up_batch = 20'000;
  ro.catch_up_chunks = 32;
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
        // In events of the log: the builds' mean position, so the rate is log events per
        // second (a sum over N read models showed N times the log and N times the rate).
        std::uint64_t at = 0;
        std::size_t writing = 0;
        for (const auto& p : st) {
          // A copy being built counts from 0 (its old copy's checkpoint is not progress).
          at += p.state == projections::State::rebuilding ? p.build_position : p.checkpoint;
          writing += p.writing_out ? 1 : 0;
        }
        if (!st.empty())
          at /= st.size();
        // Past the last event, the builds still write their rows out (sorted table files).
        progress.update(at, out.events,
                        writing ? "writing " + std::to_string(writing) + " read model(s) out" : "");
      });
  progress.finish();
  out.status = runtime.status();
  if (!done) {
    out.error = done.error().message;
    return out;
  }
  out.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  out.ok = true;
  return out;
}

void register_rebuild_command(CLI::App& app) {
  struct Args {
    std::string data_dir = "./data";
    std::vector<std::string> projections;
    std::size_t memory_mb = 2048;
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
  cmd->add_option("--memory-mb", args->memory_mb,
                  "Rows held in memory while building, in MiB; beyond it the largest builds are "
                  "written out early (slower)")
      ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 20))
      ->capture_default_str();
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
    auto r = rebuild(**st, args->data_dir, args->projections, args->memory_mb, args->json);
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
  int rounds = 3;
  std::string db_bench = "db_bench";  // empty: no anchor
  std::size_t memory_mb = 2048;
  bool json = false;
};

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The anchor: RocksDB's own sequential read of `events` records of `value_size` bytes
// (db_bench fillseq once, then readseq `rounds` times over it). Returns each readseq's ops/s;
// empty when db_bench cannot be run (`error` says why).
std::vector<double> db_bench_readseq(const std::string& db_bench, const std::string& dir,
                                     std::uint64_t events, std::size_t value_size, int rounds,
                                     std::string& error) {
  std::string benchmarks = "fillseq";
  for (int i = 0; i < rounds; ++i)
    benchmarks += ",readseq";
  // Run through the shell: every argument is a number or a fixed word, except the directory
  // (quoted; one holding a quote is refused).
  if (dir.find('\'') != std::string::npos ||
      db_bench.find_first_of("'\"$`;|&<> ") != std::string::npos) {
    error = "the data directory and the db_bench path must not contain quotes or shell characters";
    return {};
  }
  const std::string command =
      db_bench + " --benchmarks=" + benchmarks + " --num=" + std::to_string(events) +
      " --value_size=" + std::to_string(value_size) +
      " --key_size=8 --compression_type=none --threads=1 --db='" + dir + "' 2>&1";
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) {
    error = "cannot run " + db_bench;
    return {};
  }
  std::vector<double> rates;
  std::string all;
  char line[1024];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    const std::string l(line);
    all += l;
    // "readseq      :       0.123 micros/op 8123456 ops/sec; ..."
    if (l.rfind("readseq", 0) == 0) {
      const auto ops = l.find(" ops/sec");
      if (ops == std::string::npos)
        continue;
      const auto start = l.rfind(' ', ops - 1);
      rates.push_back(std::strtod(l.c_str() + start + 1, nullptr));
    }
  }
  const int status = ::pclose(p);
  if (status != 0 || static_cast<int>(rates.size()) != rounds) {
    error = db_bench +
            " failed (install rocksdb-tools, or pass --db-bench PATH or --db-bench '' "
            "to skip the anchor):\n" +
            all.substr(0, 2000);
    return {};
  }
  return rates;
}

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

// One customer's worth of CRM activity: 25 events over 10 streams, each a payload the domain's
// codecs accept (the read models decode every event they are given, as in production).
void customer_block(std::uint64_t b, std::vector<store::StreamAppend>& parts) {
  const std::string id = "c" + std::to_string(b);
  auto event = [](std::string type, std::string data, std::string actor) {
    store::NewEvent e;
    e.type = std::move(type);
    e.data = std::move(data);
    e.metadata.actor = std::move(actor);
    return e;
  };
  const std::string owner = "user-" + std::to_string(b % 50);
  const std::string day =
      "2026-11-" + std::string(b % 28 < 9 ? "0" : "") + std::to_string(b % 28 + 1);
  const std::string at =
      day + "T09:" + std::string(b % 60 < 10 ? "0" : "") + std::to_string(b % 60) + ":00Z";
  const std::string common = R"(,"owner_id":")" + owner + R"(","created_by":")" + owner +
                             R"(","created_at":")" + at + "\"}";
  store::StreamAppend account{"account-" + id, store::ExpectedVersion::any(), {}};
  account.events.push_back(
      event("account.created.v1",
            R"({"account_id":")" + id + R"(","profile":{"name":"Customer )" + id +
                R"( Co., Ltd","industry":"retail","address":"12 Trang Tien, Ha Noi"})" + common,
            owner));
  parts.push_back(std::move(account));
  for (int k = 0; k < 3; ++k) {
    const std::string cid = id + "-" + std::to_string(k);
    store::StreamAppend c{"contact-" + cid, store::ExpectedVersion::any(), {}};
    c.events.push_back(event("contact.created.v1",
                             R"({"contact_id":")" + cid + R"(","account_id":")" + id +
                                 R"(","profile":{"first_name":"Van )" + cid +
                                 R"(","last_name":"Nguyen","email":"contact)" + cid +
                                 R"(@example.vn"})" + common,
                             owner));
    c.events.push_back(event("contact.updated.v1",
                             R"({"contact_id":")" + cid + R"(","account_id":")" + id +
                                 R"(","changes":{"phone":"+84 90 000 )" +
                                 std::to_string(b % 10000) + "\"}}",
                             owner));
    c.events.push_back(event("contact.updated.v1",
                             R"({"contact_id":")" + cid + R"(","account_id":")" + id +
                                 R"(","changes":{"title":"Purchasing manager"}})",
                             owner));
    parts.push_back(std::move(c));
  }
  static const char* stages[] = {"qualification", "proposal", "negotiation", "won"};
  for (int k = 0; k < 2; ++k) {
    const std::string oid = id + "-" + std::to_string(k);
    const std::string ids = R"({"opportunity_id":")" + oid + R"(","account_id":")" + id + "\"";
    store::StreamAppend o{"opportunity-" + oid, store::ExpectedVersion::any(), {}};
    o.events.push_back(event("opportunity.created.v1",
                             ids + R"(,"contact_id":")" + id + "-" + std::to_string(k) +
                                 R"(","name":"Deal )" + oid +
                                 R"(","amount":{"amount":"125000000.00","currency":"VND"},)" +
                                 R"("expected_close_date":"2026-12-15","probability":10,)" +
                                 R"("stage":"prospecting")" + common,
                             owner));
    for (int st = 0; st < 3; ++st) {
      o.events.push_back(
          event("opportunity.stage_changed.v1",
                ids + R"(,"from_stage":")" + (st == 0 ? "prospecting" : stages[st - 1]) +
                    R"(","to_stage":")" + stages[st] + R"(","probability":)" +
                    std::to_string(25 * (st + 1)) + R"(,"changed_at":")" + at + "\"}",
                owner));
    }
    o.events.push_back(
        event("opportunity.won.v1",
              ids + R"(,"amount":{"amount":"125000000.00","currency":"VND"},"stage":"won",)" +
                  R"("closed_on":")" + day + "\"}",
              owner));
    parts.push_back(std::move(o));
  }
  for (int k = 0; k < 3; ++k) {
    const std::string aid = id + "-" + std::to_string(k);
    store::StreamAppend act{"activity-" + aid, store::ExpectedVersion::any(), {}};
    act.events.push_back(event(
        "activity.logged.v1",
        R"({"activity_id":")" + aid + R"(","account_id":")" + id + R"(","contact_id":")" + id +
            R"(-0","kind":"call","subject":"Quote follow-up","notes":"Called about the quote )"
            R"(and delivery dates","outcome":"positive","duration_minutes":12,"occurred_at":")" +
            at + R"(","logged_by":")" + owner + "\"}",
        owner));
    parts.push_back(std::move(act));
  }
  store::StreamAppend lead{"lead-" + id, store::ExpectedVersion::any(), {}};
  lead.events.push_back(
      event("lead.created.v1",
            R"({"lead_id":")" + id + R"(","company":"Customer )" + id +
                R"(","first_name":"Lan","last_name":"Tran","source":"web_form",)" +
                R"("utm":{"source":"newsletter"})" + common,
            "web"));
  lead.events.push_back(event("lead.qualified.v1",
                              R"({"lead_id":")" + id + R"(","qualified_by":")" + owner + "\"}",
                              owner));
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
  // An existing log (--data-dir) that needed no new events: its record size from a sample of it.
  if (generated == 0) {
    auto page = s.read_all(0, 10'000);
    if (page) {
      for (const auto& e : page->events) {
        store::NewEvent n;
        n.type = e.type;
        n.data = e.data;
        n.metadata.actor = e.metadata.actor;
        record_total += record_bytes(e.stream, n);
        ++generated;
      }
    }
  }
  const std::uint64_t events = s.head();
  const double avg_record =
      generated ? static_cast<double>(record_total) / static_cast<double>(generated) : 0;

  std::vector<double> rates, seconds;
  double rss = 0;
  std::size_t read_models = 0;
  for (int round = 0; round < cfg.rounds; ++round) {
    reset_peak_rss();
    auto r = rebuild(s, dir, {}, cfg.memory_mb, cfg.json);
    if (!r.ok) {
      std::fprintf(stderr, "bench rebuild: %s\n", r.error.c_str());
      return 1;
    }
    rates.push_back(r.seconds > 0 ? static_cast<double>(events) / r.seconds : 0);
    seconds.push_back(r.seconds);
    rss = std::max(rss, peak_rss_mb());
    read_models = r.status.size();
    if (!cfg.json) {
      std::fprintf(stderr, "round %d: %.0f events/s (%.2f s)\n", round + 1, rates.back(),
                   r.seconds);
    }
  }
  s.close();
  st->reset();
  const double rate = median(rates);

  std::vector<double> readseq;
  if (!cfg.db_bench.empty()) {
    std::string error;
    const auto db_dir = (std::filesystem::path(dir) / "db_bench").string();
    readseq = db_bench_readseq(cfg.db_bench, db_dir, events,
                               static_cast<std::size_t>(avg_record + 0.5), cfg.rounds, error);
    std::error_code ec;
    std::filesystem::remove_all(db_dir, ec);
    if (readseq.empty()) {
      std::fprintf(stderr, "bench rebuild: %s\n", error.c_str());
      return 1;
    }
  }
  const double anchor = median(readseq);
  const double ratio = anchor > 0 ? rate / anchor : 0;
  auto list = [](const std::vector<double>& v) {
    std::string out;
    for (double x : v)
      out += (out.empty() ? "" : ",") + std::to_string(static_cast<long long>(x + 0.5));
    return "[" + out + "]";
  };
  if (cfg.json) {
    std::printf(
        "{\"events\":%llu,\"read_models\":%zu,\"rounds\":%d,\"seconds\":%.3f,"
        "\"events_per_sec\":%.1f,\"readseq_per_sec\":%.1f,\"ratio_vs_readseq\":%.3f,"
        "\"peak_rss_mb\":%.1f,\"memory_mb\":%llu,\"avg_record_bytes\":%.0f,"
        "\"events_per_sec_rounds\":%s,\"readseq_per_sec_rounds\":%s}\n",
        static_cast<unsigned long long>(events), read_models, cfg.rounds, median(seconds), rate,
        anchor, ratio, rss, static_cast<unsigned long long>(cfg.memory_mb), avg_record,
        list(rates).c_str(), list(readseq).c_str());
  } else {
    std::printf("bench rebuild: %llu events, %zu read model(s), median of %d round(s)\n",
                static_cast<unsigned long long>(events), read_models, cfg.rounds);
    std::printf("  rebuild time      %12.2f s\n", median(seconds));
    std::printf("  events/s          %12.0f   %s\n", rate, list(rates).c_str());
    if (anchor > 0) {
      std::printf("  db_bench readseq  %12.0f   %s ops/s (same count, %.0f-byte values)\n", anchor,
                  list(readseq).c_str(), avg_record);
      std::printf("  ratio             %12.3f x (target >= 0.5)\n", ratio);
    }
    std::printf("  peak RSS          %12.1f MiB (--memory-mb %llu)\n", rss,
                static_cast<unsigned long long>(cfg.memory_mb));
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
  cmd->add_option("--rounds", cfg->rounds, "Rebuilds of the same log (and readseq runs); medians")
      ->check(CLI::Range(1, 20))
      ->capture_default_str();
  cmd->add_option("--db-bench", cfg->db_bench,
                  "db_bench executable for the anchor (RocksDB readseq over as many records of "
                  "the same size); empty: no anchor")
      ->capture_default_str();
  cmd->add_option("--memory-mb", cfg->memory_mb, "As eventcrm rebuild --memory-mb")
      ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 20))
      ->capture_default_str();
  cmd->add_flag("--json", cfg->json, "Print one JSON line");
  cmd->callback([cfg] { exit_code() = run_bench_rebuild(*cfg); });
}

}  // namespace eventcrm::tools
