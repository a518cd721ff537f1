#pragma once
// Internal: the biased MF model class (public entry points: aisle/models/biased_mf.hpp).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aisle/autograd/var.hpp"
#include "aisle/data/batch_sampler.hpp"
#include "aisle/optim/optimizer.hpp"
#include "aisle/train/model.hpp"
#include "src/models/biased_mf/epoch_orders.hpp"
#include "src/models/biased_mf/sequential_sgd.hpp"

namespace aisle::models::biased_mf {

enum class Updates : uint8_t {
  per_rating,  // sequential SGD over the shuffled rows (CPU)
  hogwild,     // the same update, a step's rows concurrently without locks (CUDA)
  minibatch,   // autograd on a batch, optimizer step (any device)
};

struct Config {
  int64_t factors = 0;
  double init_std = 0;
  double reg = 0, reg_bias = 0;
  bool use_biases = true;
  std::string optimizer;   // "sgd" | "adam"
  std::string sgd_mode;    // "auto" | "per_rating" | "hogwild" | "minibatch"
  std::string sgd_mode_where;  // recipe.where("train.sgd_mode"), for errors found in setup()
  double lr = 0, lr_decay = 1;
  int64_t batch_size = 0;

  // Reads and cross-checks the keys; errors name the key and where its value came from.
  static Config from_recipe(const recipe::Recipe& recipe);
  // How train_steps updates on `device`; errors for per-rating SGD off the CPU and Hogwild off CUDA.
  Updates updates_on(Device device) const;
};

class BiasedMf final : public train::Model {
 public:
  std::string type() const override { return "mf"; }
  train::Feedback feedback() const override { return train::Feedback::ratings; }

  void configure(const recipe::Recipe& recipe) override;
  void setup(const train::TrainingData& data, const train::ModelContext& ctx) override;

  int64_t steps_per_epoch() const override;
  void train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) override;

  Tensor score_users(const Tensor& users) const override;
  Tensor predict(const Tensor& users, const Tensor& items) const override;

  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;
  std::map<std::string, Tensor> weights() const override;
  void load_weights(const std::map<std::string, Tensor>& weights, Device device) override;

  std::string hyperparameters_json() const override;
  std::map<std::string, int64_t> dimensions() const override;
  Device device() const override { return device_; }

 private:
  // The learning rate of `epoch` (exponential decay per epoch, so a resumed run recomputes it).
  double epoch_lr(int64_t epoch) const;
  void build_optimizer();
  // Steps first_step.. of the epoch with the Hogwild kernel (src/models/biased_mf/hogwild.cpp).
  void hogwild_steps(const data::BatchSampler& sampler, int64_t first_step, const SgdHyper& hyper,
                     const train::StepFn& on_step);
  // One minibatch: autograd loss, optimizer step. Returns the batch's mean squared error.
  double minibatch_step(const data::Batch& batch);
  // Takes the checked range tensor's values for clamping.
  void set_rating_range(const Tensor& range);

  bool configured_ = false;
  Config config_;
  Updates updates_ = Updates::per_rating;
  Device device_ = Device::cpu();
  int64_t num_users_ = 0, num_items_ = 0, factors_ = 0;

  // Parameters: tables are sparse leaves so the minibatch path sends row gradients. Biases are
  // [N, 1] tables (an embedding of width 1); weights() exposes them as [N] views.
  Var user_factors_, item_factors_, user_bias_, item_bias_;
  Tensor global_mean_;   // f32 [1] on device_
  Tensor rating_range_;  // f32 [2] on device_: training min and max; predictions are clamped to it
  float global_mean_host_ = 0;
  float rating_min_ = 0, rating_max_ = 0;
  bool clamp_ = false;  // false for weights without a rating range

  // Training only.
  data::Interactions train_;
  std::shared_ptr<void> packed_memory_;     // train_ rows for the per-rating kernels ...
  PackedRating* packed_ = nullptr;          // ... packed, in row order
  std::vector<PackedRating> step_ratings_;  // one step's rows (Hogwild: a chunk of steps) in the epoch's order
  std::unique_ptr<EpochOrders> sampler_;
  std::unique_ptr<optim::Optimizer> optimizer_;
};

}  // namespace aisle::models::biased_mf
