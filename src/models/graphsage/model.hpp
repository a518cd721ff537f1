#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aisle/data/pairwise_batches.hpp"
#include "aisle/data/neighbor_sampler.hpp"
#include "aisle/optim/sparse_adam.hpp"
#include "aisle/train/model.hpp"
#include "src/models/graphsage/config.hpp"
#include "src/models/graphsage/feature_graph.hpp"
#include "src/models/graphsage/sage_layers.hpp"

// The GraphSAGE model behind create_graphsage() (see aisle/models/graphsage.hpp), visible to tests.
namespace aisle::models::graphsage {

// Everything one training step feeds to batch_loss, on the model's device.
struct StepInputs {
  std::vector<int64_t> seeds;      // distinct node ids, sorted
  Tensor input_ids, input_offsets; // embedding-bag arguments of the first layer's src nodes
  std::vector<LayerGraph> graphs;  // first layer first
  SeedPositions positions;
  std::vector<int64_t> cold_items;  // item nodes among the seeds trained as if new (cold_items.hpp)
};

class GraphSage final : public train::Model {
 public:
  std::string type() const override { return "graphsage"; }
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
  // The item features' layout and vocabularies, for `aisle add-items` (new_items.hpp).
  train::ArtifactExtras artifact_extras() const override;
  std::string hyperparameters_json() const override { return config_.to_json(); }
  std::map<std::string, int64_t> dimensions() const override;
  Device device() const override { return device_; }
  std::vector<std::string> setup_notes() const override;

  // Step `step` of `epoch`: its rows, negatives and sampled neighbourhoods.
  StepInputs step_inputs(int64_t epoch, int64_t step);
  const FeatureGraph& graph() const;
  const Params& params() const { return params_; }
  const Config& config() const { return config_; }
  // The final embeddings of every item ([I, width], on device()): full neighbourhoods, no sampling.
  Tensor item_embeddings() const;

 private:
  void check_ready(const char* what) const;
  std::vector<std::pair<std::string, Var>> named_params() const;
  // Fills final_users_ / final_items_ by full-graph inference when a step or load_state made them stale.
  void refresh_final() const;

  Config config_;
  bool configured_ = false;
  Device device_ = Device::cpu();
  uint64_t seed_ = 0;
  int64_t num_users_ = 0, num_items_ = 0;
  int64_t width_ = 0;  // of the final embeddings
  std::optional<FeatureGraph> graph_;  // CPU; none when only serving
  std::optional<data::NeighborSampler> sampler_;  // over the graph on device_
  Params params_;
  std::unique_ptr<optim::SparseAdam> optimizer_;
  std::optional<data::PairwiseBatches> batches_;
  std::map<std::string, Tensor> served_parameters_;  // the trained parameters of a loaded artifact
  mutable Tensor final_users_, final_items_;
  mutable std::vector<Tensor> final_attributes_;  // per layer: its input at the attribute nodes
  mutable std::vector<Tensor> final_user_states_;  // per layer: its input at the users (export_user_states)
  mutable bool final_stale_ = true;
};

}  // namespace aisle::models::graphsage
