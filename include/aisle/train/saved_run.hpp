#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "aisle/recipe/recipe.hpp"
#include "aisle/train/model.hpp"
#include "aisle/train/run_data.hpp"

// A finished (or stopped) run reopened from its directory for `aisle eval` and `aisle export`:
// the run's own recipe.yaml (plus --set overrides, e.g. eval.k or device), its data prepared and
// split exactly as in training, and the model restored from one of its checkpoints.
namespace aisle::train {

struct SavedRun {
  std::filesystem::path dir;
  recipe::Recipe recipe;
  RunData data;
  std::unique_ptr<dist::Communicator> comm;  // outlives the model, which may keep a pointer
  std::unique_ptr<Model> model;
  std::filesystem::path checkpoint;
};

// checkpoint: "auto" (best when the run kept one, else the latest), "best", "latest", or a path.
// Throws aisle::Error naming the run directory or checkpoint that is missing, and
// aisle::ArtifactError for a damaged checkpoint.
SavedRun open_saved_run(const std::filesystem::path& run_dir, const std::string& checkpoint,
                        const std::vector<std::string>& overrides);

}  // namespace aisle::train
