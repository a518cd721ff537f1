#include "aisle/optim/optimizer.hpp"

#include <cmath>
#include <unordered_set>

#include "aisle/autograd/grad_mode.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/optim.hpp"

namespace aisle::optim {

namespace {

void check_lr(const std::string& who, double lr) {
  AISLE_CHECK(std::isfinite(lr) && lr >= 0.0, who, ": lr must be finite and non-negative, got ", lr);
}

const Tensor* find(const NamedTensors& tensors, const std::string& name) {
  for (const auto& [key, t] : tensors)
    if (key == name) return &t;
  return nullptr;
}

}  // namespace

Optimizer::Optimizer(std::vector<Var> params, double lr, std::string name)
    : params_(std::move(params)), lr_(lr), name_(std::move(name)) {
  check_lr(name_, lr_);
  AISLE_CHECK(!params_.empty(), name_, ": got an empty parameter list");
  std::unordered_set<const autograd::VarImpl*> seen;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Var& p = params_[i];
    AISLE_CHECK(p.defined(), name_, ": parameter ", i, " is an undefined Var");
    AISLE_CHECK(p.is_leaf() && p.requires_grad(), name_, ": ", describe_param(i),
                " must be a leaf that requires a gradient (a parameter)");
    AISLE_CHECK(p.dtype() == DType::f32 || p.dtype() == DType::f64, name_, ": ", describe_param(i),
                " must be f32 or f64");
    AISLE_CHECK(seen.insert(p.impl().get()).second, name_, ": ", describe_param(i),
                " appears more than once in the parameter list");
  }
}

Optimizer::~Optimizer() = default;

void Optimizer::step() {
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].has_grad()) check_grad(i, params_[i]);
  ++step_count_;
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].has_grad()) update(i, params_[i]);
}

void Optimizer::zero_grad() {
  for (Var& p : params_) p.zero_grad();
}

void Optimizer::set_lr(double lr) {
  check_lr(name_, lr);
  lr_ = lr;
}

NamedTensors Optimizer::state() const {
  NamedTensors out;
  out.reserve(state_.size() + 2);
  out.emplace_back("step", Tensor::scalar<int64_t>(step_count_));
  out.emplace_back("lr", Tensor::scalar<double>(lr_));
  out.insert(out.end(), state_.begin(), state_.end());
  return out;
}

void Optimizer::load_state(const NamedTensors& checkpoint) {
  const NamedTensors mine = state();
  // Validate everything first, so a bad checkpoint leaves the optimizer untouched.
  std::unordered_set<std::string> names;
  for (const auto& [key, t] : checkpoint) {
    AISLE_CHECK(names.insert(key).second, name_, ": load_state: entry '", key, "' appears twice");
    const Tensor* expected = find(mine, key);
    AISLE_CHECK(expected != nullptr, name_, ": load_state: unexpected entry '", key,
                "' (a checkpoint of a different optimizer or parameter list?)");
    AISLE_CHECK(t.defined() && t.shape() == expected->shape() && t.dtype() == expected->dtype(),
                name_, ": load_state: entry '", key, "' is ",
                t.defined() ? t.describe() : std::string("undefined"), ", expected ",
                shape_str(expected->shape()), " ", dtype_name(expected->dtype()));
  }
  for (const auto& [key, t] : mine)
    AISLE_CHECK(names.count(key) == 1, name_, ": load_state: missing entry '", key, "'");
  const int64_t step = find(checkpoint, "step")->item<int64_t>();
  const double lr = find(checkpoint, "lr")->item<double>();
  AISLE_CHECK(step >= 0, name_, ": load_state: 'step' must be non-negative, got ", step);
  check_lr(name_ + ": load_state", lr);

  step_count_ = step;
  lr_ = lr;
  for (auto& [key, t] : state_) t.copy_(*find(checkpoint, key));
}

void Optimizer::check_grad(size_t, const Var&) const {}

Tensor Optimizer::add_state(size_t index, const std::string& key, Tensor tensor) {
  state_.emplace_back("param" + std::to_string(index) + "." + key, std::move(tensor));
  return state_.back().second;
}

int64_t* Optimizer::add_step_counter(size_t index) {
  return add_state(index, "step", Tensor::zeros({}, DType::i64)).data<int64_t>();
}

std::string Optimizer::describe_param(size_t index) const {
  return "parameter " + std::to_string(index) + " " + params_[index].describe();
}

void Optimizer::fail(size_t index, const std::string& why) const {
  AISLE_FAIL(name_, ": ", describe_param(index), " ", why);
}

Tensor Optimizer::dense_grad_of(const Var& param) {
  Tensor grad = param.grad();
  for (const ops::SparseRows& piece : param.sparse_grad()) {
    const Tensor scattered = ops::scatter_add(piece.rows, piece.indices, param.size(0));
    grad = grad.defined() ? ops::add(grad, scattered.reshape(param.shape())) : scattered.reshape(param.shape());
  }
  return grad;
}

ops::SparseRows Optimizer::row_grad_of(const Var& param) {
  std::vector<ops::SparseRows> pieces;
  const Tensor& value = param.value();
  if (param.grad().defined())
    pieces.push_back({Tensor::arange(value.size(0), DType::i64, value.device()), param.grad()});
  pieces.insert(pieces.end(), param.sparse_grad().begin(), param.sparse_grad().end());
  return ops::coalesce_row_pieces(value, pieces);
}

}  // namespace aisle::optim
