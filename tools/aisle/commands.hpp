#pragma once
// Each subcommand family registers itself on the app. A callback sets `status` for non-error
// outcomes; errors are thrown (aisle::DataError -> exit 3, other aisle::Error -> exit 2).
#include <CLI/CLI.hpp>

namespace aisle::cli {

void add_version_command(CLI::App& app);
void add_data_commands(CLI::App& app, int& status);
void add_data_import(CLI::App& data);
void add_data_synth(CLI::App& data, int& status);
void add_train_commands(CLI::App& app, int& status);  // train, eval, export
void add_recommend_command(CLI::App& app);
void add_add_items_command(CLI::App& app);
void add_bench_command(CLI::App& app);

}  // namespace aisle::cli
