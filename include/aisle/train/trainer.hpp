#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "aisle/recipe/recipe.hpp"
#include "aisle/train/model.hpp"

// `aisle train RECIPE`: prepares the data, builds the model, runs the epochs and evaluations, and
// writes the run directory:
//   RUN_DIR/recipe.yaml          the resolved recipe (every key, defaults included)
//   RUN_DIR/metrics.jsonl        one JSON object per event: start, step (at each progress tick),
//                                epoch, eval, checkpoint, resume, early_stop, stop, end
//   RUN_DIR/summary.json         status, final test metrics, best validation metrics, epochs,
//                                wall time, device, version, recipe sha256, artifact
//   RUN_DIR/checkpoints/         see checkpoint.hpp
//   RUN_DIR/data/                imported or generated data (data.source import | synth)
//
// Stopping: SIGINT/SIGTERM (or request_stop()) end the current step, write a checkpoint at that
// exact position and return status "stopped"; `--resume` continues from the latest checkpoint and
// ends with exactly the metrics of an uninterrupted run on the CPU (model.hpp's determinism
// contract). A non-finite loss stops the run without checkpointing the bad state (the last
// checkpoint stays the latest) and throws TrainingDiverged.
namespace aisle::train {

// The run diverged (non-finite loss); the message names the epoch, step and last checkpoint.
class TrainingDiverged : public Error {
 public:
  using Error::Error;
};

struct TrainOptions {
  std::filesystem::path run_dir;  // empty: the recipe's run_dir, or runs/<name>
  bool resume = false;            // continue from the latest checkpoint in the run directory
  bool force = false;             // start over in an existing run directory (deleting it)
  std::FILE* console = stdout;    // epoch and evaluation lines; nullptr: quiet
  std::FILE* progress = stderr;   // progress bar or periodic lines; nullptr: none
  // false: no checkpoint at epoch ends, at the end or on a signal (`aisle bench`'s scratch runs:
  // a 100M-row table with its optimizer state would write tens of GB for nothing). The "best"
  // checkpoint of early stopping is still written, as restoring the best epoch reads it.
  bool write_checkpoints = true;
  // Called after every step (tests stop runs at chosen steps through request_stop()).
  std::function<void(int64_t epoch, const StepReport& step)> on_step;
};

struct TrainResult {
  std::string status;  // "completed", "early_stopped", "stopped"
  std::filesystem::path run_dir;
  int64_t epochs_completed = 0;
  int64_t best_epoch = -1;                      // -1 without validation evaluations
  std::map<std::string, double> test_metrics;   // empty when stopped or without a test part
  std::map<std::string, double> valid_metrics;  // the best (or last) validation evaluation
  std::filesystem::path artifact;               // empty without export
  double wall_seconds = 0;
};

TrainResult train(const recipe::Recipe& recipe, const TrainOptions& options);

// Asks a running train() to stop after its current step and checkpoint (async-signal-safe).
void request_stop();

// The run directory train() uses for these options.
std::filesystem::path resolve_run_dir(const recipe::Recipe& recipe, const TrainOptions& options);

// Picks the device a recipe's `device` names ("auto": the first GPU if there is one).
Device resolve_device(const std::string& name);

}  // namespace aisle::train
