#pragma once
#include <memory>
#include <optional>

#include "aisle/data/pairwise_batches.hpp"
#include "aisle/dist/embedding_plan.hpp"
#include "aisle/train/model.hpp"
#include "src/models/bpr_mf/backward.hpp"
#include "src/models/bpr_mf/config.hpp"
#include "src/models/bpr_mf/row_optimizer.hpp"

// The BPR-MF model behind create_bpr_mf() (see aisle/models/bpr_mf.hpp), visible to tests so they
// can pin the backward implementation and compare the two.
namespace aisle::models::bpr {

enum class Kernel {
  automatic,  // fused (the default; the tape is kept as the reference)
  autograd,
  fused,      // fused_backward_cpu or fused_backward_cuda, by device
};

class BprMf final : public train::Model {
 public:
  std::string type() const override { return "bpr"; }
  train::Feedback feedback() const override { return train::Feedback::implicit; }
  bool trains_on_ranks() const override { return true; }
  void configure(const recipe::Recipe& recipe) override;
  void setup(const train::TrainingData& data, const train::ModelContext& ctx) override;
  int64_t steps_per_epoch() const override;
  void train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) override;
  Tensor score_users(const Tensor& users) const override;
  std::map<std::string, Tensor> state() const override;
  std::map<std::string, dist::RowSharding> state_sharding() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;
  std::map<std::string, Tensor> weights() const override;
  void load_weights(const std::map<std::string, Tensor>& weights, Device device) override;
  std::string hyperparameters_json() const override { return config_.to_json(); }
  std::map<std::string, int64_t> dimensions() const override;
  Device device() const override { return device_; }
  std::vector<std::string> setup_notes() const override { return notes_; }

  void use_kernel(Kernel kernel) { kernel_ = kernel; }
  const Params& params() const { return params_; }
  // This rank's real rows of step `step` of `epoch`: positives and their negatives (CPU tensors);
  // the whole global batch on one rank.
  BatchIds batch_ids(int64_t epoch, int64_t step);
  bool users_sharded() const { return shard_users_; }
  bool items_sharded() const { return shard_items_; }  // item_bias goes with item_factors

 private:
  bool fused() const;
  void check_ready(const char* what) const;
  BatchIds rank_batch(int64_t epoch, int64_t step, int64_t& global_size);
  Gradients backward(const Params& params, const BatchIds& ids) const;
  // distribution.cpp: the embedding plan, this rank's initial tables, whole tables for weights().
  void plan_tables(const train::ModelContext& ctx);
  Tensor initial_table(Tensor whole, bool sharded, const dist::RowSharding& sharding) const;
  Tensor whole_table(const Var& local, bool sharded, const dist::RowSharding& sharding) const;
  // distributed_step.cpp: one step's gradients on several ranks (or sharded on one), ready for
  // the optimizer (sharded tables' rows by local id), with the global mean loss.
  // One rank holds every row even when "sharded": the plain path is the same computation.
  bool distributed() const { return world_ > 1; }
  Gradients distributed_gradients(const BatchIds& ids, int64_t global_size) const;

  Config config_;
  bool configured_ = false;
  Kernel kernel_ = Kernel::automatic;
  Device device_ = Device::cpu();
  uint64_t seed_ = 0;
  int64_t num_users_ = 0, num_items_ = 0;
  Params params_;
  std::unique_ptr<RowOptimizer> optimizer_;  // null until setup (and when only serving)
  std::optional<data::PairwiseBatches> batches_;
  // Several ranks: null when only serving.
  dist::Communicator* comm_ = nullptr;
  int world_ = 1, rank_ = 0;
  bool shard_users_ = false, shard_items_ = false;
  dist::RowSharding user_sharding_, item_sharding_;
  std::vector<std::string> notes_;
};

}  // namespace aisle::models::bpr
