#pragma once
#include <memory>
#include <optional>

#include "aisle/data/batch_sampler.hpp"
#include "aisle/data/negative_sampler.hpp"
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

  void use_kernel(Kernel kernel) { kernel_ = kernel; }
  const Params& params() const { return params_; }
  // The ids of step `step` of `epoch`: its positives and their negatives (CPU tensors).
  BatchIds batch_ids(int64_t epoch, int64_t step);

 private:
  bool fused() const;
  void check_ready(const char* what) const;

  Config config_;
  bool configured_ = false;
  Kernel kernel_ = Kernel::automatic;
  Device device_ = Device::cpu();
  uint64_t seed_ = 0;
  int64_t num_users_ = 0, num_items_ = 0;
  Params params_;
  std::unique_ptr<RowOptimizer> optimizer_;  // null until setup (and when only serving)
  data::Interactions train_;
  std::optional<data::BatchSampler> batches_;
  std::optional<data::NegativeSampler> negatives_;
};

}  // namespace aisle::models::bpr
