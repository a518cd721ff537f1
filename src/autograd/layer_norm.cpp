// Backward rules of layer_norm and l2_normalize_rows (forward kernels: src/ops/layer_norm.cpp).
// layer_norm's closure keeps x, gamma and the per-row statistics (y itself is not needed);
// l2_normalize_rows' keeps y and the row norms.
#include "aisle/autograd/layer_norm.hpp"

#include "aisle/ops/layer_norm.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, double eps) {
  const Tensor xv = x.value();
  const Tensor gv = gamma.defined() ? gamma.value() : Tensor();
  const Tensor bv = beta.defined() ? beta.value() : Tensor();
  ops::LayerNormResult r = ops::layer_norm(xv, gv, bv, eps);
  const Tensor mean = r.mean, rstd = r.rstd;
  return record("layer_norm", std::move(r.y), {x, gamma, beta},
                [xv, gv, mean, rstd](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  ops::LayerNormGrads g = ops::layer_norm_backward(xv, gv, mean, rstd, dy);
                  return {needs[0] ? g.dx : Tensor(), needs[1] ? g.dgamma : Tensor(),
                          needs[2] ? g.dbeta : Tensor()};
                });
}

Var l2_normalize_rows(const Var& x, double eps) {
  ops::L2NormalizeResult r = ops::l2_normalize_rows(x.value(), eps);
  const Tensor y = r.y, norm = r.norm;
  return record("l2_normalize_rows", std::move(r.y), {x},
                [y, norm](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::l2_normalize_rows_backward(y, norm, dy)};
                });
}

}  // namespace aisle
