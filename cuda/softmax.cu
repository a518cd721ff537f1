// Softmax family on CUDA. CPU twin and reference: src/ops/softmax.cpp; both evaluate the
// formulas in src/ops/softmax_functors.hpp. A warp per row for rows up to kWarpRowLimit long, a
// block per row beyond (cuda/row_reduce.cuh); each team strides over its row, so every element of
// the row is written whatever its length. Reductions have a fixed order: deterministic.
#include "cuda/common.cuh"
#include "cuda/row_reduce.cuh"
#include "cuda/softmax.hpp"
#include "src/core/dispatch.hpp"

namespace aisle::cuda {

namespace {

template <bool kBlock, class T>
__global__ void softmax_kernel(const T* x, T* y, int64_t rows, int64_t d, bool log) {
  __shared__ double scratch[32];
  const RowTeam<kBlock> team;
  for (int64_t r = team.first_row; r < rows; r += team.row_step) {
    const T* xr = x + r * d;
    T* yr = y + r * d;
    T mx = -static_cast<T>(INFINITY);
    for (int64_t j = team.lane; j < d; j += team.size) mx = detail::nan_max(mx, xr[j]);
    mx = static_cast<T>(team.all_reduce(static_cast<double>(mx), scratch, MaxOp{}));
    double sum = 0;
    for (int64_t j = team.lane; j < d; j += team.size) sum += static_cast<double>(detail::exp_(xr[j] - mx));
    sum = team.all_reduce(sum, scratch, SumOp{});
    if (log) {
      const T log_sum = static_cast<T>(detail::log_(sum));
      for (int64_t j = team.lane; j < d; j += team.size) yr[j] = detail::log_softmax_value(xr[j], mx, log_sum);
    } else {
      const T inv_sum = static_cast<T>(1.0 / sum);
      for (int64_t j = team.lane; j < d; j += team.size) yr[j] = detail::softmax_value(xr[j], mx, inv_sum);
    }
  }
}

template <bool kBlock, class T>
__global__ void softmax_backward_kernel(const T* y, const T* dy, T* dx, int64_t rows, int64_t d, bool log) {
  __shared__ double scratch[32];
  const RowTeam<kBlock> team;
  for (int64_t r = team.first_row; r < rows; r += team.row_step) {
    const T* yr = y + r * d;
    const T* dyr = dy + r * d;
    T* dxr = dx + r * d;
    double acc = 0;
    for (int64_t j = team.lane; j < d; j += team.size)
      acc += log ? static_cast<double>(dyr[j]) : static_cast<double>(dyr[j]) * static_cast<double>(yr[j]);
    const T s = static_cast<T>(team.all_reduce(acc, scratch, SumOp{}));
    for (int64_t j = team.lane; j < d; j += team.size)
      dxr[j] = log ? detail::log_softmax_grad(yr[j], dyr[j], s) : detail::softmax_grad(yr[j], dyr[j], s);
  }
}

}  // namespace

void softmax(const Tensor& x, const Tensor& y, int64_t rows, int64_t d, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  detail::dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cudaStream_t s = stream_of(x);
    launch_rows(rows, d, [&](unsigned grid, int threads, auto block) {
      softmax_kernel<decltype(block)::value, T><<<grid, threads, 0, s>>>(x.data<T>(), y.data<T>(), rows, d, log);
    });
    check_launch(op);
  });
}

void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, int64_t rows, int64_t d,
                      bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  detail::dispatch_float(y.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cudaStream_t s = stream_of(y);
    launch_rows(rows, d, [&](unsigned grid, int threads, auto block) {
      softmax_backward_kernel<decltype(block)::value, T><<<grid, threads, 0, s>>>(
          y.data<T>(), dy.data<T>(), dx.data<T>(), rows, d, log);
    });
    check_launch(op);
  });
}

}  // namespace aisle::cuda
