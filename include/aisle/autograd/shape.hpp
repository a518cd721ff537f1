#pragma once
#include "aisle/autograd/var.hpp"

// Differentiable views: same storage, new shape.
namespace aisle {

Var reshape(const Var& x, const Shape& shape);
inline Var flatten(const Var& x) { return reshape(x, {x.numel()}); }

}  // namespace aisle
