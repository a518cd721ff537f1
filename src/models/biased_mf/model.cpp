// Biased MF: parameters, training loop over steps, scoring, checkpoints and weights.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "aisle/core/error.hpp"
#include "aisle/nn/init.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/index.hpp"
#include "aisle/ops/matmul.hpp"
#include "aisle/ops/reduce.hpp"
#include "aisle/ops/scatter.hpp"
#include "aisle/tensor/random.hpp"
#include "src/models/biased_mf/biased_mf_model.hpp"
#include "src/models/biased_mf/gather_ratings.hpp"
#include "src/models/biased_mf/random_access_memory.hpp"

namespace aisle::models::biased_mf {
namespace {

constexpr const char* kUserFactors = "user_factors";
constexpr const char* kItemFactors = "item_factors";
constexpr const char* kUserBias = "user_bias";
constexpr const char* kItemBias = "item_bias";
constexpr const char* kGlobalMean = "global_mean";
constexpr const char* kRatingRange = "rating_range";
constexpr const char* kOptimizerPrefix = "optimizer.";

// The tensor `name` of `tensors`, f32 of `shape`; otherwise the error names it. `artifact`
// picks ArtifactError (serving) over Error (checkpoints).
const Tensor& expect(const std::map<std::string, Tensor>& tensors, const std::string& name, const Shape& shape,
                     bool artifact, const char* what) {
  const auto it = tensors.find(name);
  if (it == tensors.end()) {
    const std::string message = detail::concat("mf: ", what, " has no tensor '", name, "'");
    if (artifact) throw ArtifactError(message);
    throw Error(message);
  }
  const Tensor& t = it->second;
  if (t.dtype() != DType::f32 || t.shape() != shape) {
    const std::string message = detail::concat("mf: ", what, " tensor '", name, "' is ", t.describe(),
                                               ", expected ", shape_str(shape), " f32");
    if (artifact) throw ArtifactError(message);
    throw Error(message);
  }
  return t;
}

// max(x, c) elementwise for x [n], exact, with ops only (so on any device): the larger entry of
// each row of [x, c].
Tensor max_with(const Tensor& x, double c) {
  const int64_t n = x.numel();
  const Tensor pairs = ops::concat({x.reshape({n, 1}), Tensor::full({n, 1}, c, x.dtype(), x.device())}, 1);
  return ops::max(pairs, 1).values;
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  const Tensor below_hi = ops::unary(ops::Unary::neg, max_with(ops::unary(ops::Unary::neg, x), -hi));
  return max_with(below_hi, lo);
}

}  // namespace

void BiasedMf::configure(const recipe::Recipe& recipe) {
  config_ = Config::from_recipe(recipe);
  configured_ = true;
}

void BiasedMf::setup(const train::TrainingData& data, const train::ModelContext& ctx) {
  AISLE_CHECK(configured_, "mf: setup() before configure()");
  const data::Interactions& x = data.train;
  const int64_t n = x.size();
  AISLE_CHECK(n > 0, "mf: the training data has no rows");
  AISLE_CHECK(x.values.defined() && x.values.dtype() == DType::f32, "mf: training values must be f32 ratings, got ",
              x.values.defined() ? x.values.describe() : std::string("none"));
  updates_ = config_.updates_on(ctx.device);
  device_ = ctx.device;
  num_users_ = data.num_users;
  num_items_ = data.num_items;
  factors_ = config_.factors;

  // Streams in a fixed order, so a seed gives the same start on every device.
  Generator gen(ctx.seed);
  const bool per_rating = updates_ == Updates::per_rating;
  auto table = [per_rating](const Tensor& init, const char* name) {
    Tensor value = init;
    if (per_rating) value = random_access_tensor(init.shape()).copy_(init);
    return Var::parameter(value, name).set_sparse(true);
  };
  user_factors_ = table(nn::init::normal({num_users_, factors_}, config_.init_std, gen), kUserFactors);
  item_factors_ = table(nn::init::normal({num_items_, factors_}, config_.init_std, gen), kItemFactors);
  user_bias_ = table(Tensor::zeros({num_users_, 1}), kUserBias);
  item_bias_ = table(Tensor::zeros({num_items_, 1}), kItemBias);

  // Mean and range of the training ratings, summed in row order in double.
  const float* v = x.values.data<float>();
  double sum = 0;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (int64_t r = 0; r < n; ++r) {
    AISLE_CHECK(std::isfinite(v[r]), "mf: training rating of row ", r, " is not finite (", v[r], ")");
    sum += v[r];
    lo = std::min(lo, v[r]);
    hi = std::max(hi, v[r]);
  }
  global_mean_host_ = static_cast<float>(sum / static_cast<double>(n));
  global_mean_ = Tensor::from_vector(std::vector<float>{global_mean_host_}, device_);
  set_rating_range(Tensor::from_vector(std::vector<float>{lo, hi}));
  for (Var* p : {&user_factors_, &item_factors_, &user_bias_, &item_bias_}) p->set_value(p->value().to(device_));

  train_ = x;
  packed_memory_.reset();
  packed_ = nullptr;
  step_ratings_.clear();
  if (updates_ != Updates::minibatch) {
    AISLE_CHECK(num_users_ <= std::numeric_limits<int32_t>::max() && num_items_ <= std::numeric_limits<int32_t>::max(),
                "mf: per-rating SGD packs ids as int32; ", num_users_, " users and ", num_items_, " items do not fit");
    const int64_t* users = x.users.data<int64_t>();
    const int64_t* items = x.items.data<int64_t>();
    packed_memory_ = random_access_buffer(static_cast<size_t>(n) * sizeof(PackedRating));
    packed_ = static_cast<PackedRating*>(packed_memory_.get());
    for (int64_t r = 0; r < n; ++r)
      packed_[static_cast<size_t>(r)] = {static_cast<int32_t>(users[r]), static_cast<int32_t>(items[r]), v[r]};
    const int64_t buffered = updates_ == Updates::hogwild ? hogwild_chunk_steps(config_.batch_size) * config_.batch_size
                                                          : config_.batch_size;
    step_ratings_.resize(static_cast<size_t>(std::min(n, buffered)));
  }
  sampler_ = std::make_unique<EpochOrders>(
      n, data::BatchSamplerOptions{.batch_size = config_.batch_size, .shuffle = true, .seed = ctx.seed});
  optimizer_.reset();
  if (updates_ == Updates::minibatch) build_optimizer();
}

void BiasedMf::set_rating_range(const Tensor& range) {
  const std::vector<float> r = range.to(Device::cpu()).to_vector<float>();
  rating_min_ = r[0];
  rating_max_ = r[1];
  clamp_ = rating_min_ <= rating_max_;
  rating_range_ = range.to(device_);
}

int64_t BiasedMf::steps_per_epoch() const {
  AISLE_CHECK(sampler_ != nullptr, "mf: steps_per_epoch() before setup()");
  return sampler_->num_batches();
}

double BiasedMf::epoch_lr(int64_t epoch) const {
  return config_.lr * std::pow(config_.lr_decay, static_cast<double>(epoch));
}

void BiasedMf::train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) {
  AISLE_CHECK(sampler_ != nullptr, "mf: train_steps() before setup()");
  const data::BatchSampler& sampler = sampler_->at(epoch);
  const int64_t steps = sampler.num_batches();
  const int64_t n = sampler.size();
  const double lr = epoch_lr(epoch);
  if (optimizer_) optimizer_->set_lr(lr);
  const SgdHyper hyper{.lr = static_cast<float>(lr),
                       .reg = static_cast<float>(config_.reg),
                       .reg_bias = static_cast<float>(config_.reg_bias),
                       .global_mean = global_mean_host_,
                       .use_biases = config_.use_biases};
  if (updates_ == Updates::hogwild) {
    hogwild_steps(sampler, first_step, hyper, on_step);
    return;
  }
  for (int64_t s = first_step; s < steps; ++s) {
    train::StepReport report{.step = s, .steps = steps};
    if (updates_ == Updates::per_rating) {
      const int64_t begin = s * config_.batch_size, count = std::min(n, begin + config_.batch_size) - begin;
      const Tables tables{user_factors_.value().data<float>(), item_factors_.value().data<float>(),
                          user_bias_.value().data<float>(), item_bias_.value().data<float>(), factors_};
      // The step's rows in order, gathered with independent loads before the dependent chain of updates.
      gather_in_order(packed_, sampler.order().data<int64_t>() + begin, count, step_ratings_.data());
      const double sum_sq = sequential_sgd(tables, step_ratings_.data(), count, hyper);
      report.loss = sum_sq / static_cast<double>(count);
      report.examples = count;
    } else {
      const data::Batch batch = sampler.batch(s);
      report.loss = minibatch_step(batch);
      report.examples = batch.valid;
    }
    if (!on_step(report)) return;
  }
}

