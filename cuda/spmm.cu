// Sparse x dense family on CUDA. CPU twin and reference: src/ops/spmm.cpp.
// One warp per row, lanes across the dense width, each row's entries summed in CSR order with
// unfused multiply-adds: the same order and rounding as the CPU, so results match it bit for bit.
// No atomics: every output element has exactly one writer. (Long rows are not split across warps;
// a row's cost is nnz(row) * d / 32 steps for one warp.)
#include "cuda/common.cuh"
#include "cuda/segment_search.cuh"
#include "cuda/spmm.hpp"
#include "src/core/dispatch.hpp"
#include "src/ops/unfused_madd.hpp"

namespace aisle::cuda {

namespace {

// out[r] = sum_j values[j] * x[col[j]] over row r's entries; writes every element (empty rows: 0).
template <class T, class I>
__global__ void spmm_kernel(const int64_t* row_ptr, const I* col_idx, const T* values, const T* x, T* out,
                            int64_t rows, int64_t cols, int64_t d, int64_t* bad) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  AISLE_WARP_STRIDE(r, rows) {
    const int64_t j0 = row_ptr[r], j1 = row_ptr[r + 1];
    for (int64_t c = lane; c < d; c += kWarp) {
      T acc = 0;
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t k = static_cast<int64_t>(col_idx[j]);
        if (k < 0 || k >= cols) {
          report_bad_index(bad, k);
          continue;
        }
        acc = detail::madd_unfused(acc, values[j], x[k * d + c]);
      }
      out[r * d + c] = acc;
    }
  }
}

// dv[j] = dot(dy[row(j)], x[col(j)]): one warp per entry, its row found by binary search.
template <class T, class I>
__global__ void sddmm_kernel(const int64_t* row_ptr, const I* col_idx, const T* x, const T* dy, T* dv,
                             int64_t rows, int64_t cols, int64_t nnz, int64_t d, int64_t* bad) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  AISLE_WARP_STRIDE(j, nnz) {
    const int64_t k = static_cast<int64_t>(col_idx[j]);
    T acc = 0;
    if (k >= 0 && k < cols) {
      const int64_t r = segment_of(row_ptr, rows, j);
      for (int64_t c = lane; c < d; c += kWarp) acc = detail::madd_unfused(acc, dy[r * d + c], x[k * d + c]);
    } else if (lane == 0) {
      report_bad_index(bad, k);
    }
    acc = warp_sum(acc);
    if (lane == 0) dv[j] = acc;
  }
}

}  // namespace

void spmm(const ops::Csr& a, const Tensor& x, const Tensor& out) {
  const int64_t d = x.size(1);
  const int dev = x.device().index;
  detail::dispatch_float(x.dtype(), "spmm", [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(a.col_idx.dtype(), "spmm", [&](auto itag) {
      using I = decltype(itag);
      spmm_kernel<T, I><<<grid_for(a.rows * kWarp), kThreads, 0, stream_of(x)>>>(
          a.row_ptr.data<int64_t>(), a.col_idx.data<I>(), a.values.data<T>(), x.data<T>(), out.data<T>(),
          a.rows, a.cols, d, index_error_slot(dev));
    });
  });
  check_launch("spmm");
  raise_index_error(dev, "spmm", a.cols);
}

void spmm_values_backward(const ops::Csr& a, const Tensor& x, const Tensor& dy, const Tensor& dv) {
  const int64_t d = x.size(1), nnz = a.nnz();
  const int dev = x.device().index;
  detail::dispatch_float(x.dtype(), "spmm_values_backward", [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(a.col_idx.dtype(), "spmm_values_backward", [&](auto itag) {
      using I = decltype(itag);
      sddmm_kernel<T, I><<<grid_for(nnz * kWarp), kThreads, 0, stream_of(x)>>>(
          a.row_ptr.data<int64_t>(), a.col_idx.data<I>(), x.data<T>(), dy.data<T>(), dv.data<T>(), a.rows,
          a.cols, nnz, d, index_error_slot(dev));
    });
  });
  check_launch("spmm_values_backward");
  raise_index_error(dev, "spmm_values_backward", a.cols);
}

}  // namespace aisle::cuda
