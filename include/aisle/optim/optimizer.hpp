#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aisle/autograd/var.hpp"

// Optimizers update parameters (leaf Vars) in place from their accumulated gradients, dense and/or
// sparse rows. The training loop is the PyTorch one:
//   loss.backward(); optimizer.step(); optimizer.zero_grad();
// step() leaves gradients in place; parameters without a gradient are skipped (their state, step
// counters included, does not move).
//
// State lives in named tensors created with the optimizer (zeros, or the configured initial
// value), on each parameter's device and in its dtype: "param<i>.<key>" for parameter i of the
// list, plus "step" (i64 scalar: step() calls so far) and "lr" (f64 scalar). state() and
// load_state() are the checkpoint interface: an optimizer built over the same parameters and
// loaded from another's state() continues exactly as the original would have.
namespace aisle::optim {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Optimizer {
 public:
  // `name` prefixes every error ("SGD: ..."). Parameters must be distinct leaves that require a
  // gradient, f32 or f64; the list must not be empty.
  Optimizer(std::vector<Var> params, double lr, std::string name);
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter holding a gradient, under NoGradGuard. Every parameter's
  // gradient is checked against the optimizer's options before any parameter changes.
  virtual void step();
  // Drops every parameter's dense and sparse gradient.
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr);  // finite, non-negative (schedules call this before step())
  int64_t step_count() const { return step_count_; }
  const std::vector<Var>& params() const { return params_; }
  const std::string& name() const { return name_; }

  // "step", "lr", then every per-parameter tensor. The per-parameter tensors are the live state,
  // not copies: write them out (or clone them) before the next step().
  virtual NamedTensors state() const;
  // Copies `checkpoint` into this optimizer's state. The names must be exactly those state() returns,
  // each with the same shape and dtype (any device); otherwise aisle::Error naming the entry, and
  // nothing is changed.
  virtual void load_state(const NamedTensors& checkpoint);

 protected:
  // Checks parameter `index`'s gradient against the options (e.g. sparse gradients that an option
  // does not support); throws aisle::Error naming the parameter and the option.
  virtual void check_grad(size_t index, const Var& param) const;
  // Applies the gradient of parameter `index`. Called under NoGradGuard after check_grad passed
  // for every parameter and step_count() was incremented.
  virtual void update(size_t index, const Var& param) = 0;

  // Registers state tensor "param<index>.<key>" and returns it (a handle to the registered
  // tensor: updating it in place updates the state).
  Tensor add_state(size_t index, const std::string& key, Tensor tensor);
  // A per-parameter i64 scalar state "param<index>.step" on the CPU, for bias corrections.
  int64_t* add_step_counter(size_t index);

  // "parameter 3 Var([100, 8] f32 cpu 'item_emb')"
  std::string describe_param(size_t index) const;
  [[noreturn]] void fail(size_t index, const std::string& why) const;

  // The dense gradient plus any sparse rows scattered into it (dense optimizers).
  static Tensor dense_grad_of(const Var& param);
  // The sparse rows, coalesced (duplicates summed); with a dense gradient too, that gradient is
  // one more piece covering every row (row-wise optimizers).
  static ops::SparseRows row_grad_of(const Var& param);

 private:
  std::vector<Var> params_;
  double lr_;
  std::string name_;
  int64_t step_count_ = 0;
  NamedTensors state_;
};

}  // namespace aisle::optim
