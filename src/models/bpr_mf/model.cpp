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
#include "src/models/model_tensors.hpp"

namespace aisle::models {
namespace bpr {
namespace {

constexpr const char* kOptimizerPrefix = "optimizer.";

Var sparse_parameter(Tensor value, const char* name) {
  Var v = Var::parameter(std::move(value), name);
  v.set_sparse(true);
  return v;
}

}  // namespace

void BprMf::configure(const recipe::Recipe& recipe) {
  config_ = Config::from_recipe(recipe);
  configured_ = true;
}

void BprMf::setup(const train::TrainingData& data, const train::ModelContext& ctx) {
  AISLE_CHECK(configured_, "bpr: setup() before configure()");
  AISLE_CHECK(ctx.comm != nullptr, "bpr: ModelContext.comm is not set");
  AISLE_CHECK(data.train.size() > 0, "bpr: the training split has no interactions");
  AISLE_CHECK(data.train_index != nullptr, "bpr: TrainingData.train_index is not set");
  device_ = ctx.device;
  seed_ = ctx.seed;
  num_users_ = data.num_users;
  num_items_ = data.num_items;
  plan_tables(ctx);
  AISLE_CHECK(!config_.half_tables() || world_ == 1, "bpr: model.table_dtype ", config_.table_dtype,
              " trains on one process (the ranks' row exchanges are f32); this run has ", world_, " ranks");
  // Drawn whole on the host, so a CPU and a CUDA run, and every number of ranks, start from the
  // same numbers; a sharded table keeps this rank's rows.
  Generator gen(ctx.seed);
  // A 16-bit table starts as the f32 draw rounded to nearest even.
  auto table = [&](int64_t rows, bool sharded, const dist::RowSharding& sharding, const char* name) {
    Tensor whole = nn::init::normal({rows, config_.factors}, config_.init_std, gen);
    return sparse_parameter(initial_table(std::move(whole), sharded, sharding).to(config_.table_storage()).to(device_),
                            name);
  };
  params_.user_factors = table(num_users_, shard_users_, user_sharding_, "user_factors");
  params_.item_factors = table(num_items_, shard_items_, item_sharding_, "item_factors");
  std::vector<std::pair<std::string, Tensor>> tables{{"user_factors", params_.user_factors.value()},
                                                     {"item_factors", params_.item_factors.value()}};
  params_.item_bias = Var();
  if (config_.item_bias) {
    const int64_t rows = shard_items_ ? item_sharding_.local_rows() : num_items_;
    params_.item_bias = sparse_parameter(Tensor::zeros({rows}, DType::f32, device_), "item_bias");
    tables.emplace_back("item_bias", params_.item_bias.value());
  }
  optimizer_ = std::make_unique<RowOptimizer>(config_.optimizer, config_.lr, std::move(tables),
                                              HalfRounding{.stochastic = config_.stochastic_rounding, .seed = seed_});

  batches_.emplace(data.train,
                   data::BatchSamplerOptions{.batch_size = config_.batch_size, .seed = seed_, .rank = rank_,
                                             .world_size = world_},
                   config_.negative_sampling == "popularity"
                       ? data::NegativeSampler::popularity(data.train_index, data::item_counts(data.train),
                                                           config_.popularity_alpha)
                       : data::NegativeSampler::uniform(data.train_index),
                   config_.negatives, config_.pair_sampling);
  // One process on a GPU draws there. (Ranks of a distributed run route their ids on the host.)
  if (device_.is_cuda() && !distributed()) batches_->sample_on(device_);
}

void BprMf::check_ready(const char* what) const {
  AISLE_CHECK(optimizer_ != nullptr, "bpr: ", what, " needs setup() first");
}

int64_t BprMf::steps_per_epoch() const {
  check_ready("steps_per_epoch()");
  return batches_->num_batches();
}

BatchIds BprMf::batch_ids(int64_t epoch, int64_t step) {
  int64_t global_size = 0;
  return rank_batch(epoch, step, global_size);
}

BatchIds BprMf::rank_batch(int64_t epoch, int64_t step, int64_t& global_size) {
  check_ready("training");
  // Only this rank's real rows: padding of a short share is not trained on.
  const data::PairwiseBatch b = batches_->batch(epoch, step);
  global_size = b.rows.global_size;
  return {b.rows.users, b.rows.items, b.negatives};
}

bool BprMf::fused() const { return kernel_ != Kernel::autograd; }

Gradients BprMf::backward(const Params& params, const BatchIds& ids) const {
  if (!fused()) {
    AISLE_CHECK(!config_.half_tables(), "bpr: the autograd step runs on f32 tables only, not ", config_.table_dtype);
    return autograd_backward(params, ids, config_.reg);
  }
  if (device_.is_cuda()) return fused_backward_cuda(params, ids, config_.reg);
  return fused_backward_cpu(params, ids, config_.reg);
}

void BprMf::train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) {
  check_ready("train_steps()");
  const int64_t steps = steps_per_epoch();
  AISLE_CHECK(first_step >= 0 && first_step <= steps, "bpr: first_step ", first_step, " is outside [0, ", steps, "]");
  for (int64_t s = first_step; s < steps; ++s) {
    int64_t global_size = 0;
    const BatchIds ids = rank_batch(epoch, s, global_size);
    Gradients g;
    if (distributed()) {
      g = distributed_gradients(ids, global_size);
      optimizer_->step(g.rows);
    } else if (device_.is_cuda()) {
      const BatchIds on_device{ids.users.to(device_), ids.items.to(device_), ids.negatives.to(device_)};
      if (fused() && optimizer_->fuses_occurrences()) {
        // The optimizer sums each row's occurrences inside its update: no coalesced gradient.
        g = fused_occurrences_cuda(params_, on_device, config_.reg);
        optimizer_->step_occurrences(g.rows);
      } else {
        g = backward(params_, on_device);
        optimizer_->step(g.rows);
      }
    } else {
      g = backward(params_, ids);
      optimizer_->step(g.rows);
    }
    if (!on_step(train::StepReport{.step = s, .steps = steps, .loss = g.loss, .examples = global_size})) return;
  }
}

Tensor BprMf::score_users(const Tensor& users) const {
  AISLE_CHECK(params_.user_factors.defined(), "bpr: score_users() needs setup() or load_weights() first");
  AISLE_CHECK(world_ == 1 || !(shard_users_ || shard_items_), "bpr: score_users() on a row-sharded model: evaluate ",
              "a serving copy made from weights()");
  NoGradGuard no_grad;
  // 16-bit tables score in f32: the users' rows and the item table widened (exact).
  Tensor scores = ops::matmul(ops::gather_rows(params_.user_factors.value(), users).to(DType::f32),
                              params_.item_factors.value().to(DType::f32), false, true);
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
  // Always f32: serving never sees how training stored the tables.
  std::map<std::string, Tensor> w{
      {"user_factors", whole_table(params_.user_factors, shard_users_, user_sharding_).to(DType::f32)},
      {"item_factors", whole_table(params_.item_factors, shard_items_, item_sharding_).to(DType::f32)}};
  if (params_.item_bias.defined())
    w.emplace("item_bias", whole_table(params_.item_bias, shard_items_, item_sharding_));
  return w;
}

std::map<std::string, Tensor> BprMf::state() const {
  check_ready("state()");
  std::map<std::string, Tensor> s{{"user_factors", params_.user_factors.value()},
                                  {"item_factors", params_.item_factors.value()}};
  if (params_.item_bias.defined()) s.emplace("item_bias", params_.item_bias.value());
  for (const auto& [name, tensor] : optimizer_->state()) s.emplace(kOptimizerPrefix + name, tensor);
  return s;
}

std::map<std::string, dist::RowSharding> BprMf::state_sharding() const {
  check_ready("state_sharding()");
  std::map<std::string, dist::RowSharding> out;
  for (const auto& [name, tensor] : state()) {
    std::string table = name.rfind(kOptimizerPrefix, 0) == 0 ? name.substr(std::string(kOptimizerPrefix).size()) : name;
    table = table.substr(0, table.find('.'));
    if (table == "user_factors" && shard_users_) out.emplace(name, user_sharding_);
    if ((table == "item_factors" || table == "item_bias") && shard_items_) out.emplace(name, item_sharding_);
  }
  return out;
}

void BprMf::load_state(const std::map<std::string, Tensor>& state) {
  check_ready("load_state()");
  const std::map<std::string, Tensor> mine = this->state();
  for (const auto& [name, tensor] : state)
    AISLE_CHECK(mine.count(name) != 0, "bpr: state tensor '", name, "' is not part of this model (",
                config_.optimizer, " optimizer, item_bias ", config_.item_bias ? "on" : "off", ")");
  std::vector<std::pair<std::string, Tensor>> tables;
  for (const char* name : {"user_factors", "item_factors", "item_bias"}) {
    if (!mine.count(name)) continue;
    const Tensor& target = mine.at(name);
    if (target.dtype() == DType::f32) {
      tables.emplace_back(name, expect_weight("bpr", state, name, target.shape(), false));
      continue;
    }
    // A 16-bit table resumes from its own bits.
    const auto it = state.find(name);
    AISLE_CHECK(it != state.end(), "bpr: state tensor '", name, "' is missing");
    AISLE_CHECK(it->second.dtype() == target.dtype() && it->second.shape() == target.shape(), "bpr: state tensor '",
                name, "' is ", it->second.describe(), ", expected ", target.describe(), " (model.table_dtype ",
                config_.table_dtype, ")");
    tables.emplace_back(name, it->second);
  }
  std::vector<std::pair<std::string, Tensor>> optimizer_state;
  for (const auto& [name, tensor] : optimizer_->state()) {
    const auto it = state.find(kOptimizerPrefix + name);
    AISLE_CHECK(it != state.end(), "bpr: state tensor '", kOptimizerPrefix, name, "' is missing");
    optimizer_state.emplace_back(name, it->second);
  }
  optimizer_->load_state(optimizer_state);  // validates everything before changing anything
  for (auto& [name, tensor] : tables) {
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
  const Tensor p = expect_weight("bpr", weights, "user_factors", {-1, factors}, true);
  const Tensor q = expect_weight("bpr", weights, "item_factors", {-1, factors}, true);
  const bool bias = weights.count("item_bias") != 0;
  Tensor b;
  if (bias) b = expect_weight("bpr", weights, "item_bias", {q.size(0)}, true);
  device_ = device;
  num_users_ = p.size(0);
  num_items_ = q.size(0);
  config_.factors = factors;
  config_.item_bias = bias;
  params_ = Params{Var(p.to(device)), Var(q.to(device)), bias ? Var(b.to(device)) : Var()};
  comm_ = nullptr;
  world_ = 1;
  rank_ = 0;
  shard_users_ = shard_items_ = false;
  notes_.clear();
  optimizer_.reset();
  batches_.reset();
}

std::map<std::string, int64_t> BprMf::dimensions() const {
  return {{"users", num_users_}, {"items", num_items_}, {"factors", config_.factors}};
}

}  // namespace bpr

std::unique_ptr<train::Model> create_bpr_mf() { return std::make_unique<bpr::BprMf>(); }

}  // namespace aisle::models
