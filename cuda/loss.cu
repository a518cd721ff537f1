// Loss family on CUDA. CPU twin and reference: src/ops/loss.cpp; both evaluate the formulas in
// src/ops/loss_functors.hpp. Kernels write per-element (per-row) losses or gradients only; the
// mean/sum reductions are the reduce family's deterministic f64 sums, so no atomics here apart
// from the index error slot.
//
// Cross-entropy rows are handled by a team of threads: a warp per row for C <= 1024 (many short
// rows), a 256-thread block per row for wider rows (large catalogues). Each team finds the row
// max, then sum exp(x - max) in double, with a fixed reduction tree, so a given shape always
// reduces in the same order.
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/loss.hpp"
#include "src/core/dispatch.hpp"

namespace aisle::cuda {

using detail::LossGradIn;
using detail::PointLoss;

namespace {

constexpr int64_t kWarpRowMaxClasses = 1024;

template <PointLoss K, class T>
__global__ void point_loss_kernel(const T* a, const T* b, const T* w, T* out, int64_t n, T delta) {
  AISLE_GRID_STRIDE(i, n) {
    const T v = detail::point_loss<K>(a[i], b[i], delta);
    out[i] = w ? v * w[i] : v;
  }
}

template <PointLoss K, class T>
__global__ void point_loss_backward_kernel(const T* a, const T* b, const T* w, LossGradIn<T> in,
                                           T* da, T* db, int64_t n, T delta) {
  AISLE_GRID_STRIDE(i, n) {
    T g = in.at(i);
    if (w) g *= w[i];
    const T v = detail::point_loss_grad<K>(a[i], b[i], delta) * g;
    da[i] = v;
    if (db) db[i] = -v;
  }
}

template <class T, class I>
__global__ void ce_count_kernel(const I* targets, int64_t rows, int64_t classes, int64_t ignore_index,
                                T* counted, int64_t* bad) {
  AISLE_GRID_STRIDE(r, rows) {
    const int64_t t = static_cast<int64_t>(targets[r]);
    const bool ignored = t == ignore_index;
    if (!ignored && (t < 0 || t >= classes)) report_bad_index(bad, t);
    counted[r] = ignored ? T(0) : T(1);
  }
}

// The threads sharing one row: a warp, or the whole block. Every member of a team walks the same
// rows, so branches on the row are uniform within the team (warp shuffles and __syncthreads are
// safe inside them).
template <bool kBlockPerRow>
struct RowTeam {
  __device__ static int64_t first_row() {
    if constexpr (kBlockPerRow) return blockIdx.x;
    else return (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  }
  __device__ static int64_t row_stride() {
    if constexpr (kBlockPerRow) return gridDim.x;
    else return static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
  }
  __device__ static int rank() {
    return static_cast<int>(kBlockPerRow ? threadIdx.x : threadIdx.x % 32);
  }
  __device__ static int size() { return kBlockPerRow ? static_cast<int>(blockDim.x) : 32; }
};

// Butterfly reductions leave the result in every lane.
template <class T>
__device__ inline T warp_all_max(T v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v = detail::nan_max_(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

__device__ inline double warp_all_sum(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Team-wide max and sum. In block mode the warps' partials go through `shared` (one slot per warp)
// and every thread combines them in warp order; the trailing barrier lets `shared` be reused.
template <bool kBlockPerRow, class T>
__device__ inline T team_max(T v, double* shared) {
  v = warp_all_max(v);
  if constexpr (kBlockPerRow) {
    const int warps = blockDim.x / 32;
    if (threadIdx.x % 32 == 0) shared[threadIdx.x / 32] = static_cast<double>(v);
    __syncthreads();
    v = static_cast<T>(shared[0]);
    for (int w = 1; w < warps; ++w) v = detail::nan_max_(v, static_cast<T>(shared[w]));
    __syncthreads();
  }
  return v;
}

template <bool kBlockPerRow>
__device__ inline double team_sum(double v, double* shared) {
  v = warp_all_sum(v);
  if constexpr (kBlockPerRow) {
    const int warps = blockDim.x / 32;
    if (threadIdx.x % 32 == 0) shared[threadIdx.x / 32] = v;
    __syncthreads();
    v = shared[0];
    for (int w = 1; w < warps; ++w) v += shared[w];
    __syncthreads();
  }
  return v;
}

template <class T>
struct RowStats {
  T max;
  double log_sum;  // log(sum_j exp(x_j - max))
};

template <bool kBlockPerRow, class T>
__device__ inline RowStats<T> row_stats(const T* x, int64_t classes, double* shared) {
  using Team = RowTeam<kBlockPerRow>;
  T m = -static_cast<T>(INFINITY);
  for (int64_t k = Team::rank(); k < classes; k += Team::size()) m = detail::nan_max_(m, x[k]);
  m = team_max<kBlockPerRow>(m, shared);
  double s = 0;
  for (int64_t k = Team::rank(); k < classes; k += Team::size())
    s += static_cast<double>(detail::exp_(x[k] - m));
  s = team_sum<kBlockPerRow>(s, shared);
  return {m, detail::log_(s)};
}

template <bool kBlockPerRow, class T, class I>
__global__ void ce_forward_kernel(const T* logits, const I* targets, int64_t rows, int64_t classes,
                                  int64_t ignore_index, T* losses) {
  using Team = RowTeam<kBlockPerRow>;
  __shared__ double shared[32];
  for (int64_t row = Team::first_row(); row < rows; row += Team::row_stride()) {
    const int64_t t = static_cast<int64_t>(targets[row]);
    if (t == ignore_index || t < 0 || t >= classes) {
      // Out-of-range targets were reported by ce_count_kernel; never read past the row.
      if (Team::rank() == 0) losses[row] = t == ignore_index ? T(0) : static_cast<T>(NAN);
      continue;
    }
    const T* x = logits + row * classes;
    const RowStats<T> s = row_stats<kBlockPerRow>(x, classes, shared);
    if (Team::rank() == 0) losses[row] = detail::ce_row_loss(s.max, s.log_sum, x[t]);
  }
}

template <bool kBlockPerRow, class T, class I>
__global__ void ce_backward_kernel(const T* logits, const I* targets, int64_t rows, int64_t classes,
                                   int64_t ignore_index, LossGradIn<T> in, T* dlogits) {
  using Team = RowTeam<kBlockPerRow>;
  __shared__ double shared[32];
  for (int64_t row = Team::first_row(); row < rows; row += Team::row_stride()) {
    const int64_t t = static_cast<int64_t>(targets[row]);
    T* out = dlogits + row * classes;
    if (t == ignore_index || t < 0 || t >= classes) {
      const T fill = t == ignore_index ? T(0) : static_cast<T>(NAN);
      for (int64_t k = Team::rank(); k < classes; k += Team::size()) out[k] = fill;
      continue;
    }
    const T* x = logits + row * classes;
    const RowStats<T> s = row_stats<kBlockPerRow>(x, classes, shared);
    const T log_sum = static_cast<T>(s.log_sum);
    const T g = in.at(row);
    for (int64_t k = Team::rank(); k < classes; k += Team::size())
      out[k] = detail::ce_logit_grad(x[k], s.max, log_sum, k == t, g);
  }
}

// Calls launch(block_per_row, blocks, threads) with the team shape that suits the row width.
template <class Launch>
void launch_rows(int64_t rows, int64_t classes, Launch&& launch) {
  if (classes <= kWarpRowMaxClasses) {
    launch(std::false_type{}, grid_for(rows * 32), kThreads);
  } else {
    launch(std::true_type{}, static_cast<unsigned>(std::clamp<int64_t>(rows, 1, 65535)), kThreads);
  }
}

}  // namespace

void point_loss(PointLoss kind, const Tensor& a, const Tensor& b, const Tensor& weights,
                const Tensor& out, double delta) {
  detail::dispatch_float(a.dtype(), "loss", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = a.numel();
    const T* pw = weights.defined() ? weights.data<T>() : nullptr;
    detail::dispatch_point_loss(kind, [&](auto kind_c) {
      constexpr PointLoss kKind = decltype(kind_c)::value;
      point_loss_kernel<kKind, T><<<grid_for(n), kThreads, 0, stream_of(a)>>>(
          a.data<T>(), b.data<T>(), pw, out.data<T>(), n, static_cast<T>(delta));
      check_launch("loss");
    });
  });
}

void point_loss_backward(PointLoss kind, const Tensor& a, const Tensor& b, const Tensor& weights,
                         const Tensor& dy, ops::Reduction r, const Tensor& da, const Tensor& db,
                         double delta) {
  detail::dispatch_float(a.dtype(), "loss_backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = a.numel();
    const T* pw = weights.defined() ? weights.data<T>() : nullptr;
    T* pdb = db.defined() ? db.data<T>() : nullptr;
    const LossGradIn<T> in = detail::point_grad_in(dy.data<T>(), r, n);
    detail::dispatch_point_loss(kind, [&](auto kind_c) {
      constexpr PointLoss kKind = decltype(kind_c)::value;
      point_loss_backward_kernel<kKind, T><<<grid_for(n), kThreads, 0, stream_of(a)>>>(
          a.data<T>(), b.data<T>(), pw, in, da.data<T>(), pdb, n, static_cast<T>(delta));
      check_launch("loss_backward");
    });
  });
}

void ce_count_targets(const Tensor& targets, int64_t classes, int64_t ignore_index,
                      const Tensor& counted, const char* op) {
  const int dev = targets.device().index;
  const int64_t rows = targets.numel();
  detail::dispatch_float(counted.dtype(), op, [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(targets.dtype(), op, [&](auto itag) {
      using I = decltype(itag);
      ce_count_kernel<T, I><<<grid_for(rows), kThreads, 0, stream_of(targets)>>>(
          targets.data<I>(), rows, classes, ignore_index, counted.data<T>(), index_error_slot(dev));
      check_launch(op);
    });
  });
  raise_index_error(dev, op, classes);
}

void cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                   const Tensor& losses) {
  const int64_t rows = logits.size(0), classes = logits.size(1);
  detail::dispatch_float(logits.dtype(), "cross_entropy", [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(targets.dtype(), "cross_entropy", [&](auto itag) {
      using I = decltype(itag);
      cudaStream_t s = stream_of(logits);
      launch_rows(rows, classes, [&](auto block_per_row, unsigned blocks, int threads) {
        ce_forward_kernel<decltype(block_per_row)::value, T, I><<<blocks, threads, 0, s>>>(
            logits.data<T>(), targets.data<I>(), rows, classes, ignore_index, losses.data<T>());
      });
      check_launch("cross_entropy");
    });
  });
}

void cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                            const Tensor& dy, ops::Reduction r, const Tensor& count,
                            const Tensor& dlogits) {
  const int64_t rows = logits.size(0), classes = logits.size(1);
  detail::dispatch_float(logits.dtype(), "cross_entropy_backward", [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(targets.dtype(), "cross_entropy_backward", [&](auto itag) {
      using I = decltype(itag);
      cudaStream_t s = stream_of(logits);
      const T* divisor = count.defined() ? count.data<T>() : nullptr;
      const LossGradIn<T> in = detail::row_grad_in(dy.data<T>(), r, divisor);
      launch_rows(rows, classes, [&](auto block_per_row, unsigned blocks, int threads) {
        ce_backward_kernel<decltype(block_per_row)::value, T, I><<<blocks, threads, 0, s>>>(
            logits.data<T>(), targets.data<I>(), rows, classes, ignore_index, in, dlogits.data<T>());
      });
      check_launch("cross_entropy_backward");
    });
  });
}

}  // namespace aisle::cuda
