#pragma once
#include "aisle/autograd/var.hpp"

// Differentiable layer normalisation over the last axis (see aisle/ops/layer_norm.hpp). gamma and
// beta are [D] Vars, or both undefined Vars (Var()) for no affine transform.
namespace aisle {

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, double eps = 1e-5);

// Differentiable row L2 normalisation of a [rows, d] Var: x / sqrt(sum_k x_k^2 + eps) per row
// (see aisle/ops/layer_norm.hpp); the gradient keeps y and the row norms, not x. eps 1e-12 is
// tf.math.l2_normalize's floor on the squared norm, added rather than taken as a maximum (the
// same for any row that is not ~0), as NGCF's and GraphSAGE's reference code normalise.
Var l2_normalize_rows(const Var& x, double eps = 1e-12);

}  // namespace aisle
