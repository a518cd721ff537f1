// layer_norm and l2_normalize_rows on CUDA. CPU twin and reference: src/ops/layer_norm.cpp; both
// evaluate the formulas in src/ops/layer_norm_functors.hpp.
//  - forward and dx: a warp or a block per row (cuda/row_reduce.cuh), row sums in double;
//  - dgamma/dbeta: no atomics. Pass 1 gives each (chunk of rows, column) pair a thread that sums
//    its chunk in row order into a partial buffer laid out [column][chunk]; pass 2 gives each
//    column a warp that adds its chunk partials in a fixed order. Deterministic run to run.
#include "cuda/common.cuh"
#include "cuda/layer_norm.hpp"
#include "cuda/row_reduce.cuh"
#include "src/core/dispatch.hpp"
#include "src/ops/layer_norm_functors.hpp"

namespace aisle::cuda {

namespace {

constexpr int64_t kMinChunkRows = 32;
constexpr int64_t kMaxPartials = int64_t{1} << 22;

template <bool kBlock, class T>
__global__ void layer_norm_kernel(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd,
                                  int64_t rows, int64_t d, double eps) {
  __shared__ double scratch[32];
  const RowTeam<kBlock> team;
  for (int64_t r = team.first_row; r < rows; r += team.row_step) {
    const T* xr = x + r * d;
    T* yr = y + r * d;
    double sum = 0;
    for (int64_t j = team.lane; j < d; j += team.size) sum += static_cast<double>(xr[j]);
    const double mu = team.all_reduce(sum, scratch, SumOp{}) / static_cast<double>(d);
    double sq = 0;
    for (int64_t j = team.lane; j < d; j += team.size) {
      const double diff = static_cast<double>(xr[j]) - mu;
      sq += diff * diff;
    }
    sq = team.all_reduce(sq, scratch, SumOp{});
    const T m = static_cast<T>(mu);
    const T rs = detail::layer_norm_rstd<T>(sq / static_cast<double>(d), eps);
    for (int64_t j = team.lane; j < d; j += team.size)
      yr[j] = detail::layer_norm_value(xr[j], m, rs, gamma ? gamma[j] : T(1), beta ? beta[j] : T(0));
    if (team.lane == 0) {
      mean[r] = m;
      rstd[r] = rs;
    }
  }
}

template <bool kBlock, class T>
__global__ void layer_norm_dx_kernel(const T* x, const T* gamma, const T* mean, const T* rstd,
                                     const T* dy, T* dx, int64_t rows, int64_t d) {
  __shared__ double scratch[32];
  const RowTeam<kBlock> team;
  for (int64_t r = team.first_row; r < rows; r += team.row_step) {
    const T *xr = x + r * d, *dyr = dy + r * d;
    T* dxr = dx + r * d;
    const T m = mean[r], rs = rstd[r];
    double sum_g = 0, sum_gx = 0;
    for (int64_t j = team.lane; j < d; j += team.size) {
      const T g = gamma ? dyr[j] * gamma[j] : dyr[j];
      const T xhat = detail::layer_norm_xhat(xr[j], m, rs);
      sum_g += static_cast<double>(g);
      sum_gx += static_cast<double>(g) * static_cast<double>(xhat);
    }
    const T mean_g = static_cast<T>(team.all_reduce(sum_g, scratch, SumOp{}) / static_cast<double>(d));
    const T mean_gx = static_cast<T>(team.all_reduce(sum_gx, scratch, SumOp{}) / static_cast<double>(d));
    for (int64_t j = team.lane; j < d; j += team.size) {
      const T g = gamma ? dyr[j] * gamma[j] : dyr[j];
      dxr[j] = detail::layer_norm_grad(g, detail::layer_norm_xhat(xr[j], m, rs), rs, mean_g, mean_gx);
    }
  }
}

// Pass 1: partial[j * chunks + c] = sum over the rows of chunk c, in order.
template <class T>
__global__ void param_partials_kernel(const T* x, const T* mean, const T* rstd, const T* dy,
                                      int64_t rows, int64_t d, int64_t chunk_rows, int64_t chunks,
                                      double* partial_g, double* partial_b) {
  AISLE_GRID_STRIDE(i, chunks * d) {
    const int64_t c = i / d, j = i % d;  // neighbouring threads read neighbouring columns
    const int64_t r_end = (c + 1) * chunk_rows < rows ? (c + 1) * chunk_rows : rows;
    double sg = 0, sb = 0;
    for (int64_t r = c * chunk_rows; r < r_end; ++r) {
      const double xhat = static_cast<double>(detail::layer_norm_xhat(x[r * d + j], mean[r], rstd[r]));
      sg += static_cast<double>(dy[r * d + j]) * xhat;
      sb += static_cast<double>(dy[r * d + j]);
    }
    partial_g[j * chunks + c] = sg;
    partial_b[j * chunks + c] = sb;
  }
}

// Pass 2: a warp per column adds that column's chunk partials (contiguous) in a fixed order.
template <class T>
__global__ void param_finish_kernel(const double* partial_g, const double* partial_b, int64_t d,
                                    int64_t chunks, T* dgamma, T* dbeta) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * blockDim.x / 32;
  for (int64_t j = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32; j < d; j += warps) {
    double sg = 0, sb = 0;
    for (int64_t c = lane; c < chunks; c += 32) {
      sg += partial_g[j * chunks + c];
      sb += partial_b[j * chunks + c];
    }
    sg = warp_all_reduce(sg, SumOp{});
    sb = warp_all_reduce(sb, SumOp{});
    if (lane == 0) {
      dgamma[j] = static_cast<T>(sg);
      dbeta[j] = static_cast<T>(sb);
    }
  }
}

// A row's sum of squares (double, in the team's order: the last bits may differ from the CPU's
// row order), then y = x / norm.
template <bool kBlock, class T>
__global__ void l2_normalize_kernel(const T* x, T* y, T* norm, int64_t rows, int64_t d, double eps) {
  __shared__ double scratch[32];
  const RowTeam<kBlock> team;
  for (int64_t r = team.first_row; r < rows; r += team.row_step) {
    const T* xr = x + r * d;
    double sum = 0;
    for (int64_t j = team.lane; j < d; j += team.size) sum += static_cast<double>(xr[j] * xr[j]);
    const T n = detail::l2_row_norm<T>(team.all_reduce(sum, scratch, SumOp{}), eps);
    for (int64_t j = team.lane; j < d; j += team.size) y[r * d + j] = xr[j] / n;
    if (team.lane == 0) norm[r] = n;
  }
}

template <bool kBlock, class T>
__global__ void l2_normalize_dx_kernel(const T* y, const T* norm, const T* dy, T* dx, int64_t rows, int64_t d) {
  __shared__ double scratch[32];
  const RowTeam<kBlock> team;
  for (int64_t r = team.first_row; r < rows; r += team.row_step) {
    const T *yr = y + r * d, *dyr = dy + r * d;
    double dot = 0;
    for (int64_t j = team.lane; j < d; j += team.size) dot += static_cast<double>(yr[j] * dyr[j]);
    const T dt = static_cast<T>(team.all_reduce(dot, scratch, SumOp{}));
    for (int64_t j = team.lane; j < d; j += team.size) dx[r * d + j] = detail::l2_normalize_grad(dyr[j], yr[j], dt, norm[r]);
  }
}

template <class T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                const Tensor& mean, const Tensor& rstd, int64_t rows, int64_t d, double eps) {
  detail::dispatch_float(x.dtype(), "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    cudaStream_t s = stream_of(x);
    launch_rows(rows, d, [&](unsigned grid, int threads, auto block) {
      layer_norm_kernel<decltype(block)::value, T><<<grid, threads, 0, s>>>(
          x.data<T>(), data_or_null<T>(gamma), data_or_null<T>(beta), y.data<T>(), mean.data<T>(),
          rstd.data<T>(), rows, d, eps);
    });
    check_launch("layer_norm");
  });
}

void layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dy, const Tensor& dx,
                         const Tensor& dgamma, const Tensor& dbeta, int64_t rows, int64_t d) {
  const char* op = "layer_norm_backward";
  detail::dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cudaStream_t s = stream_of(x);
    launch_rows(rows, d, [&](unsigned grid, int threads, auto block) {
      layer_norm_dx_kernel<decltype(block)::value, T><<<grid, threads, 0, s>>>(
          x.data<T>(), data_or_null<T>(gamma), mean.data<T>(), rstd.data<T>(), dy.data<T>(),
          dx.data<T>(), rows, d);
    });
    check_launch(op);
    if (!gamma.defined()) return;
    const int64_t chunk_rows = detail::layer_norm_rows_per_chunk(rows, d, kMinChunkRows, kMaxPartials);
    const int64_t chunks = (rows + chunk_rows - 1) / chunk_rows;
    const Tensor partials = Tensor::empty({2, d, chunks}, DType::f64, x.device());
    double* partial_g = partials.data<double>();
    double* partial_b = partial_g + d * chunks;
    param_partials_kernel<T><<<grid_for(chunks * d), kThreads, 0, s>>>(
        x.data<T>(), mean.data<T>(), rstd.data<T>(), dy.data<T>(), rows, d, chunk_rows, chunks,
        partial_g, partial_b);
    check_launch(op);
    param_finish_kernel<T><<<grid_for(d * 32), kThreads, 0, s>>>(partial_g, partial_b, d, chunks,
                                                                 dgamma.data<T>(), dbeta.data<T>());
    check_launch(op);
  });
}

void l2_normalize_rows(const Tensor& x, const Tensor& y, const Tensor& norm, int64_t rows, int64_t d, double eps) {
  detail::dispatch_float(x.dtype(), "l2_normalize_rows", [&](auto tag) {
    using T = decltype(tag);
    cudaStream_t s = stream_of(x);
    launch_rows(rows, d, [&](unsigned grid, int threads, auto block) {
      l2_normalize_kernel<decltype(block)::value, T><<<grid, threads, 0, s>>>(x.data<T>(), y.data<T>(), norm.data<T>(),
                                                                              rows, d, eps);
    });
    check_launch("l2_normalize_rows");
  });
}

void l2_normalize_rows_backward(const Tensor& y, const Tensor& norm, const Tensor& dy, const Tensor& dx, int64_t rows,
                                int64_t d) {
  detail::dispatch_float(y.dtype(), "l2_normalize_rows_backward", [&](auto tag) {
    using T = decltype(tag);
    cudaStream_t s = stream_of(y);
    launch_rows(rows, d, [&](unsigned grid, int threads, auto block) {
      l2_normalize_dx_kernel<decltype(block)::value, T><<<grid, threads, 0, s>>>(
          y.data<T>(), norm.data<T>(), dy.data<T>(), dx.data<T>(), rows, d);
    });
    check_launch("l2_normalize_rows_backward");
  });
}

}  // namespace aisle::cuda
