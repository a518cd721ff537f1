#include "aisle/train/run_data.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/data/event.hpp"
#include "aisle/data/filter.hpp"
#include "aisle/data/importers.hpp"
#include "aisle/data/synthetic.hpp"

namespace aisle::train {
namespace {

namespace fs = std::filesystem;

// Imported and generated data live in the run directory, so a resumed run finds the very rows
// the interrupted one trained on instead of re-reading files that may have changed.
fs::path materialise(const recipe::Recipe& r, const fs::path& run_dir, std::vector<std::string>& notes) {
  const std::string source = r.string("data.source");
  if (source == "dataset") return r.string("data.path");
  const fs::path dir = run_dir / "data";
  if (fs::exists(dir / "meta.json")) {
    notes.push_back("reusing " + dir.string());
    return dir;
  }
  if (source == "import") {
    data::ImportOptions o;
    o.format = r.string("data.format");
    o.inputs = {r.string("data.input")};
    o.valid = r.string("data.valid");
    o.test = r.string("data.test");
    o.out = dir;
    o.overwrite = true;
    o.on_error = r.string("data.on_error") == "skip" ? data::OnError::skip : data::OnError::fail;
    for (const auto& [role, column] : r.string_map("data.map")) o.columns[role] = column;
    if (!r.string("data.delimiter").empty()) o.delimiter = data::parse_delimiter(r.string("data.delimiter"));
    const data::ImportResult result = data::import_dataset(o);
    notes.push_back("imported " + std::to_string(result.interactions) + " rows (" + std::to_string(result.users) +
                    " users, " + std::to_string(result.items) + " items) from " + r.string("data.input"));
    return dir;
  }
  data::SynthOptions o;
  o.users = r.integer("data.users");
  o.items = r.integer("data.items");
  o.interactions = r.integer("data.interactions");
  o.categories = r.integer("data.categories");
  o.days = r.integer("data.days");
  o.seed = static_cast<uint64_t>(r.integer("seed"));
  o.overwrite = true;
  data::check_synth_options(o);
  const data::SynthResult result = data::generate_synthetic(o, dir.string());
  notes.push_back("generated a synthetic shop: " + std::to_string(result.interactions) + " rows, " +
                  std::to_string(result.users) + " users, " + std::to_string(result.items) + " items");
  return dir;
}

data::Interactions keep_events(const data::Interactions& x, const recipe::Recipe& r, std::vector<std::string>& notes) {
  const auto names = r.strings("data.events");
  if (names.empty()) return x;
  std::vector<bool> wanted(256, false);
  for (const std::string& name : names) {
    const auto e = data::parse_event(name);
    AISLE_CHECK(e.has_value(), r.where("data.events"), ": 'data.events' has an unknown event '", name, "'");
    wanted[static_cast<size_t>(*e)] = true;
  }
  const uint8_t* ev = x.events.data<uint8_t>();
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < x.size(); ++i)
    if (wanted[ev[i]]) rows.push_back(i);
  AISLE_CHECK(!rows.empty(), r.where("data.events"), ": no row has the events listed in 'data.events'");
  notes.push_back("kept " + std::to_string(rows.size()) + " of " + std::to_string(x.size()) + " rows by event");
  return x.select(Tensor::from_vector(rows));
}

data::SplitSpec split_spec(const recipe::Recipe& r) {
  std::vector<std::pair<std::string, std::string>> params;
  const std::string method = r.string("data.split.method");
  auto number = [&](const char* key) { return std::to_string(r.number(std::string("data.split.") + key)); };
  if (method == "random" || method == "temporal") {
    params = {{"train", number("train")}, {"valid", number("valid")}, {"test", number("test")}};
    if (method == "random") {
      params.emplace_back("per_user", r.boolean("data.split.per_user") ? "true" : "false");
      params.emplace_back("seed", std::to_string(r.integer("seed")));
    }
  } else if (method == "leave_one_out") {
    params = {{"valid", r.boolean("data.split.valid") ? "true" : "false"},
              {"min_train", std::to_string(r.integer("data.split.min_train"))}};
  }
  try {
    return data::SplitSpec::from_params(method, params);
  } catch (const Error& e) {
    AISLE_FAIL(r.where("data.split.method"), ": data.split: ", e.what());
  }
}

}  // namespace

RunData prepare_run_data(const recipe::Recipe& r, const fs::path& run_dir) {
  RunData out;
  out.dataset = data::Dataset::open(materialise(r, run_dir, out.notes));
  data::Interactions rows = out.dataset.interactions();
  out.notes.push_back("dataset " + out.dataset.dir().string() + ": " + std::to_string(rows.size()) + " rows, " +
                      std::to_string(rows.num_users) + " users, " + std::to_string(rows.num_items) + " items");
  rows = keep_events(rows, r, out.notes);
  if (r.has("data.min_value")) {
    const auto before = rows.size();
    rows = data::threshold_implicit(rows, static_cast<float>(r.number("data.min_value")), /*keep_values=*/true);
    out.notes.push_back("kept " + std::to_string(rows.size()) + " of " + std::to_string(before) +
                        " rows with value >= " + std::to_string(r.number("data.min_value")));
  }
  const std::string dedup = r.string("data.deduplicate");
  if (dedup != "none") {
    const auto before = rows.size();
    rows = data::deduplicate(rows, dedup == "sum" ? data::DedupPolicy::sum : data::DedupPolicy::keep_last);
    out.notes.push_back("deduplicated (" + dedup + "): " + std::to_string(before) + " -> " +
                        std::to_string(rows.size()) + " rows");
  }
  if (const int64_t k = r.integer("data.k_core"); k > 0) {
    const data::KCoreResult core = data::k_core(rows, k, k);
    out.notes.push_back(std::to_string(k) + "-core: removed " + std::to_string(core.rows_removed) + " rows, " +
                        std::to_string(core.users_removed) + " users, " + std::to_string(core.items_removed) + " items");
    rows = core.kept;
  }
  AISLE_CHECK(rows.size() > 0, r.origin(), ": no interaction rows are left after the data filters");
  const data::SplitSpec spec = split_spec(r);
  out.split = data::make_split(rows, spec);
  for (const std::string& note : out.split.notes) out.notes.push_back("split: " + note);
  out.notes.push_back("split " + spec.to_string() + ": train " + std::to_string(out.split.train.size()) + ", valid " +
                      std::to_string(out.split.valid.size()) + ", test " + std::to_string(out.split.test.size()));
  AISLE_CHECK(out.split.train.size() > 0, r.where("data.split.method"), ": the split left no training rows");
  out.train_index = std::make_shared<const data::UserItemIndex>(out.split.train);
  return out;
}

}  // namespace aisle::train
