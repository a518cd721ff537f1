#pragma once
#include "aisle/tensor/tensor.hpp"

// Matrix products of f32/f64 tensors (CPU: Eigen, CUDA: cuBLAS). A flag transposes its operand
// as it is read, so A^T·B and friends need no transposed copy. An inner dimension of 0 gives zeros.
// CPU results are bit-identical whatever the thread count (see src/ops/matmul.cpp).
namespace aisle::ops {

// C = op(A)·op(B): A [m, k] ([k, m] if trans_a), B [k, n] ([n, k] if trans_b) -> C [m, n].
// Without trans_a, A may carry extra leading axes, flattened into rows: [..., k]·[k, n] -> [..., n].
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// One product per batch entry: a [batch, m, k] ([batch, k, m] if trans_a),
// b [batch, k, n] ([batch, n, k] if trans_b) -> [batch, m, n].
Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

}  // namespace aisle::ops