Tensor BiasedMf::score_users(const Tensor& users) const {
  AISLE_CHECK(user_factors_.defined(), "mf: score_users() before setup() or load_weights()");
  // One product gives p_u·q_i + b_u + b_i: users as [p_u, b_u, 1], items as [q_i, 1, b_i]. Adding
  // the biases to the [B, items] result instead would broadcast over every score.
  const int64_t b = users.numel();
  const Device d = user_factors_.device();
  const Tensor user_rows = ops::concat({ops::gather_rows(user_factors_.value(), users),
                                        ops::gather_rows(user_bias_.value(), users), Tensor::ones({b, 1}, DType::f32, d)},
                                       1);
  const Tensor item_rows =
      ops::concat({item_factors_.value(), Tensor::ones({num_items_, 1}, DType::f32, d), item_bias_.value()}, 1);
  return ops::affine(ops::matmul(user_rows, item_rows, false, true), 1.0, global_mean_host_);
}

Tensor BiasedMf::predict(const Tensor& users, const Tensor& items) const {
  AISLE_CHECK(user_factors_.defined(), "mf: predict() before setup() or load_weights()");
  AISLE_CHECK(users.dim() == 1 && items.dim() == 1 && users.numel() == items.numel(),
              "mf: predict takes users and items of equal length [n], got ", users.describe(), " and ",
              items.describe());
  const int64_t n = users.numel();
  const Tensor dots = ops::sum(ops::mul(ops::gather_rows(user_factors_.value(), users),
                                        ops::gather_rows(item_factors_.value(), items)), -1);
  Tensor p = ops::add(dots, ops::gather_rows(user_bias_.value(), users).reshape({n}));
  p = ops::add(p, ops::gather_rows(item_bias_.value(), items).reshape({n}));
  p = ops::affine(p, 1.0, global_mean_host_);
  return clamp_ ? clamp(p, rating_min_, rating_max_) : p;
}

