#include "aisle/train/saved_run.hpp"

#include "aisle/core/error.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/train/checkpoint.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "aisle/train/trainer.hpp"

namespace aisle::train {
namespace fs = std::filesystem;

namespace {

fs::path pick_checkpoint(const fs::path& run_dir, const std::string& which) {
  const fs::path dir = run_dir / "checkpoints";
  if (which == "best" || (which == "auto" && fs::exists(dir / "best" / "manifest.json"))) {
    AISLE_CHECK(fs::exists(dir / "best" / "manifest.json"), run_dir.string(),
                ": the run kept no best checkpoint (it had no early stopping)");
    return dir / "best";
  }
  if (which == "latest" || which == "auto") {
    const auto latest = latest_checkpoint(dir);
    AISLE_CHECK(latest.has_value(), run_dir.string(), ": the run has no checkpoint in ", dir.string());
    return *latest;
  }
  AISLE_CHECK(fs::exists(fs::path(which) / "manifest.json"), which,
              ": not a checkpoint (expected auto, best, latest or a checkpoint directory)");
  return which;
}

}  // namespace

SavedRun open_saved_run(const fs::path& run_dir, const std::string& checkpoint,
                        const std::vector<std::string>& overrides) {
  const fs::path recipe_path = run_dir / "recipe.yaml";
  AISLE_CHECK(fs::exists(recipe_path), run_dir.string(), ": not a run directory (no recipe.yaml)");
  SavedRun run{run_dir, recipe::Recipe::load_file(recipe_path.string(), overrides, training_schema()), {}, {}, {}, {}};
  run.checkpoint = pick_checkpoint(run_dir, checkpoint);
  const LoadedCheckpoint c = read_checkpoint(run.checkpoint);
  run.model = create_model(run.recipe.string("model.type"));
  run.model->configure(run.recipe);
  run.data = prepare_run_data(run.recipe, run_dir);
  run.comm = dist::make_local_communicator();
  const data::Interactions& train = run.data.split.train;
  run.model->setup(TrainingData{train, run.data.train_index, train.num_users, train.num_items,
                                std::make_shared<const data::SideFeatures>(run.data.dataset.item_features())},
                   ModelContext{resolve_device(run.recipe.string("device")),
                                static_cast<uint64_t>(run.recipe.integer("seed")), run.comm.get()});
  run.model->load_state(c.state);
  return run;
}

}  // namespace aisle::train
