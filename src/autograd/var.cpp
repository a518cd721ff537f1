#include "aisle/autograd/var.hpp"

#include <unordered_set>
#include <utility>

#include "aisle/autograd/grad_mode.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/scatter.hpp"

namespace aisle {

using autograd::Grad;
using autograd::VarImpl;

Var::Var(Tensor value, bool requires_grad) : impl_(std::make_shared<VarImpl>()) {
  AISLE_CHECK(value.defined(), "Var: cannot wrap an undefined tensor");
  impl_->value = std::move(value);
  set_requires_grad(requires_grad);
}

Var Var::parameter(Tensor value, std::string name) {
  Var v(std::move(value), true);
  v.impl_->name = std::move(name);
  return v;
}

namespace {
const VarImpl& checked(const std::shared_ptr<VarImpl>& impl) {
  AISLE_CHECK(impl != nullptr, "Var: use of an undefined Var");
  return *impl;
}
}  // namespace

const Tensor& Var::value() const { return checked(impl_).value; }
const Tensor& Var::grad() const { return checked(impl_).grad; }
const std::vector<ops::SparseRows>& Var::sparse_grad() const { return checked(impl_).sparse_grad; }
bool Var::has_grad() const { return grad().defined() || !sparse_grad().empty(); }
bool Var::requires_grad() const { return checked(impl_).requires_grad; }
bool Var::is_sparse() const { return checked(impl_).sparse; }
bool Var::is_leaf() const { return checked(impl_).grad_fn == nullptr; }
const std::string& Var::name() const { return checked(impl_).name; }

Var& Var::set_requires_grad(bool on) {
  checked(impl_);
  if (on)
    AISLE_CHECK(is_floating(impl_->value.dtype()), "Var: only floating tensors can require a "
                "gradient, got ", impl_->value.describe());
  impl_->requires_grad = on;
  return *this;
}

Var& Var::set_sparse(bool on) {
  AISLE_CHECK(is_leaf(), "Var::set_sparse: only leaves (parameters) can take sparse gradients");
  impl_->sparse = on;
  return *this;
}

Var& Var::set_name(std::string name) {
  checked(impl_);
  impl_->name = std::move(name);
  return *this;
}

void Var::retain_grad() { checked(impl_); impl_->retain_grad = true; }

void Var::zero_grad() {
  checked(impl_);
  impl_->grad = Tensor();
  impl_->sparse_grad.clear();
}

void Var::set_grad(Tensor grad) {
  checked(impl_);
  AISLE_CHECK(!grad.defined() || grad.shape() == impl_->value.shape(), "Var::set_grad: gradient ",
              grad.describe(), " does not match value ", impl_->value.describe());
  impl_->grad = std::move(grad);
}

void Var::set_value(Tensor value) {
  checked(impl_);
  AISLE_CHECK(is_leaf(), "Var::set_value: only leaves can be replaced, not ", describe());
  AISLE_CHECK(value.defined() && value.shape() == impl_->value.shape() && value.dtype() == impl_->value.dtype(),
              "Var::set_value: new value ", value.describe(), " does not match ", describe());
  impl_->value = std::move(value);
  zero_grad();
}

std::vector<ops::SparseRows> Var::take_sparse_grad() {
  checked(impl_);
  return std::exchange(impl_->sparse_grad, {});
}

Var Var::detach() const { return Var(value(), false); }

std::string Var::describe() const {
  if (!impl_) return "undefined Var";
  std::string s = "Var(" + impl_->value.describe();
  if (!impl_->name.empty()) s += " '" + impl_->name + "'";
  if (impl_->grad_fn) s += std::string(" from ") + impl_->grad_fn->name;
  return s + ")";
}

namespace {

// [rows, ...the row shape of `like`]: the table that rows of `like` scatter into.
Shape row_shape(int64_t rows, const Tensor& like) {
  Shape s{rows};
  s.insert(s.end(), like.shape().begin() + 1, like.shape().end());
  return s;
}

// Adds one incoming gradient to a Var. Sparse rows stay rows only on sparse leaves; anywhere else
// (a dense leaf, or an intermediate such as propagated graph embeddings) they are added into a
// dense gradient, because the op that made the Var needs a dense gradient to continue. They are
// added in place when nothing else holds that gradient: a batch's few rows then cost a scatter,
// not a zero-filled table plus an add over all of it.
void accumulate(VarImpl& v, Grad g, const char* from) {
  if (g.sparse.indices.defined()) {
    if (!v.grad_fn && v.sparse) {
      v.sparse_grad.push_back(std::move(g.sparse));
      return;
    }
    const Tensor& rows = g.sparse.rows;
    if (!v.grad.defined()) {
      v.grad = ops::scatter_add(rows, g.sparse.indices, v.value.size(0)).reshape(v.value.shape());
      return;
    }
    // A gradient an op also handed elsewhere (add gives one tensor to both inputs) is copied first.
    if (!v.grad.sole_owner()) v.grad = v.grad.clone();
    Tensor table = v.grad.reshape(row_shape(v.value.size(0), rows));
    ops::scatter_add_(table, rows, g.sparse.indices);
    return;
  }
  AISLE_CHECK(g.dense.shape() == v.value.shape(), "backward: ", from, " produced a gradient ",
              g.dense.describe(), " for a value of shape ", shape_str(v.value.shape()));
  // Out of place on purpose: an op may hand the same tensor to two inputs (add does), so
  // accumulating in place would corrupt the other one.
  v.grad = v.grad.defined() ? ops::add(v.grad, g.dense) : std::move(g.dense);
}

// Vars reachable from `root` through recorded ops, each after everything it feeds into.
std::vector<VarImpl*> reverse_topological(VarImpl* root) {
  std::vector<VarImpl*> order;
  std::unordered_set<VarImpl*> seen{root};
  std::vector<std::pair<VarImpl*, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [v, next] = stack.back();
    if (v->grad_fn && next < v->grad_fn->inputs.size()) {
      VarImpl* in = v->grad_fn->inputs[next++].get();
      if (in->requires_grad && seen.insert(in).second) stack.emplace_back(in, 0);
      continue;
    }
    order.push_back(v);
    stack.pop_back();
  }
  return {order.rbegin(), order.rend()};
}

}  // namespace

