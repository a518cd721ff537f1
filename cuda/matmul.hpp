#pragma once
#include "aisle/tensor/tensor.hpp"

namespace aisle::cuda {

// out[b] = op(A[b])·op(B[b]) for b < batch, each matrix row-major and packed one after another
// (batch = 1: a plain product). m, n, k >= 1; out is written in full.
void matmul(const Tensor& a, const Tensor& b, const Tensor& out, int64_t batch, int64_t m,
            int64_t n, int64_t k, bool trans_a, bool trans_b);

}  // namespace aisle::cuda
