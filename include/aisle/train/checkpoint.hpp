#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "aisle/train/model.hpp"

// Checkpoints of a run: RUN_DIR/checkpoints/epoch-EEEE-step-SSSSSSSS/ names the position the run
// continues from (epoch and step to run next), and RUN_DIR/checkpoints/best/ holds the weights of
// the best validation evaluation when early stopping is on. Each is an artifact directory
// (io::ArtifactWriter: written beside, then renamed into place; manifest.json with the sha256 of
// every file) holding the model's state() as weights.safetensors and the trainer's position as
// trainer.json, so a half-written checkpoint is never seen and a damaged one is refused.
//
// On several ranks, replicated state goes into that directory once (rank 0) and each rank's
// row-sharded state into RUN_DIR/checkpoints/.shards/NAME/rank-RRRRR/ (written first, so the main
// directory, renamed into place last, only ever names complete shards); sharding.json there
// records the world size and each sharded tensor's rows. Reading re-cuts the rows for any other
// world size, or assembles whole tensors (eval/export on one process).
namespace aisle::train {

// Where the trainer is: enough to continue exactly.
struct TrainerPosition {
  int64_t epoch = 0;  // next epoch to run (0-based)
  int64_t step = 0;   // next step within it
  double epoch_loss_sum = 0;      // loss * examples summed over the epoch's finished steps
  int64_t epoch_examples = 0;
  double epoch_seconds = 0;       // time spent in the epoch's finished steps
  double best_value = 0;          // best validation value of the watched metric
  int64_t best_epoch = -1;        // -1: no evaluation yet
  int64_t evals_without_improvement = 0;
  double elapsed_seconds = 0;     // training time before this checkpoint (all sessions)
  std::string recipe_sha256;
  std::string last_eval_json = "{}";  // the latest validation metrics, as JSON
};

struct LoadedCheckpoint {
  std::filesystem::path dir;
  TrainerPosition position;
  std::map<std::string, Tensor> state;  // the model's state(), memory-mapped
};

// Writes DIR atomically (replacing an existing DIR). `name` is "epoch-..." or "best". With a
// communicator of several ranks it is a collective: every rank calls it.
std::filesystem::path write_checkpoint(const std::filesystem::path& checkpoints_dir, const std::string& name,
                                       const Model& model, const TrainerPosition& position,
                                       dist::Communicator* comm = nullptr);
std::string checkpoint_name(int64_t epoch, int64_t step);
// The latest "epoch-*" checkpoint, if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& checkpoints_dir);
// Verifies checksums and reads; throws aisle::ArtifactError naming the file that is wrong.
// Tensors named in `cut_for` come back as that rank's rows (RowSharding), every other tensor whole,
// whatever the world size the checkpoint was written with.
LoadedCheckpoint read_checkpoint(const std::filesystem::path& dir,
                                 const std::map<std::string, dist::RowSharding>& cut_for = {});
// Removes "epoch-*" checkpoints beyond the newest `keep`.
void prune_checkpoints(const std::filesystem::path& checkpoints_dir, int64_t keep);

}  // namespace aisle::train