std::map<std::string, Tensor> BiasedMf::weights() const {
  AISLE_CHECK(user_factors_.defined(), "mf: weights() before setup() or load_weights()");
  std::map<std::string, Tensor> w{
      {kUserFactors, user_factors_.value()},
      {kItemFactors, item_factors_.value()},
      {kUserBias, user_bias_.value().reshape({num_users_})},
      {kItemBias, item_bias_.value().reshape({num_items_})},
      {kGlobalMean, global_mean_},
  };
  if (clamp_) w.emplace(kRatingRange, rating_range_);
  return w;
}

std::map<std::string, Tensor> BiasedMf::state() const {
  std::map<std::string, Tensor> s = weights();
  if (optimizer_)
    for (const auto& [name, t] : optimizer_->state()) s.emplace(kOptimizerPrefix + name, t);
  return s;
}

void BiasedMf::load_state(const std::map<std::string, Tensor>& state) {
  AISLE_CHECK(sampler_ != nullptr, "mf: load_state() before setup()");
  const char* what = "checkpoint";
  const Tensor& p = expect(state, kUserFactors, {num_users_, factors_}, false, what);
  const Tensor& q = expect(state, kItemFactors, {num_items_, factors_}, false, what);
  const Tensor& bu = expect(state, kUserBias, {num_users_}, false, what);
  const Tensor& bi = expect(state, kItemBias, {num_items_}, false, what);
  const Tensor& mean = expect(state, kGlobalMean, {1}, false, what);
  const Tensor& range = expect(state, kRatingRange, {2}, false, what);
  optim::NamedTensors moments;
  if (optimizer_) {
    for (const auto& [name, t] : optimizer_->state()) {
      const auto it = state.find(kOptimizerPrefix + name);
      AISLE_CHECK(it != state.end(), "mf: checkpoint has no tensor '", kOptimizerPrefix, name, "' (",
                  optimizer_->name(), " state)");
      moments.emplace_back(name, it->second);
    }
    optimizer_->load_state(moments);  // checks shapes before it writes anything
  }
  Tensor(user_factors_.value()).copy_(p);  // Tensor handles share storage: these write the tables
  Tensor(item_factors_.value()).copy_(q);
  user_bias_.value().reshape({num_users_}).copy_(bu);
  item_bias_.value().reshape({num_items_}).copy_(bi);
  global_mean_.copy_(mean);
  global_mean_host_ = mean.to(Device::cpu()).item<float>();
  set_rating_range(range);
}

