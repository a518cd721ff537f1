#pragma once
#include "aisle/autograd/var.hpp"

// Differentiable softmax / log_softmax over the last axis (see aisle/ops/softmax.hpp).
namespace aisle {

Var softmax(const Var& x);
Var log_softmax(const Var& x);

}  // namespace aisle
