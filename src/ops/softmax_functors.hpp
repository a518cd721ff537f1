#pragma once
// Internal: per-element formulas of the softmax family, shared by the CPU kernels
// (src/ops/softmax.cpp) and the CUDA kernels (cuda/softmax.cu) so both compute the same thing.
// Row statistics (max, sums) are reduced by each backend; sums accumulate in double.
#include "aisle/core/macros.hpp"
#include "src/ops/math.hpp"

namespace aisle::detail {

// max that propagates NaN (a row holding NaN turns into NaN rather than ignoring it).
template <class T>
AISLE_HD inline T nan_max(T a, T b) {
  return (a != a || a > b) ? a : b;
}

// Row with maximum `mx` and s = sum(exp(x - mx)). A row that is entirely -inf has mx = -inf, so
// x - mx is NaN and the row becomes NaN, as in PyTorch; a row with some -inf gives them 0.
template <class T>
AISLE_HD inline T softmax_value(T x, T mx, T inv_sum) {
  return exp_(x - mx) * inv_sum;
}
template <class T>
AISLE_HD inline T log_softmax_value(T x, T mx, T log_sum) {
  return (x - mx) - log_sum;
}

// dx from the forward output y, dy, and the row sums dot = sum(dy * y) / sum_dy = sum(dy).
template <class T>
AISLE_HD inline T softmax_grad(T y, T dy, T dot) {
  return y * (dy - dot);
}
template <class T>
AISLE_HD inline T log_softmax_grad(T y, T dy, T sum_dy) {
  return dy - exp_(y) * sum_dy;
}

}  // namespace aisle::detail