void BiasedMf::load_weights(const std::map<std::string, Tensor>& w, Device device) {
  const char* what = "weights";
  const auto p_it = w.find(kUserFactors);
  const auto q_it = w.find(kItemFactors);
  AISLE_ARTIFACT_CHECK(p_it != w.end() && p_it->second.dim() == 2, "mf: weights have no 2-D tensor '", kUserFactors,
                       "'", p_it == w.end() ? std::string() : " (got " + p_it->second.describe() + ")");
  AISLE_ARTIFACT_CHECK(q_it != w.end() && q_it->second.dim() == 2, "mf: weights have no 2-D tensor '", kItemFactors,
                       "'", q_it == w.end() ? std::string() : " (got " + q_it->second.describe() + ")");
  const int64_t users = p_it->second.size(0), items = q_it->second.size(0), factors = p_it->second.size(1);
  expect(w, kUserFactors, {users, factors}, true, what);
  expect(w, kItemFactors, {items, factors}, true, what);
  const Tensor& bu = expect(w, kUserBias, {users}, true, what);
  const Tensor& bi = expect(w, kItemBias, {items}, true, what);
  const Tensor& mean = expect(w, kGlobalMean, {1}, true, what);

  device_ = device;
  num_users_ = users;
  num_items_ = items;
  factors_ = factors;
  user_factors_ = Var::parameter(p_it->second.to(device), kUserFactors);
  item_factors_ = Var::parameter(q_it->second.to(device), kItemFactors);
  user_bias_ = Var::parameter(bu.to(device).reshape({users, 1}), kUserBias);
  item_bias_ = Var::parameter(bi.to(device).reshape({items, 1}), kItemBias);
  global_mean_ = mean.to(device);
  global_mean_host_ = mean.to(Device::cpu()).item<float>();
  if (w.count(kRatingRange)) {
    set_rating_range(expect(w, kRatingRange, {2}, true, what));
  } else {  // a hand-made artifact without a range predicts unclamped
    rating_range_ = Tensor();
    clamp_ = false;
  }
  sampler_.reset();
  optimizer_.reset();
  packed_memory_.reset();
  packed_ = nullptr;
  step_ratings_.clear();
  train_ = {};
}

std::string BiasedMf::hyperparameters_json() const {
  nlohmann::ordered_json j;
  j["factors"] = configured_ ? config_.factors : factors_;
  if (configured_) {
    j["init_std"] = config_.init_std;
    j["reg"] = config_.reg;
    j["reg_bias"] = config_.reg_bias;
    j["use_biases"] = config_.use_biases;
    j["optimizer"] = config_.optimizer;
    if (sampler_)
      j["updates"] = updates_ == Updates::per_rating ? "per_rating"
                     : updates_ == Updates::hogwild  ? "hogwild"
                                                     : "minibatch";
    j["lr"] = config_.lr;
    j["lr_decay"] = config_.lr_decay;
    j["batch_size"] = config_.batch_size;
  }
  return j.dump();
}

std::map<std::string, int64_t> BiasedMf::dimensions() const {
  return {{"users", num_users_}, {"items", num_items_}, {"factors", factors_}};
}

}  // namespace aisle::models::biased_mf
