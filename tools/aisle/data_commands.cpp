// `aisle data ...`: the data layer from the command line.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "aisle/data/dataset.hpp"
#include "commands.hpp"

namespace aisle::cli {

namespace {

void add_info(CLI::App& data) {
  auto* cmd = data.add_subcommand("info", "Summarise a dataset directory (counts, ranges, files, import report)");
  auto dir = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  cmd->add_option("dir", *dir, "Dataset directory")->required();
  cmd->add_flag("--json", *json_out, "Print meta.json as is");
  cmd->callback([dir, json_out] {
    const data::Dataset d = data::Dataset::open(*dir);
    if (*json_out) {
      std::cout << d.meta_text();
      return;
    }
    const auto meta = nlohmann::json::parse(d.meta_text());
    std::printf("%s: %lld interactions, %lld users, %lld items\n", dir->c_str(),
                static_cast<long long>(d.num_interactions()), static_cast<long long>(d.num_users()),
                static_cast<long long>(d.num_items()));
    std::printf("  source: %s\n", meta["source"].value("format", "?").c_str());
    std::printf("  value range: %s, time range: %s\n", meta["value"].dump().c_str(), meta["time"].dump().c_str());
    std::printf("  events: %s\n", meta["events"].dump().c_str());
    for (const char* who : {"users", "items"})
      for (const auto& f : meta["features"][who])
        std::printf("  %s feature %s (%s)\n", who, f.value("name", "?").c_str(), f.value("kind", "?").c_str());
    const auto& report = meta["import_report"];
    std::printf("  import: %lld rows read, %lld kept\n", report.value("rows_read", 0LL), report.value("rows_kept", 0LL));
    for (const auto& [reason, r] : report["dropped"].items())
      std::printf("    %lld dropped: %s\n", r.value("count", 0LL), reason.c_str());
  });
}

void add_verify(CLI::App& data) {
  auto* cmd = data.add_subcommand("verify", "Recompute every file's sha256 and compare with meta.json");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("dir", *dir, "Dataset directory")->required();
  cmd->callback([dir] {
    const data::Dataset d = data::Dataset::open(*dir, /*verify_checksums=*/true);
    std::printf("%s: %zu files verified\n", dir->c_str(), d.files().size());
  });
}

}  // namespace

void add_data_commands(CLI::App& app, int& status) {
  auto* data = app.add_subcommand("data", "Import, generate and inspect interaction datasets");
  data->require_subcommand(1);
  add_info(*data);
  add_verify(*data);
  add_data_import(*data);
  add_data_synth(*data, status);
  (void)status;
}

}  // namespace aisle::cli
