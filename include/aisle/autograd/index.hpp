#pragma once
#include <cstdint>
#include <vector>

#include "aisle/autograd/var.hpp"

// Differentiable shape manipulation and indexing (tensor kernels: aisle/ops/index.hpp). Axes may
// be negative. Index tensors are constants (i32/i64); gradients with duplicate indices are summed.
namespace aisle {

Var concat(const std::vector<Var>& xs, int64_t axis);
// Each piece is its own node; pieces that never reach the loss contribute nothing.
std::vector<Var> split(const Var& x, const std::vector<int64_t>& sizes, int64_t axis);
Var slice(const Var& x, int64_t axis, int64_t start, int64_t end, int64_t step = 1);
Var permute(const Var& x, const std::vector<int64_t>& dims);
Var transpose(const Var& x, int64_t axis0, int64_t axis1);
Var index_select(const Var& x, int64_t axis, const Tensor& index);
Var gather(const Var& x, int64_t axis, const Tensor& index);

}  // namespace aisle
