// Optimizer steps fused into the embedding-bag backward, on CUDA. CPU twin and reference:
// src/ops/embedding_update.cpp. The ids are sorted into runs of equal ids (cuda/sorted_runs.hpp);
// one warp then owns one run, i.e. one table row: its lanes sum the row's gradient column by
// column over the run's ids in position order (the CPU's order and roundings), and step the row
// in place. No gradient table is written and no value has two writers, so there are no atomics
// and results are the same run to run.
#include "cuda/common.cuh"
#include "cuda/embedding_update.hpp"
#include "cuda/segment_search.cuh"
#include "cuda/sorted_runs.hpp"
#include "src/core/dispatch.hpp"
#include "src/ops/embedding_functors.hpp"
#include "src/ops/optim_functors.hpp"

namespace aisle::cuda {

namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kPerLane = static_cast<int>(kMaxFusedRowWidth / kWarp);

__global__ void bag_of_kernel(const int64_t* offsets, int64_t bags, int64_t n, int64_t* bag_of) {
  AISLE_GRID_STRIDE(j, n) bag_of[j] = segment_of(offsets, bags, j);
}

// Where a run's gradient comes from: dy and the bag layout, and the runs of equal ids.
template <class T>
struct BagRuns {
  const T* dy;
  const int64_t* offsets;
  const int64_t* bag_of;
  const T* weights;  // null unless weighted sum
  bool mean;
  int64_t dim;
  const int64_t* sorted_pos;
  const int64_t* run_offsets;
  const int64_t* run_keys;
  const int64_t* num_runs;
};

// Element c of run r's gradient: its ids' shares in position order, each product rounded before it
// is added (mul_rn stops nvcc from fusing them), as the CPU computes it.
template <class T>
__device__ inline T run_gradient(const BagRuns<T>& a, int64_t r, int64_t c) {
  T acc = 0;
  for (int64_t j = a.run_offsets[r]; j < a.run_offsets[r + 1]; ++j) {
    const int64_t p = a.sorted_pos[j], b = a.bag_of[p];
    const T scale = detail::bag_grad_scale(a.mean, a.weights, p, a.offsets[b + 1] - a.offsets[b]);
    acc = acc + detail::mul_rn(a.dy[b * a.dim + c], scale);
  }
  return acc;
}

// One warp per run; lane l owns columns l, l + 32, ... and keeps their gradient in registers while
// the warp adds the row's squares (in a fixed tree order) for the accumulator.
template <class T>
__global__ void rowwise_adagrad_kernel(BagRuns<T> a, T* table, T* acc, detail::RowWiseAdagradCoeffs<T> coeffs) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  const int64_t runs = *a.num_runs;
  AISLE_WARP_STRIDE(r, runs) {
    const int64_t id = a.run_keys[r];
    T* row = table + id * a.dim;
    T g[kPerLane] = {};
    double sum_squares = 0.0;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int64_t c = lane + k * kWarp;
      if (c < a.dim) {
        g[k] = run_gradient(a, r, c);
        const double d = detail::rowwise_decayed_grad(row[c], g[k], coeffs);
        sum_squares += detail::mul_rn(d, d);
      }
    }
    sum_squares = warp_sum(sum_squares);
    T multiplier = 0;
    if (lane == 0) multiplier = detail::rowwise_accumulate(acc[id], sum_squares, a.dim, coeffs);
    multiplier = __shfl_sync(0xffffffffu, multiplier, 0);
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int64_t c = lane + k * kWarp;
      if (c < a.dim) row[c] = row[c] - detail::mul_rn(multiplier, detail::rowwise_decayed_grad(row[c], g[k], coeffs));
    }
  }
}

// One warp per run; each element's update needs only its own gradient, so any width works.
template <class T>
__global__ void sparse_adam_kernel(BagRuns<T> a, T* table, T* m, T* v, detail::SparseAdamCoeffs<T> coeffs) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  const int64_t runs = *a.num_runs;
  AISLE_WARP_STRIDE(r, runs) {
    const int64_t base = a.run_keys[r] * a.dim;
    for (int64_t c = lane; c < a.dim; c += kWarp)
      detail::sparse_adam_apply(table[base + c], run_gradient(a, r, c), m[base + c], v[base + c], coeffs);
  }
}

// Sorts the ids into runs (throwing for an id outside the table before any update) and finds each
// id's bag; `launch(runs, grid)` then starts the update kernel.
template <class T, class Launch>
void fused_step(const char* op, const Tensor& table, const ops::BagGradient& g, Launch&& launch) {
  const int64_t n = g.ids.numel(), bags = g.dy.size(0);
  const SortedRuns runs = sort_into_runs(g.ids, table.size(0), op);
  const Tensor offsets = g.offsets.to(DType::i64);
  Tensor bag_of = Tensor::empty({n}, DType::i64, table.device());
  bag_of_kernel<<<grid_for(n), kThreads, 0, stream_of(table)>>>(offsets.data<int64_t>(), bags, n,
                                                                 bag_of.data<int64_t>());
  check_launch(op);
  const BagRuns<T> a{g.dy.data<T>(), offsets.data<int64_t>(), bag_of.data<int64_t>(),
                     g.per_sample_weights.defined() ? g.per_sample_weights.data<T>() : nullptr,
                     g.mode == ops::BagMode::mean, g.dy.size(1), runs.sorted_pos.data<int64_t>(),
                     runs.run_offsets.data<int64_t>(), runs.run_keys.data<int64_t>(), runs.num_runs.data<int64_t>()};
  // At most n runs; the kernels read the true count on the device, so nothing waits for it here.
  const unsigned blocks = static_cast<unsigned>(std::clamp<int64_t>((n + kWarpsPerBlock - 1) / kWarpsPerBlock, 1, 65535));
  launch(a, blocks);
  check_launch(op);
}

}  // namespace

void embedding_bag_rowwise_adagrad_step(const Tensor& table, const Tensor& row_accumulator,
                                        const ops::BagGradient& grad, const ops::RowWiseAdagradHyper& hyper) {
  const char* op = "embedding_bag_rowwise_adagrad_step";
  detail::dispatch_float(table.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    fused_step<T>(op, table, grad, [&](const BagRuns<T>& a, unsigned blocks) {
      rowwise_adagrad_kernel<T><<<blocks, kWarpsPerBlock * kWarp, 0, stream_of(table)>>>(
          a, table.data<T>(), row_accumulator.data<T>(), detail::rowwise_adagrad_coeffs<T>(hyper));
    });
  });
}

void embedding_bag_sparse_adam_step(const Tensor& table, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                                    const ops::BagGradient& grad, const ops::SparseAdamHyper& hyper) {
  const char* op = "embedding_bag_sparse_adam_step";
  detail::dispatch_float(table.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    fused_step<T>(op, table, grad, [&](const BagRuns<T>& a, unsigned blocks) {
      sparse_adam_kernel<T><<<blocks, kWarpsPerBlock * kWarp, 0, stream_of(table)>>>(
          a, table.data<T>(), exp_avg.data<T>(), exp_avg_sq.data<T>(), detail::sparse_adam_coeffs<T>(hyper));
    });
  });
}

}  // namespace aisle::cuda
