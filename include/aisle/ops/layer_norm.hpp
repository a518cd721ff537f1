#pragma once
#include "aisle/tensor/tensor.hpp"

// Row normalisations. Layer normalisation over the last axis of f32/f64 tensors, like torch.nn.functional.layer_norm:
// y = (x - mean) * rstd * gamma + beta with the biased variance (divided by D) and
// rstd = 1 / sqrt(var + eps). Row statistics accumulate in double.
//
// gamma and beta are [D], given together (affine) or both undefined (no affine). With D = 1 every
// row normalises to 0, so y = beta and the gradient reaching x is exactly 0.
namespace aisle::ops {

struct LayerNormResult {
  Tensor y;
  Tensor mean, rstd;  // one per row: x's shape without the last axis
};
LayerNormResult layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps = 1e-5);

struct LayerNormGrads {
  Tensor dx;
  Tensor dgamma, dbeta;  // undefined when gamma (and so beta) was
};
// Gradients from the forward input, gamma, the saved mean/rstd and dL/dy. dgamma and dbeta sum
// over rows in a fixed blocking (no atomics), so they are deterministic on both backends.
LayerNormGrads layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& dy);

// Row L2 normalisation of a 2-D f32/f64 tensor [rows, d], d >= 1: y = x / norm with
// norm = sqrt(sum_k x_k^2 + eps) per row (NGCF's and GraphSAGE's normalised layer outputs), in
// one pass instead of five elementwise ops and their gradients. The sum of squares accumulates in
// double; on the CPU in row order, which gives exactly the bits of the composite
// x / sqrt(sum(square(x), 1) + eps).
struct L2NormalizeResult {
  Tensor y;     // [rows, d]
  Tensor norm;  // [rows]
};
L2NormalizeResult l2_normalize_rows(const Tensor& x, double eps = 1e-12);
// dx = (dy - y * sum_k(y_k dy_k)) / norm per row, from the forward's y and norm.
Tensor l2_normalize_rows_backward(const Tensor& y, const Tensor& norm, const Tensor& dy);

}  // namespace aisle::ops
