#pragma once
#include "aisle/autograd/var.hpp"

// Differentiable layer normalisation over the last axis (see aisle/ops/layer_norm.hpp). gamma and
// beta are [D] Vars, or both undefined Vars (Var()) for no affine transform.
namespace aisle {

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, double eps = 1e-5);

}  // namespace aisle
