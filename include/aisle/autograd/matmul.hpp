#pragma once
#include "aisle/autograd/var.hpp"

// Differentiable matrix products; shapes and transpose flags as in aisle/ops/matmul.hpp.
namespace aisle {

Var matmul(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);
Var bmm(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);

}  // namespace aisle
