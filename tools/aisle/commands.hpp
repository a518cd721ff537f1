#pragma once
// Each subcommand family registers itself on the app. A callback sets `status` for non-error
// outcomes; errors are thrown (aisle::DataError -> exit 3, other aisle::Error -> exit 2).
#include <CLI/CLI.hpp>

namespace aisle::cli {

void add_version_command(CLI::App& app);
void add_demo_command(CLI::App& app, int& status);
void add_data_commands(CLI::App& app, int& status);
void add_data_import(CLI::App& data);
void add_data_synth(CLI::App& data, int& status);

}  // namespace aisle::cli
