// Matmul family on CUDA via cuBLAS. CPU twin and reference: src/ops/matmul.cpp.
// cuBLAS is column-major and Aisle row-major: a row-major [r, c] matrix is the column-major
// [c, r] matrix, its transpose. So row-major C = op(A)·op(B) is computed as the column-major
// product C^T = op(B)^T · op(A)^T, i.e. with the operands swapped and the flags kept.
// The handle keeps the default math mode (no TF32), so f32 products match the CPU closely.
#include <climits>

#include "cuda/common.cuh"
#include "cuda/matmul.hpp"
#include "src/core/dispatch.hpp"

namespace aisle::cuda {

namespace {

void check_int(const char* what, int64_t v) {
  AISLE_CHECK(v <= INT_MAX, "matmul: ", what, " = ", v, " exceeds the cuBLAS limit of ", INT_MAX);
}

cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                    int k, const float* alpha, const float* a, int lda, const float* b, int ldb,
                    const float* beta, float* c, int ldc) {
  return cublasSgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                    int k, const double* alpha, const double* a, int lda, const double* b, int ldb,
                    const double* beta, double* c, int ldc) {
  return cublasDgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

cublasStatus_t gemm_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                            int n, int k, const float* alpha, const float* a, int lda,
                            long long stride_a, const float* b, int ldb, long long stride_b,
                            const float* beta, float* c, int ldc, long long stride_c, int batch) {
  return cublasSgemmStridedBatched(h, ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b,
                                   beta, c, ldc, stride_c, batch);
}
cublasStatus_t gemm_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                            int n, int k, const double* alpha, const double* a, int lda,
                            long long stride_a, const double* b, int ldb, long long stride_b,
                            const double* beta, double* c, int ldc, long long stride_c, int batch) {
  return cublasDgemmStridedBatched(h, ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b,
                                   beta, c, ldc, stride_c, batch);
}

}  // namespace

void matmul(const Tensor& a, const Tensor& b, const Tensor& out, int64_t batch, int64_t m,
            int64_t n, int64_t k, bool trans_a, bool trans_b) {
  check_int("m", m);
  check_int("n", n);
  check_int("k", k);
  check_int("batch", batch);
  use_device(out.device().index);
  cublasHandle_t handle = cublas(out.device().index);  // already bound to the device's stream
  // Column-major view: C^T [n, m] = op(B)^T [n, k] · op(A)^T [k, m].
  // B stored row-major [k, n] is column-major [n, k] (ld n): no transpose needed; stored [n, k]
  // (trans_b) is column-major [k, n] (ld k): transpose it. Likewise A, with ld k or m.
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ld_b = static_cast<int>(trans_b ? k : n);
  const int ld_a = static_cast<int>(trans_a ? m : k);
  const int ld_c = static_cast<int>(n);
  detail::dispatch_float(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    const T one = 1, zero = 0;  // beta = 0: cuBLAS does not read C, so its poison is harmless
    if (batch == 1) {
      AISLE_CUBLAS_CHECK(gemm(handle, op_b, op_a, static_cast<int>(n), static_cast<int>(m),
                              static_cast<int>(k), &one, b.data<T>(), ld_b, a.data<T>(), ld_a,
                              &zero, out.data<T>(), ld_c));
    } else {
      AISLE_CUBLAS_CHECK(gemm_batched(handle, op_b, op_a, static_cast<int>(n), static_cast<int>(m),
                                      static_cast<int>(k), &one, b.data<T>(), ld_b, k * n,
                                      a.data<T>(), ld_a, m * k, &zero, out.data<T>(), ld_c, m * n,
                                      static_cast<int>(batch)));
    }
  });
}

}  // namespace aisle::cuda
