#include "src/models/bpr_mf/model.hpp"

#include <algorithm>

#include "aisle/autograd/grad_mode.hpp"
#include "aisle/data/sampler_streams.hpp"
#include "aisle/models/bpr_mf.hpp"
#include "aisle/nn/init.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/matmul.hpp"
#include "aisle/ops/scatter.hpp"
#include "src/core/parallel.hpp"

namespace aisle::models {
namespace bpr {
namespace {

constexpr const char* kOptimizerPrefix = "optimizer.";

Var sparse_parameter(Tensor value, const char* name) {
  Var v = Var::parameter(std::move(value), name);
  v.set_sparse(true);
  return v;
}

// A weight from an artifact or checkpoint as f32: present, floating, of the expected shape
// (a -1 in `expected` takes any size).
Tensor expect_weight(const std::map<std::string, Tensor>& tensors, const std::string& name, const Shape& expected,
                     bool artifact) {
  auto fail = [&](const std::string& why) {
    const std::string message = "bpr: tensor '" + name + "' " + why;
    if (artifact) throw ArtifactError(message);
    throw Error(message);
  };
  const auto it = tensors.find(name);
  if (it == tensors.end()) fail("is missing");
  const Tensor& t = it->second;
  bool shape_ok = t.dim() == static_cast<int64_t>(expected.size());
  for (size_t a = 0; shape_ok && a < expected.size(); ++a)
    shape_ok = expected[a] < 0 || t.size(static_cast<int64_t>(a)) == expected[a];
  if (!shape_ok) fail("has shape " + shape_str(t.shape()) + ", expected " + shape_str(expected));
  if (t.dtype() != DType::f32 && t.dtype() != DType::f64)
    fail(std::string("has dtype ") + dtype_name(t.dtype()) + ", expected f32");
  return t.to(DType::f32);
}

}  // namespace

void BprMf::configure(const recipe::Recipe& recipe) {
  config_ = Config::from_recipe(recipe);
  configured_ = true;
}

void BprMf::setup(const train::TrainingData& data, const train::ModelContext& ctx) {
  AISLE_CHECK(configured_, "bpr: setup() before configure()");
  AISLE_CHECK(ctx.comm == nullptr || ctx.comm->world_size() == 1, "bpr: training on ", ctx.comm->world_size(),
              " ranks is not supported yet (world size 1 only)");
  AISLE_CHECK(data.train.size() > 0, "bpr: the training split has no interactions");
  AISLE_CHECK(data.train_index != nullptr, "bpr: TrainingData.train_index is not set");
  device_ = ctx.device;
  seed_ = ctx.seed;
  num_users_ = data.num_users;
  num_items_ = data.num_items;
  // Drawn on the host so a CPU and a CUDA run start from the same numbers.
  Generator gen(ctx.seed);
  auto table = [&](int64_t rows, const char* name) {
    return sparse_parameter(nn::init::normal({rows, config_.factors}, config_.init_std, gen).to(device_), name);
  };
  params_.user_factors = table(num_users_, "user_factors");
  params_.item_factors = table(num_items_, "item_factors");
  std::vector<std::pair<std::string, Tensor>> tables{{"user_factors", params_.user_factors.value()},
                                                     {"item_factors", params_.item_factors.value()}};
  params_.item_bias = Var();
  if (config_.item_bias) {
    params_.item_bias = sparse_parameter(Tensor::zeros({num_items_}, DType::f32, device_), "item_bias");
    tables.emplace_back("item_bias", params_.item_bias.value());
  }
  optimizer_ = std::make_unique<RowOptimizer>(config_.optimizer, config_.lr, std::move(tables));

  train_ = data.train;
  batches_.emplace(train_.size(), data::BatchSamplerOptions{.batch_size = config_.batch_size, .seed = seed_});
  if (config_.negative_sampling == "popularity")
    negatives_.emplace(
        data::NegativeSampler::popularity(data.train_index, data::item_counts(train_), config_.popularity_alpha));
  else
    negatives_.emplace(data::NegativeSampler::uniform(data.train_index));
}

void BprMf::check_ready(const char* what) const {
  AISLE_CHECK(optimizer_ != nullptr, "bpr: ", what, " needs setup() first");
}

int64_t BprMf::steps_per_epoch() const {
  check_ready("steps_per_epoch()");
  return batches_->num_batches();
}

BatchIds BprMf::batch_ids(int64_t epoch, int64_t step) {
  check_ready("training");
  if (batches_->epoch() != epoch) batches_->set_epoch(epoch);
  const data::InteractionBatch b = data::gather_batch(train_, batches_->batch(step));
  // Keyed by dataset row, so a row's negatives in an epoch do not depend on its batch.
  const Tensor negatives = negatives_->sample(b.users, config_.negatives, seed_,
                                              data::sampler_stream(data::SamplerPurpose::negatives,
                                                                   static_cast<uint64_t>(epoch)),
                                              b.rows);
  return {b.users, b.items, negatives};
}

bool BprMf::fused() const { return kernel_ != Kernel::autograd; }

void BprMf::train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) {
  check_ready("train_steps()");
  const int64_t steps = steps_per_epoch();
  AISLE_CHECK(first_step >= 0 && first_step <= steps, "bpr: first_step ", first_step, " is outside [0, ", steps, "]");
  const bool use_fused = fused();
  for (int64_t s = first_step; s < steps; ++s) {
    BatchIds ids = batch_ids(epoch, s);
    const int64_t examples = ids.users.numel();
    if (device_.is_cuda()) ids = {ids.users.to(device_), ids.items.to(device_), ids.negatives.to(device_)};
    Gradients g;
    if (!use_fused) g = autograd_backward(params_, ids, config_.reg);
    else if (device_.is_cuda()) g = fused_backward_cuda(params_, ids, config_.reg);
    else g = fused_backward_cpu(params_, ids, config_.reg);
    optimizer_->step(g.rows);
    if (!on_step(train::StepReport{.step = s, .steps = steps, .loss = g.loss, .examples = examples})) return;
  }
}

Tensor BprMf::score_users(const Tensor& users) const {
  AISLE_CHECK(params_.user_factors.defined(), "bpr: score_users() needs setup() or load_weights() first");
  NoGradGuard no_grad;
  Tensor scores = ops::matmul(ops::gather_rows(params_.user_factors.value(), users), params_.item_factors.value(),
                              false, true);
  if (!params_.item_bias.defined()) return scores;
  if (scores.is_cuda()) return ops::add(scores, params_.item_bias.value());
  // In place, row by row: the general broadcasting add is several times slower than the GEMM here.
  float* s = scores.data<float>();
  const float* b = params_.item_bias.value().data<float>();
  const int64_t items = scores.size(1), rows_per_chunk = std::max<int64_t>(1, 65536 / std::max<int64_t>(items, 1));
  cpu::parallel_for(scores.size(0), rows_per_chunk, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t i = 0; i < items; ++i) s[r * items + i] += b[i];
  });
  return scores;
}