void Var::backward() {
  AISLE_CHECK(value().numel() == 1, "backward: called without a gradient on ", describe(),
              "; only a single-element Var can seed itself (pass grad_out)");
  backward(Tensor::ones(value().shape(), value().dtype(), value().device()));
}

void Var::backward(const Tensor& grad_out) {
  AISLE_CHECK(requires_grad(), "backward: ", describe(), " does not require a gradient (no input "
              "of the computation requires one, or it was made under NoGradGuard)");
  AISLE_CHECK(grad_out.shape() == value().shape() && grad_out.dtype() == value().dtype() &&
                  grad_out.device() == value().device(),
              "backward: seed ", grad_out.describe(), " does not match ", describe());
  NoGradGuard no_grad;  // backward functions compute with tensors; nothing here is recorded
  accumulate(*impl_, Grad(grad_out), "the seed");
  for (VarImpl* v : reverse_topological(impl_.get())) {
    if (!v->grad_fn) continue;  // a leaf: its gradient stays
    autograd::Node& node = *v->grad_fn;
    AISLE_CHECK(node.backward != nullptr, "backward: the graph through '", node.name,
                "' was already used by an earlier backward(); recompute the forward pass");
    const Tensor grad = std::exchange(v->grad, v->retain_grad ? v->grad : Tensor());
    if (!grad.defined()) continue;  // nothing flowed here
    std::vector<Grad> grads = node.backward(grad, node.needs);
    node.backward = nullptr;  // frees the tensors the op saved
    AISLE_CHECK(grads.size() == node.inputs.size(), "backward: '", node.name, "' returned ",
                grads.size(), " gradients for ", node.inputs.size(), " inputs");
    for (size_t i = 0; i < grads.size(); ++i)
      if (node.needs[i] && grads[i].defined()) accumulate(*node.inputs[i], std::move(grads[i]), node.name);
  }
}

namespace autograd {

Var record(const char* name, Tensor value, const std::vector<Var>& inputs, BackwardFn backward) {
  Var out(std::move(value));
  if (!grad_enabled()) return out;
  NeedsGrad needs(inputs.size(), false);
  bool any = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    needs[i] = inputs[i].defined() && inputs[i].requires_grad();
    any = any || needs[i];
  }
  if (!any) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->needs = std::move(needs);
  node->backward = std::move(backward);
  for (const Var& in : inputs) node->inputs.push_back(in.defined() ? in.impl() : std::make_shared<VarImpl>());
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
  return out;
}

}  // namespace autograd

}  // namespace aisle
