// `eventcrm verify`: recompute the hash chain of the log and report the first broken position.
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <cstdio>

#include "eventstore/cloudevents.hpp"
#include "eventstore/store.hpp"
#include "tools/commands.hpp"

namespace eventcrm::tools {

void register_verify(CLI::App& app) {
  struct Args {
    std::string data_dir = "./data";
    std::uint64_t from = 1;
    std::uint64_t to = 0;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("verify", "Check the tamper-evidence hash chain of the log");
  cmd->add_option("--data-dir", args->data_dir, "Data directory")
      ->envname("EVENTCRM_DATA_DIR")
      ->capture_default_str();
  cmd->add_option("--from", args->from, "First position to check")->capture_default_str();
  cmd->add_option("--to", args->to, "Last position to check (0: the head)");
  cmd->add_flag("--json", args->json, "Print one JSON line");
  cmd->callback([args] {
    store::Options o;
    o.path = args->data_dir;
    auto st = store::EventStore::open(o);
    if (!st) {
      std::fprintf(stderr,
                   "eventcrm verify: %s\n(is the data directory right, and is no server running "
                   "on it? stop the server or pass --data-dir)\n",
                   st.error().message.c_str());
      exit_code() = 2;
      return;
    }
    auto& s = **st;
    std::uint64_t to = args->to == 0 ? s.head() : args->to;
    bool tty = isatty(STDERR_FILENO) != 0 && !args->json;
    auto rep = s.verify(args->from, to, [&](std::uint64_t pos) {
      if (!tty || to == 0)
        return;
      std::fprintf(stderr, "\rverifying %llu / %llu (%.0f%%)", static_cast<unsigned long long>(pos),
                   static_cast<unsigned long long>(to),
                   100.0 * static_cast<double>(pos) / static_cast<double>(to));
    });
    if (tty)
      std::fprintf(stderr, "\n");
    if (args->json) {
      std::string broken = rep.first_broken_position ? std::to_string(*rep.first_broken_position)
                                                     : std::string("null");
      std::string problem;
      store::append_json_string(problem, rep.problem);
      std::printf("{\"ok\":%s,\"checked\":%llu,\"first_broken_position\":%s,\"problem\":%s}\n",
                  rep.ok ? "true" : "false", static_cast<unsigned long long>(rep.checked),
                  broken.c_str(), problem.c_str());
    } else if (rep.ok) {
      std::printf("ok: %llu events checked, the hash chain verifies\n",
                  static_cast<unsigned long long>(rep.checked));
    } else {
      std::printf("BROKEN at position %llu: %s (%llu events verified before it)\n",
                  static_cast<unsigned long long>(*rep.first_broken_position), rep.problem.c_str(),
                  static_cast<unsigned long long>(rep.checked));
    }
    exit_code() = rep.ok ? 0 : 1;
  });
}

}  // namespace eventcrm::tools
