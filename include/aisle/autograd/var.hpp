#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aisle/ops/scatter.hpp"
#include "aisle/tensor/tensor.hpp"

// Autograd-lite: a Var wraps a Tensor value, remembers the op that made it, and backward() walks
// the recorded graph in reverse topological order, accumulating gradients into every Var that
// requires them. Gradients of leaves accumulate across backward() calls until zero_grad().
//
// Embedding tables marked sparse receive gradients as rows (SparseRows: ids + one row per id),
// never as a dense table-sized tensor; sparse optimizers consume them directly.
namespace aisle {

namespace autograd {

// A gradient flowing to one input: dense, sparse rows, or nothing.
struct Grad {
  Tensor dense;
  ops::SparseRows sparse;
  Grad() = default;
  Grad(Tensor d) : dense(std::move(d)) {}  // NOLINT: implicit so backward fns can return tensors
  Grad(ops::SparseRows s) : sparse(std::move(s)) {}  // NOLINT
  bool defined() const { return dense.defined() || sparse.indices.defined(); }
};

// Which inputs of a node need a gradient (so backward functions can skip the others).
using NeedsGrad = std::vector<bool>;
using BackwardFn = std::function<std::vector<Grad>(const Tensor& grad_out, const NeedsGrad& needs)>;

struct VarImpl;

struct Node {
  const char* name = "";
  std::vector<std::shared_ptr<VarImpl>> inputs;
  NeedsGrad needs;
  BackwardFn backward;  // reset after use: saved tensors are freed as soon as they are spent
};

struct VarImpl {
  Tensor value;
  Tensor grad;                               // dense gradient; undefined until one arrives
  std::vector<ops::SparseRows> sparse_grad;  // row gradients (sparse leaves only)
  bool requires_grad = false;
  bool sparse = false;       // receive embedding gradients as rows
  bool retain_grad = false;  // keep the gradient of a non-leaf after backward
  std::shared_ptr<Node> grad_fn;  // null for leaves
  std::string name;
};

}  // namespace autograd

class Var {
 public:
  Var() = default;
  // A Var around a tensor; implicit so tensors can be passed where Vars are expected (as constants).
  Var(Tensor value, bool requires_grad = false);  // NOLINT(google-explicit-constructor)
  // A trainable leaf.
  static Var parameter(Tensor value, std::string name = {});

  bool defined() const { return impl_ != nullptr; }
  const Tensor& value() const;
  const Tensor& grad() const;  // dense gradient (undefined if none)
  const std::vector<ops::SparseRows>& sparse_grad() const;
  bool has_grad() const;  // dense or sparse

  bool requires_grad() const;
  Var& set_requires_grad(bool on);
  bool is_sparse() const;
  Var& set_sparse(bool on);  // leaves only
  bool is_leaf() const;
  const std::string& name() const;
  Var& set_name(std::string name);
  void retain_grad();

  // Gradient of this scalar (numel 1) Var w.r.t. every Var it depends on.
  void backward();
  // Same, seeding with `grad_out` (same shape as the value) for non-scalars.
  void backward(const Tensor& grad_out);
  void zero_grad();
  // Replaces the dense gradient (gradient clipping, all-reduce).
  void set_grad(Tensor grad);
  // Replaces a leaf's value (same shape and dtype; any device), keeping its identity, so optimizers
  // and modules holding this Var see the new tensor. Gradients are dropped.
  void set_value(Tensor value);
  // Removes and returns the accumulated row gradients.
  std::vector<ops::SparseRows> take_sparse_grad();

  // Same value, cut from the graph.
  Var detach() const;

  const Shape& shape() const { return value().shape(); }
  int64_t dim() const { return value().dim(); }
  int64_t size(int64_t axis) const { return value().size(axis); }
  int64_t numel() const { return value().numel(); }
  DType dtype() const { return value().dtype(); }
  Device device() const { return value().device(); }
  std::string describe() const;

  const std::shared_ptr<autograd::VarImpl>& impl() const { return impl_; }

 private:
  std::shared_ptr<autograd::VarImpl> impl_;
};

namespace autograd {

// Wraps the result of an op: when grad mode is on and any input requires a gradient, the result
// records `backward`, which returns one Grad per input (undefined where not needed).
Var record(const char* name, Tensor value, const std::vector<Var>& inputs, BackwardFn backward);

}  // namespace autograd

}  // namespace aisle
