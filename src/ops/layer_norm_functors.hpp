#pragma once
// Internal: per-element formulas of layer_norm and l2_normalize_rows, shared by the CPU kernels
// (src/ops/layer_norm.cpp) and the CUDA kernels (cuda/layer_norm.cu). Without affine parameters
// gamma = 1 and beta = 0, which leave the values unchanged exactly.
#include <stdint.h>

#include "aisle/core/macros.hpp"
#include "src/ops/math.hpp"

namespace aisle::detail {

// Rows per chunk of the dgamma/dbeta reduction: each chunk's partial sums are formed in row
// order, then the chunks are added in chunk order. The blocking depends only on the shape,
// and the partial buffers (2 x chunks x d doubles) stay below `max_partials` entries.
AISLE_HD inline int64_t layer_norm_rows_per_chunk(int64_t rows, int64_t d, int64_t min_rows,
                                                  int64_t max_partials) {
  const int64_t fit = (rows * d + max_partials - 1) / max_partials;
  return fit > min_rows ? fit : min_rows;
}

template <class T>
AISLE_HD inline T layer_norm_rstd(double var, double eps) {
  return static_cast<T>(1.0 / sqrt_(var + eps));
}

template <class T>
AISLE_HD inline T layer_norm_xhat(T x, T mean, T rstd) {
  return (x - mean) * rstd;
}

template <class T>
AISLE_HD inline T layer_norm_value(T x, T mean, T rstd, T gamma, T beta) {
  return layer_norm_xhat(x, mean, rstd) * gamma + beta;
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma.
template <class T>
AISLE_HD inline T layer_norm_grad(T g, T xhat, T rstd, T mean_g, T mean_gx) {
  return rstd * (g - mean_g - xhat * mean_gx);
}

// l2_normalize_rows: the norm from a row's sum of squares (T squares added in double), rounded
// as the composite x / sqrt(sum(square(x)) + eps) rounds it: the sum to T, then + eps and the
// square root in T. So y = x / norm has the composite's bits.
template <class T>
AISLE_HD inline T l2_row_norm(double sum_of_squares, double eps) {
  return sqrt_(static_cast<T>(sum_of_squares) + static_cast<T>(eps));
}

// dx = (dy - y * dot) / norm with dot = sum_k y_k dy_k: the gradient of y = x / |x| keeps the
// part of dy orthogonal to y.
template <class T>
AISLE_HD inline T l2_normalize_grad(T dy, T y, T dot, T norm) {
  return (dy - y * dot) / norm;
}

}  // namespace aisle::detail
