// `aisle data import`: a source file of a known format -> a dataset directory.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "aisle/data/importers.hpp"
#include "commands.hpp"

namespace aisle::cli {

namespace {

struct ImportArgs {
  std::string format, test, valid, out, on_error = "fail", map, delimiter;
  std::vector<std::string> inputs;
  bool no_header = false, header = false, force = false;
};

void run_import(const ImportArgs& a) {
  data::ImportOptions o;
  o.format = a.format;
  for (const auto& in : a.inputs) o.inputs.emplace_back(in);
  o.test = a.test;
  o.valid = a.valid;
  o.out = a.out;
  o.overwrite = a.force;
  o.on_error = a.on_error == "skip" ? data::OnError::skip : data::OnError::fail;
  if (!a.map.empty()) o.columns = data::parse_column_map(a.map);
  if (!a.delimiter.empty()) o.delimiter = data::parse_delimiter(a.delimiter);
  if (a.no_header) o.header = false;
  if (a.header) o.header = true;

  const data::ImportResult r = data::import_dataset(o);
  std::printf("%s", r.report.summary().c_str());
  std::printf("%lld interactions, %lld users, %lld items\n", static_cast<long long>(r.interactions),
              static_cast<long long>(r.users), static_cast<long long>(r.items));
  const double secs = r.seconds > 0 ? r.seconds : 1e-9;
  std::printf("%.2f s, %.0f rows/s, %.1f MB/s of text\n", r.seconds, static_cast<double>(r.report.rows_read) / secs,
              static_cast<double>(r.input_bytes) / secs / 1e6);
  std::printf("wrote %s\n", r.out.c_str());
}

}  // namespace

void add_data_import(CLI::App& data) {
  auto* cmd = data.add_subcommand("import", "Import interaction data (MovieLens, LightGCN, SASRec, Online Retail, "
                                            "RetailRocket or any delimited file) into a dataset directory");
  auto a = std::make_shared<ImportArgs>();
  std::vector<std::string> names;
  std::string help = "Source format:";
  for (const auto& f : data::import_formats()) {
    names.push_back(f.name);
    help += "\n  " + f.name + ": " + f.description;
  }
  cmd->add_option("--format", a->format, help)->required()->check(CLI::IsMember(names));
  cmd->add_option("--input", a->inputs, "Input file (plain, .xz or .gz); repeat for several")->required();
  cmd->add_option("--test", a->test, "Test file: its rows are marked Part::test (the inputs Part::train)");
  cmd->add_option("--valid", a->valid, "Validation file: its rows are marked Part::valid");
  cmd->add_option("--out", a->out, "Dataset directory to create")->required();
  cmd->add_option("--on-error", a->on_error, "Malformed rows: fail (stop, write nothing) or skip (count and go on)")
      ->check(CLI::IsMember({"fail", "skip"}));
  cmd->add_option("--map", a->map,
                  "delimited: role=COL,... with COL a header name or 0-based index; roles user, item, rating|weight, "
                  "timestamp, event, category, brand, price, text");
  cmd->add_option("--delimiter", a->delimiter, "Field delimiter: ',', '\\t' or tab, '::', ';', whitespace, ...");
  cmd->add_flag("--no-header", a->no_header, "The first line is data, not column names");
  cmd->add_flag("--header", a->header, "The first line names the columns")->excludes("--no-header");
  cmd->add_flag("--force", a->force, "Replace an existing --out directory (only once the import succeeded)");
  cmd->callback([a] { run_import(*a); });
}

}  // namespace aisle::cli
