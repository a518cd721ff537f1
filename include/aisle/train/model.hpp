#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aisle/core/device.hpp"
#include "aisle/data/interactions.hpp"
#include "aisle/data/side_features.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/dist/sharding.hpp"
#include "aisle/recipe/recipe.hpp"
#include "aisle/tensor/tensor.hpp"

// The contract between the trainer and a model (biased MF, BPR, ALS, popularity, item-kNN, ...).
// The trainer owns the loop — epochs, logging, evaluation, early stopping, checkpoints, signals —
// and a model owns its parameters and how one training step changes them.
//
// Life cycle for training:  configure(recipe) -> setup(data, ctx) [-> load_state(checkpoint)]
//                           -> train_steps(epoch, first_step, on_step) per epoch
//                           -> score_users / predict for evaluation -> weights() for export.
// Life cycle for serving:   load_weights(artifact tensors, device) -> score_users / predict.
//
// Determinism contract (what makes `aisle train --resume` exact on the CPU): the state after
// step s of epoch e is a function of the state before it and (seed, e, s) only — shuffles and
// negatives are drawn from Philox streams keyed by (seed, purpose, epoch, step) (see
// data/sampler_streams.hpp), never from a stream that advances across calls — and CPU kernels do
// not depend on the thread count. state() holds everything train_steps reads and writes
// (parameters, optimizer moments, step counters), so setup + load_state(state()) continues
// bit-identically.
namespace aisle::train {

// What a model learns from, which decides the evaluation protocol and the data preparation.
enum class Feedback {
  ratings,   // explicit values to predict (RMSE/MAE); rows keep their values
  implicit,  // which items a user interacts with (ranking metrics); values may weight rows
};

// Training data, prepared once by the trainer (data/ splits and filters): CPU tensors in one dense
// id space. Models copy what they need to their device in setup().
struct TrainingData {
  data::Interactions train;
  std::shared_ptr<const data::UserItemIndex> train_index;  // each user's distinct training items
  int64_t num_users = 0;
  int64_t num_items = 0;
  // The dataset's per-item attributes (category, brand, price, title words, ...), one row per item
  // id; null when the data has none. Models that use side features (GraphSAGE) read them here.
  std::shared_ptr<const data::SideFeatures> item_features = nullptr;
};

struct ModelContext {
  Device device = Device::cpu();
  uint64_t seed = 0;                      // the recipe's seed: initial weights and sampler streams
  // Never null in setup(). With world size > 1 every rank runs the same calls in the same order
  // (setup, train_steps, state, weights, ...); a model that cannot train on several ranks throws
  // from setup() naming the model.
  dist::Communicator* comm = nullptr;
};

// What a model reports after each step. `loss` is the mean loss over the step's examples (NaN
// when the model has no per-step loss, e.g. popularity counts).
struct StepReport {
  int64_t step = 0;   // 0-based within the epoch
  int64_t steps = 0;  // steps in this epoch
  double loss = 0;
  int64_t examples = 0;  // training rows (or users, for ALS half-steps) the step processed
};
// Returns false to stop the epoch after this step (a signal, or the run diverged); the model then
// returns from train_steps at once.
using StepFn = std::function<bool(const StepReport&)>;

// What an exported artifact carries beyond weights() for commands that extend it later (GraphSAGE:
// the layout of its item features as a JSON document and their vocabularies as id maps, which
// `aisle add-items` reads to embed products added after export).
struct ArtifactExtras {
  std::map<std::string, data::IdMap> id_maps;  // role -> map, written as "<role>.ids.safetensors"
  std::map<std::string, std::string> files;    // relative path -> contents
};

class Model {
 public:
  virtual ~Model() = default;

  virtual std::string type() const = 0;  // the recipe's model.type, e.g. "bpr"
  virtual Feedback feedback() const = 0;
  // False for models fitted in one pass (popularity, item-kNN): the trainer runs one epoch.
  virtual bool iterative() const { return true; }
  // True for models that split their work over the ranks of ModelContext.comm (data parallel,
  // sharded tables). The trainer refuses to start the others on several ranks rather than let
  // every rank repeat the whole job.
  virtual bool trains_on_ranks() const { return false; }

  // Reads model.* and the train.* keys the model uses; throws aisle::Error naming the key
  // (recipe.where(key)) for values that are valid alone but not together.
  virtual void configure(const recipe::Recipe& recipe) = 0;
  // Allocates and initialises parameters on ctx.device from ctx.seed.
  virtual void setup(const TrainingData& data, const ModelContext& ctx) = 0;

  virtual int64_t steps_per_epoch() const = 0;
  // Runs steps [first_step, steps_per_epoch()) of `epoch` (0-based), calling on_step after each.
  virtual void train_steps(int64_t epoch, int64_t first_step, const StepFn& on_step) = 0;

  // Scores of every item for users (i64 [B] on device()) -> f32 [B, num_items] on device(), a
  // fresh tensor (the evaluator masks it in place). Higher is better. On several ranks the trainer
  // evaluates a serving copy made from weights(), so a sharded model need not score.
  virtual Tensor score_users(const Tensor& users) const = 0;
  // Predicted values for (user, item) pairs, i64 [n] each on device() -> f32 [n]. Only ratings
  // models implement it; the default throws.
  virtual Tensor predict(const Tensor& users, const Tensor& items) const;

  // Checkpoints: every tensor train_steps depends on (scalars as 0-d or [1] tensors). On several
  // ranks, this rank's part: replicated tensors whole, row-sharded tensors as the local rows.
  virtual std::map<std::string, Tensor> state() const = 0;
  // The state() entries that are row-sharded over the ranks (absent: replicated, the same on every
  // rank). The trainer saves one state per rank with these descriptions and re-cuts the sharded
  // tensors when a run resumes on another number of ranks.
  virtual std::map<std::string, dist::RowSharding> state_sharding() const { return {}; }
  // After setup() with the same data and recipe: tensors shaped as state() gives them on this rank
  // (sharded entries already re-cut for it). Throws aisle::Error naming a missing or mis-shaped
  // tensor.
  virtual void load_state(const std::map<std::string, Tensor>& state) = 0;

  // Serving: what score_users/predict need (no optimizer moments), written to
  // weights.safetensors by export. Always whole tables: on several ranks this is a collective
  // (every rank calls it; sharded tables are gathered) and the result is the same on every rank.
  virtual std::map<std::string, Tensor> weights() const = 0;
  // Restores a model for serving from weights() of an exported artifact (CPU tensors, possibly
  // memory-mapped), without configure/setup. Throws aisle::ArtifactError naming a missing or
  // mis-shaped tensor.
  virtual void load_weights(const std::map<std::string, Tensor>& weights, Device device) = 0;

  // Written by export beside weights(); empty for most models. Roles must not be "users" or "items".
  virtual ArtifactExtras artifact_extras() const { return {}; }

  // The model's hyperparameters as a JSON object (for manifests and summaries).
  virtual std::string hyperparameters_json() const = 0;
  // Named sizes: "users", "items", "factors", ... (for manifests).
  virtual std::map<std::string, int64_t> dimensions() const = 0;
  virtual Device device() const = 0;
  // Lines about what setup() built, printed at start: how the model is spread over the ranks (the
  // embedding plan), the graph it propagates over. Empty when there is nothing to say.
  virtual std::vector<std::string> setup_notes() const { return {}; }
};

}  // namespace aisle::train
