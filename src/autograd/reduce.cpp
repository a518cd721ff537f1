// Backward rules of the reduce family (forward kernels: src/ops/reduce.cpp).
#include "aisle/autograd/reduce.hpp"

#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/reduce.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

namespace {
// dy with the reduced axis restored as size 1, ready to broadcast back over x.
Shape kept_shape(const Shape& x, int64_t axis) {
  Shape s = x;
  s[static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(x.size()), "reduce"))] = 1;
  return s;
}
}  // namespace

Var sum(const Var& x, int64_t axis, bool keepdim) {
  const Shape xs = x.shape();
  return record("sum", ops::sum(x.value(), axis, keepdim), {x},
                [xs, axis](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::broadcast_to(dy.reshape(kept_shape(xs, axis)), xs)};
                });
}

Var mean(const Var& x, int64_t axis, bool keepdim) {
  const Shape xs = x.shape();
  const double n = static_cast<double>(x.size(axis));
  return record("mean", ops::mean(x.value(), axis, keepdim), {x},
                [xs, axis, n](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::affine(ops::broadcast_to(dy.reshape(kept_shape(xs, axis)), xs), 1.0 / n)};
                });
}

Var max(const Var& x, int64_t axis, bool keepdim) {
  const Shape xs = x.shape();
  ops::MaxResult r = ops::max(x.value(), axis, keepdim);
  const Tensor indices = r.indices;
  return record("max", r.values, {x},
                [xs, axis, indices](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::max_backward(indices, dy, xs, axis)};
                });
}

Var sum_all(const Var& x) {
  const Shape xs = x.shape();
  return record("sum_all", ops::sum_all(x.value()), {x},
                [xs](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::broadcast_to(dy, xs)};
                });
}

Var mean_all(const Var& x) {
  const Shape xs = x.shape();
  const double n = static_cast<double>(x.numel());
  return record("mean_all", ops::mean_all(x.value()), {x},
                [xs, n](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::affine(ops::broadcast_to(dy, xs), 1.0 / n)};
                });
}

}  // namespace aisle
