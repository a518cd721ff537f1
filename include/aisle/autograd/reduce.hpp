#pragma once
#include "aisle/autograd/var.hpp"

// Differentiable reductions over one axis, or over everything (sum_all / mean_all -> shape {}).
namespace aisle {

Var sum(const Var& x, int64_t axis, bool keepdim = false);
Var mean(const Var& x, int64_t axis, bool keepdim = false);
// Values of the max along `axis`; the gradient goes to the first maximum.
Var max(const Var& x, int64_t axis, bool keepdim = false);
Var sum_all(const Var& x);
Var mean_all(const Var& x);

}  // namespace aisle
