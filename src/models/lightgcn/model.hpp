#pragma once
#include <memory>
#include <optional>

#include "aisle/autograd/spmm.hpp"
#include "aisle/data/pairwise_batches.hpp"
#include "aisle/optim/adam.hpp"
#include "aisle/train/model.hpp"
#include "src/models/lightgcn/config.hpp"
#include "src/models/lightgcn/propagation.hpp"

// The LightGCN model behind create_lightgcn() (see aisle/models/lightgcn.hpp), visible to tests.
namespace aisle::models::lightgcn {

class LightGcn final : public train::Model {
 public:
  std::string type() const override { return "lightgcn"; }
  train::Feedback feedback() const override { return train::Feedback::implicit; }
  // Data parallel: every rank holds the whole graph and tables, trains on its share of each global
  // batch, and the dense gradients are summed over the ranks before the same Adam step everywhere.
  bool trains_on_ranks() const override { return true; }
  void configure(const recipe::Recipe& recipe) override;
  void setup(const train::TrainingData& data, const train::ModelContext& ctx) override;
  int64_t steps_per_epoch() const override;
  void train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) override;
  Tensor score_users(const Tensor& users) const override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;
  std::map<std::string, Tensor> weights() const override;
  void load_weights(const std::map<std::string, Tensor>& weights, Device device) override;
  std::string hyperparameters_json() const override { return config_.to_json(); }
  std::map<std::string, int64_t> dimensions() const override;
  Device device() const override { return device_; }

  // This rank's real rows of step `step` of `epoch` as graph nodes (CPU tensors; the whole batch
  // on one rank).
  BatchIds batch_ids(int64_t epoch, int64_t step);
  const Var& ego() const { return ego_; }
  const SparseOperator& graph() const;
  const Config& config() const { return config_; }

 private:
  void check_ready(const char* what) const;
  // batch_ids, also giving the size of the global batch the share belongs to.
  BatchIds rank_batch(int64_t epoch, int64_t step, int64_t& global_size);
  // Leaves in ego_'s gradient the gradient of the step's loss over the GLOBAL batch (summed over
  // the ranks) and returns that loss.
  double step_gradient(const BatchIds& ids, int64_t global_size);
  // Fills final_users_ / final_items_ from the ego table when a step or load_state made them stale.
  void refresh_final() const;

  Config config_;
  bool configured_ = false;
  Device device_ = Device::cpu();
  uint64_t seed_ = 0;
  dist::Communicator* comm_ = nullptr;  // null: one process
  int world_ = 1;
  int64_t num_users_ = 0, num_items_ = 0;
  Var ego_;                               // [U + I, F] dense leaf; undefined when served without it
  std::optional<SparseOperator> graph_;   // Â on device_; none when only serving
  std::unique_ptr<optim::Adam> optimizer_;
  std::optional<data::PairwiseBatches> batches_;
  // The propagated embeddings for evaluation and export, recomputed lazily after training.
  mutable Tensor final_users_, final_items_;
  mutable bool final_stale_ = true;
};

}  // namespace aisle::models::lightgcn
