// Backward rule of layer_norm (forward kernels: src/ops/layer_norm.cpp). The closure keeps x,
// gamma and the per-row statistics; y itself is not needed.
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

}  // namespace aisle
