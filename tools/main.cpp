// The eventcrm executable: one binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include "tools/commands.hpp"

namespace eventcrm::tools {
int& exit_code() {
  static int code = 0;
  return code;
}
}  // namespace eventcrm::tools

int main(int argc, char** argv) {
  CLI::App app{"eventcrm - an event-sourced CRM backend"};
  app.set_version_flag("--version", "eventcrm 0.1.0");
  app.require_subcommand(1);
  eventcrm::tools::register_serve(app);
  eventcrm::tools::register_bench(app);
  eventcrm::tools::register_bench_relay(*app.get_subcommand("bench"));
  eventcrm::tools::register_bench_rebuild(*app.get_subcommand("bench"));
  eventcrm::tools::register_bench_table_write(*app.get_subcommand("bench"));
  eventcrm::tools::register_bench_http_write(*app.get_subcommand("bench"));
  eventcrm::tools::register_bench_stock(*app.get_subcommand("bench"));
  eventcrm::tools::register_verify(app);
  eventcrm::tools::register_dev_broker(app);
  eventcrm::tools::register_rebuild(app);
  eventcrm::tools::register_export(app);
  eventcrm::tools::register_schemas(app);
  CLI11_PARSE(app, argc, argv);
  return eventcrm::tools::exit_code();
}
