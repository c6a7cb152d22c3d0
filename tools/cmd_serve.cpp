// `eventcrm serve`: the HTTP server (filled by the HTTP server work).
#include <CLI/CLI.hpp>

#include "tools/commands.hpp"

namespace eventcrm::tools {
void register_serve(CLI::App& app) {
  app.add_subcommand("serve", "Run the HTTP server");
}
}  // namespace eventcrm::tools
