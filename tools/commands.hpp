// Each subcommand of the eventcrm executable registers itself on the CLI here.
#pragma once

namespace CLI {
class App;
}

namespace eventcrm::tools {

// Each returns nothing; the subcommand's callback sets the process exit code through
// exit_code().
void register_serve(CLI::App& app);
void register_bench(CLI::App& app);
void register_verify(CLI::App& app);
void register_dev_broker(CLI::App& app);
void register_rebuild(CLI::App& app);
void register_export(CLI::App& app);
void register_schemas(CLI::App& app);
// Benchmarks that live beside their module register under the `bench` subcommand.
void register_bench_relay(CLI::App& bench);
void register_bench_rebuild(CLI::App& bench);
void register_bench_table_write(CLI::App& bench);
void register_bench_http_write(CLI::App& bench);
void register_bench_stock(CLI::App& bench);

int& exit_code();

}  // namespace eventcrm::tools
