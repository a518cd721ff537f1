// Biased MF's minibatch path: the loss of a batch with autograd, one optimizer step. It is built
// from the op catalogue only, so it runs wherever the parameters live (CPU or CUDA).
#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/matmul.hpp"
#include "aisle/autograd/scatter.hpp"
#include "aisle/autograd/shape.hpp"
#include "aisle/optim/sgd.hpp"
#include "aisle/optim/sparse_adam.hpp"
#include "src/models/biased_mf/biased_mf_model.hpp"

namespace aisle::models::biased_mf {
namespace {

// sum(x^2) as [1, 1].
Var squared_norm(const Var& x) {
  const Var flat = reshape(x, {1, x.numel()});
  return matmul(flat, flat, false, true);
}

}  // namespace

void BiasedMf::build_optimizer() {
  std::vector<Var> params{user_factors_, item_factors_, user_bias_, item_bias_};
  if (config_.optimizer == "adam")
    optimizer_ = std::make_unique<optim::SparseAdam>(std::move(params), optim::SparseAdamOptions{.lr = config_.lr});
  else
    optimizer_ = std::make_unique<optim::SGD>(std::move(params), optim::SGDOptions{.lr = config_.lr});
}

// Per rating the loss is (e^2 + reg (|p_u|^2 + |q_i|^2) + reg_bias (b_u^2 + b_i^2)) / 2, whose
// gradient is exactly the per-rating SGD update. SGD sums it over the batch (lr keeps its
// per-rating meaning); Adam takes the mean (its steps do not depend on the scale anyway, and the
// mean keeps eps in proportion).
double BiasedMf::minibatch_step(const data::Batch& batch) {
  const data::InteractionBatch b = data::gather_batch(train_, batch);
  const int64_t n = b.valid;
  const Tensor users = b.users.rows(0, n).to(device_), items = b.items.rows(0, n).to(device_);
  const Tensor ratings = b.values.rows(0, n).to(device_);

  const Var pu = embedding(user_factors_, users), qi = embedding(item_factors_, items);
  // Row dots as a batched product and squared norms as one long dot: their backward passes are
  // products too, where sum()'s would broadcast a gradient element by element.
  Var pred = reshape(bmm(reshape(pu, {n, 1, factors_}), reshape(qi, {n, factors_, 1})), {n});
  Var penalty = config_.reg * (squared_norm(pu) + squared_norm(qi));
  if (config_.use_biases) {
    const Var bu = reshape(embedding(user_bias_, users), {n}), bi = reshape(embedding(item_bias_, items), {n});
    pred = pred + bu + bi;
    penalty = penalty + config_.reg_bias * (squared_norm(bu) + squared_norm(bi));
  }
  const Var err = (pred + static_cast<double>(global_mean_host_)) - Var(ratings);
  const Var sum_sq = squared_norm(err);
  const double scale = config_.optimizer == "adam" ? 0.5 / static_cast<double>(n) : 0.5;
  Var loss = (sum_sq + penalty) * scale;
  loss.backward();
  optimizer_->step();
  optimizer_->zero_grad();
  return static_cast<double>(sum_sq.value().to(Device::cpu()).item<float>()) / static_cast<double>(n);
}

}  // namespace aisle::models::biased_mf