std::map<std::string, Tensor> BprMf::weights() const {
  AISLE_CHECK(params_.user_factors.defined(), "bpr: weights() needs setup() or load_weights() first");
  std::map<std::string, Tensor> w{{"user_factors", params_.user_factors.value()},
                                  {"item_factors", params_.item_factors.value()}};
  if (params_.item_bias.defined()) w.emplace("item_bias", params_.item_bias.value());
  return w;
}

std::map<std::string, Tensor> BprMf::state() const {
  check_ready("state()");
  std::map<std::string, Tensor> s = weights();
  for (const auto& [name, tensor] : optimizer_->state()) s.emplace(kOptimizerPrefix + name, tensor);
  return s;
}

void BprMf::load_state(const std::map<std::string, Tensor>& state) {
  check_ready("load_state()");
  const std::map<std::string, Tensor> mine = this->state();
  for (const auto& [name, tensor] : state)
    AISLE_CHECK(mine.count(name) != 0, "bpr: state tensor '", name, "' is not part of this model (",
                config_.optimizer, " optimizer, item_bias ", config_.item_bias ? "on" : "off", ")");
  std::vector<std::pair<std::string, Tensor>> weights;
  for (const auto& [name, tensor] : this->weights())
    weights.emplace_back(name, expect_weight(state, name, tensor.shape(), /*artifact=*/false));
  std::vector<std::pair<std::string, Tensor>> optimizer_state;
  for (const auto& [name, tensor] : optimizer_->state()) {
    const auto it = state.find(kOptimizerPrefix + name);
    AISLE_CHECK(it != state.end(), "bpr: state tensor '", kOptimizerPrefix, name, "' is missing");
    optimizer_state.emplace_back(name, it->second);
  }
  optimizer_->load_state(optimizer_state);  // validates everything before changing anything
  for (auto& [name, tensor] : weights) {
    Tensor target = mine.at(name);
    target.copy_(tensor);
  }
}

void BprMf::load_weights(const std::map<std::string, Tensor>& weights, Device device) {
  const auto users = weights.find("user_factors");
  if (users == weights.end()) AISLE_ARTIFACT_FAIL("bpr: tensor 'user_factors' is missing");
  AISLE_ARTIFACT_CHECK(users->second.dim() == 2, "bpr: tensor 'user_factors' has shape ",
                       shape_str(users->second.shape()), ", expected [users, factors]");
  const int64_t factors = users->second.size(1);
  const Tensor p = expect_weight(weights, "user_factors", {-1, factors}, true);
  const Tensor q = expect_weight(weights, "item_factors", {-1, factors}, true);
  const bool bias = weights.count("item_bias") != 0;
  Tensor b;
  if (bias) b = expect_weight(weights, "item_bias", {q.size(0)}, true);
  device_ = device;
  num_users_ = p.size(0);
  num_items_ = q.size(0);
  config_.factors = factors;
  config_.item_bias = bias;
  params_ = Params{Var(p.to(device)), Var(q.to(device)), bias ? Var(b.to(device)) : Var()};
  optimizer_.reset();
  batches_.reset();
  negatives_.reset();
}

std::map<std::string, int64_t> BprMf::dimensions() const {
  return {{"users", num_users_}, {"items", num_items_}, {"factors", config_.factors}};
}

}  // namespace bpr

std::unique_ptr<train::Model> create_bpr_mf() { return std::make_unique<bpr::BprMf>(); }

}  // namespace aisle::models
