#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aisle/autograd/spmm.hpp"
#include "aisle/data/pairwise_batches.hpp"
#include "aisle/optim/adam.hpp"
#include "aisle/train/model.hpp"
#include "src/models/ngcf/config.hpp"
#include "src/models/ngcf/propagation.hpp"

// The NGCF model behind create_ngcf() (see aisle/models/ngcf.hpp), visible to tests.
namespace aisle::models::ngcf {

class Ngcf final : public train::Model {
 public:
  std::string type() const override { return "ngcf"; }
  train::Feedback feedback() const override { return train::Feedback::implicit; }
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

  // The rows of step `step` of `epoch` as graph nodes (CPU tensors).
  BatchIds batch_ids(int64_t epoch, int64_t step);
  // The message-dropout multipliers of that step (empty for rate 0), on the model's device.
  std::vector<Tensor> dropout_masks(int64_t epoch, int64_t step) const;
  // The adjacency values of a training step under node dropout; undefined when it is off.
  Tensor edge_values(int64_t epoch, int64_t step) const;
  const Params& params() const { return params_; }
  const SparseOperator& graph() const;
  const Config& config() const { return config_; }

 private:
  void check_ready(const char* what) const;
  // Every trained tensor by name (ego, then each layer's w1, b1, w2, b2): the optimizer's order.
  std::vector<std::pair<std::string, Var>> named_params() const;
  // Fills final_users_ / final_items_ when a step or load_state made them stale.
  void refresh_final() const;

  Config config_;
  bool configured_ = false;
  Device device_ = Device::cpu();
  uint64_t seed_ = 0;
  int64_t num_users_ = 0, num_items_ = 0;
  Params params_;                        // undefined ego when served without the parameters
  std::optional<SparseOperator> graph_;  // Â on device_; none when only serving
  std::unique_ptr<optim::Adam> optimizer_;
  std::optional<data::PairwiseBatches> batches_;
  // The final embeddings for evaluation and export (no dropout), recomputed lazily after training.
  mutable Tensor final_users_, final_items_;
  mutable bool final_stale_ = true;
};

}  // namespace aisle::models::ngcf
