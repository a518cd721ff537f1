// Backward rules of the elementwise family (forward kernels: src/ops/elementwise.cpp).
#include "aisle/autograd/elementwise.hpp"

#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/random.hpp"
#include "aisle/ops/reduce.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

Var add(const Var& a, const Var& b) {
  const Shape sa = a.shape(), sb = b.shape();
  return record("add", ops::add(a.value(), b.value()), {a, b},
                [sa, sb](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  return {needs[0] ? ops::sum_to(dy, sa) : Tensor(),
                          needs[1] ? ops::sum_to(dy, sb) : Tensor()};
                });
}

Var sub(const Var& a, const Var& b) {
  const Shape sa = a.shape(), sb = b.shape();
  return record("sub", ops::sub(a.value(), b.value()), {a, b},
                [sa, sb](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  return {needs[0] ? ops::sum_to(dy, sa) : Tensor(),
                          needs[1] ? ops::sum_to(ops::affine(dy, -1.0), sb) : Tensor()};
                });
}

Var mul(const Var& a, const Var& b) {
  const Tensor av = a.value(), bv = b.value();
  return record("mul", ops::mul(av, bv), {a, b},
                [av, bv](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  return {needs[0] ? ops::sum_to(ops::mul(dy, bv), av.shape()) : Tensor(),
                          needs[1] ? ops::sum_to(ops::mul(dy, av), bv.shape()) : Tensor()};
                });
}

Var div(const Var& a, const Var& b) {
  const Tensor av = a.value(), bv = b.value();
  const Tensor out = ops::div(av, bv);
  return record("div", out, {a, b},
                [av, bv, out](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  const Tensor da = ops::div(dy, bv);  // d(a/b)/da = 1/b
                  return {needs[0] ? ops::sum_to(da, av.shape()) : Tensor(),
                          // d(a/b)/db = -a/b^2 = -(a/b)/b
                          needs[1] ? ops::sum_to(ops::affine(ops::mul(da, out), -1.0), bv.shape()) : Tensor()};
                });
}

Var operator/(double s, const Var& x) {
  return div(Var(Tensor::full({}, s, x.dtype(), x.device())), x);
}

namespace {
Var unary_var(ops::Unary op, const Var& x, double alpha) {
  const Tensor xv = x.value();
  const Tensor y = ops::unary(op, xv, alpha);
  return record(ops::unary_name(op), y, {x},
                [op, xv, y, alpha](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::unary_backward(op, xv, y, dy, alpha)};
                });
}
}  // namespace

Var neg(const Var& x) { return affine(x, -1.0); }
Var exp(const Var& x) { return unary_var(ops::Unary::exp, x, 0); }
Var log(const Var& x) { return unary_var(ops::Unary::log, x, 0); }
Var sqrt(const Var& x) { return unary_var(ops::Unary::sqrt, x, 0); }
Var abs(const Var& x) { return unary_var(ops::Unary::abs, x, 0); }
Var square(const Var& x) { return unary_var(ops::Unary::square, x, 0); }
Var relu(const Var& x) { return unary_var(ops::Unary::relu, x, 0); }
Var leaky_relu(const Var& x, double slope) { return unary_var(ops::Unary::leaky_relu, x, slope); }
Var sigmoid(const Var& x) { return unary_var(ops::Unary::sigmoid, x, 0); }
Var tanh(const Var& x) { return unary_var(ops::Unary::tanh, x, 0); }
Var gelu(const Var& x) { return unary_var(ops::Unary::gelu, x, 0); }

Var affine(const Var& x, double scale, double shift) {
  return record("affine", ops::affine(x.value(), scale, shift), {x},
                [scale](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::affine(dy, scale)};
                });
}

Var masked_fill(const Var& x, const Tensor& mask, double value) {
  return record("masked_fill", ops::masked_fill(x.value(), mask, value), {x},
                [mask](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::masked_fill(dy, mask, 0.0)};
                });
}

Var broadcast_to(const Var& x, const Shape& shape) {
  const Shape from = x.shape();
  return record("broadcast_to", ops::broadcast_to(x.value(), shape), {x},
                [from](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::sum_to(dy, from)};
                });
}

Var dropout(const Var& x, double p, Generator& gen, bool training) {
  if (!training || p == 0.0) return x;
  const Tensor mask = ops::dropout_mask(x.shape(), p, gen, x.dtype(), x.device());
  return mul(x, Var(mask));
}

}  // namespace aisle
