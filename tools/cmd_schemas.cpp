// `eventcrm schemas`: prints or writes the JSON Schema of every event type's payload, generated
// from the domain's codecs. The files in domain/schemas/ are its output; tests/domain's
// schema compatibility test fails when they are stale or when a change would break consumers.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "domain/registry.hpp"
#include "tools/commands.hpp"

namespace eventcrm::tools {

void register_schemas(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "schemas", "Print the JSON Schema of every event type, or write them as <type>.json files");
  cmd->add_option("--write", *dir, "Write one file per event type into this directory");
  cmd->callback([dir] {
    if (dir->empty()) {
      for (const auto& t : domain::event_types())
        std::cout << t.schema() << "\n";
      exit_code() = 0;
      return;
    }
    std::error_code ec;
    std::filesystem::create_directories(*dir, ec);
    std::size_t written = 0;
    for (const auto& t : domain::event_types()) {
      auto path = std::filesystem::path(*dir) / (std::string(t.type) + ".json");
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << t.schema() << "\n";
      if (!out) {
        std::cerr << "schemas: cannot write " << path.string()
                  << "; check the directory exists and is writable\n";
        exit_code() = 1;
        return;
      }
      ++written;
    }
    std::cerr << "wrote " << written << " schemas to " << *dir << "\n";
    exit_code() = 0;
  });
}

}  // namespace eventcrm::tools
