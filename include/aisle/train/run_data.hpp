#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "aisle/data/dataset.hpp"
#include "aisle/data/split.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/recipe/recipe.hpp"

// The data a run trains and evaluates on, from a recipe's data section:
//   1. source: open data.path (dataset), or import data.input/valid/test (import) or generate a
//      shop (synth) into RUN_DIR/data — reused when it is already there (a resumed run);
//   2. rows: keep data.events, keep value >= data.min_value, deduplicate, k-core;
//   3. split by data.split.* (the split's seed is the recipe's seed).
// Every step's effect is recorded in `notes`, which the trainer logs.
namespace aisle::train {

struct RunData {
  data::Dataset dataset;
  data::Split split;
  std::shared_ptr<const data::UserItemIndex> train_index;
  std::vector<std::string> notes;
};

// Throws aisle::Error (recipe problems, naming the key) or aisle::DataError (bad files).
RunData prepare_run_data(const recipe::Recipe& recipe, const std::filesystem::path& run_dir);

}  // namespace aisle::train
