// Optimizer steps fused into the embedding-bag backward, on CUDA. CPU twin and reference:
// src/ops/embedding_update.cpp. The ids are sorted into runs of equal ids (cuda/sorted_runs.hpp);
// one warp then owns one run, i.e. one table row: its lanes sum the row's gradient column by
// column over the run's ids in position order (the CPU's order and roundings), and step the row
// in place. No gradient table is written and no value has two writers, so there are no atomics
// and results are the same run to run. A bf16/f16 table is widened, stepped in f32 and rounded
// back as on the CPU (src/core/storage.hpp); stochastic rounding draws the same words.
#include "cuda/common.cuh"
#include "cuda/embedding_update.hpp"
#include "cuda/segment_search.cuh"
#include "cuda/sorted_runs.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/storage.hpp"
#include "src/ops/embedding_functors.hpp"
#include "src/ops/optim_functors.hpp"

namespace aisle::cuda {

namespace {

constexpr int kWarpsPerBlock = 4;
// Row-wise Adagrad keeps a row's gradient and values in registers, kPerLane per lane, for rows up
// to kRegisterRowWidth wide; wider rows compute their gradient twice (for the squares, then for
// the update) instead.
constexpr int kPerLane = 8;
constexpr int64_t kRegisterRowWidth = kPerLane * kWarp;

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

// A lane's columns c = lane + k * 32 (k < kPerLane, c < dim) of run r's gradient, added into g
// (zeros) while walking the run once: the same sums in the same order as run_gradient per column,
// but a hot id's long run is read once instead of once per column the lane owns.
template <class T>
__device__ inline void run_gradient_row(const BagRuns<T>& a, int64_t r, int lane, T (&g)[kPerLane]) {
  for (int64_t j = a.run_offsets[r]; j < a.run_offsets[r + 1]; ++j) {
    const int64_t p = a.sorted_pos[j], b = a.bag_of[p];
    const T scale = detail::bag_grad_scale(a.mean, a.weights, p, a.offsets[b + 1] - a.offsets[b]);
    const T* dy = a.dy + b * a.dim;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int64_t c = lane + k * kWarp;
      if (c < a.dim) g[k] = g[k] + detail::mul_rn(dy[c], scale);
    }
  }
}

// Element e of a table stored as S, rounded back from its updated value v.
template <class S>
__device__ inline S store(detail::compute_t<S> v, bool stochastic, detail::RoundingWords& words, int64_t e) {
  return detail::narrow<S>(v, stochastic, [&] { return words(e); });
}

// One warp per run; lane l owns columns l, l + 32, ... and keeps their gradient and values in
// registers while the warp adds the row's squares (in a fixed tree order) for the accumulator.
template <class S, class T = detail::compute_t<S>>
__global__ void rowwise_adagrad_kernel(BagRuns<T> a, S* table, T* acc, detail::RowWiseAdagradCoeffs<T> coeffs,
                                       HalfRounding rounding) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  const int64_t runs = *a.num_runs;
  const bool in_registers = a.dim <= kRegisterRowWidth;
  detail::RoundingWords words(rounding);
  AISLE_WARP_STRIDE(r, runs) {
    const int64_t id = a.run_keys[r];
    S* row = table + id * a.dim;
    T g[kPerLane] = {}, p[kPerLane] = {};
    double sum_squares = 0.0;
    if (in_registers) {
      run_gradient_row(a, r, lane, g);
#pragma unroll
      for (int k = 0; k < kPerLane; ++k) {
        const int64_t c = lane + k * kWarp;
        if (c < a.dim) {
          p[k] = detail::widen(row[c]);
          const double d = detail::rowwise_decayed_grad(p[k], g[k], coeffs);
          sum_squares += detail::mul_rn(d, d);
        }
      }
    } else {
      for (int64_t c = lane; c < a.dim; c += kWarp) {
        const double d = detail::rowwise_decayed_grad(detail::widen(row[c]), run_gradient(a, r, c), coeffs);
        sum_squares += detail::mul_rn(d, d);
      }
    }
    sum_squares = warp_sum(sum_squares);
    T multiplier = 0;
    if (lane == 0) multiplier = detail::rowwise_accumulate(acc[id], sum_squares, a.dim, coeffs);
    multiplier = __shfl_sync(0xffffffffu, multiplier, 0);
    const auto updated = [&](T value, T grad) {
      return value - detail::mul_rn(multiplier, detail::rowwise_decayed_grad(value, grad, coeffs));
    };
    if (in_registers) {
#pragma unroll
      for (int k = 0; k < kPerLane; ++k) {
        const int64_t c = lane + k * kWarp;
        if (c < a.dim) row[c] = store<S>(updated(p[k], g[k]), rounding.stochastic, words, id * a.dim + c);
      }
    } else {
      for (int64_t c = lane; c < a.dim; c += kWarp)
        row[c] = store<S>(updated(detail::widen(row[c]), run_gradient(a, r, c)), rounding.stochastic, words,
                          id * a.dim + c);
    }
  }
}

// One warp per run; each element's update needs only its own gradient, so any width works (rows up
// to kRegisterRowWidth gather their gradient in one walk of the run).
template <class S, class T = detail::compute_t<S>>
__global__ void sparse_adam_kernel(BagRuns<T> a, S* table, T* m, T* v, detail::SparseAdamCoeffs<T> coeffs,
                                   HalfRounding rounding) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  const int64_t runs = *a.num_runs;
  detail::RoundingWords words(rounding);
  AISLE_WARP_STRIDE(r, runs) {
    const int64_t base = a.run_keys[r] * a.dim;
    const auto apply = [&](int64_t c, T grad) {
      T value = detail::widen(table[base + c]);
      detail::sparse_adam_apply(value, grad, m[base + c], v[base + c], coeffs);
      table[base + c] = store<S>(value, rounding.stochastic, words, base + c);
    };
    if (a.dim <= kRegisterRowWidth) {
      T g[kPerLane] = {};
      run_gradient_row(a, r, lane, g);
#pragma unroll
      for (int k = 0; k < kPerLane; ++k)
        if (lane + k * kWarp < a.dim) apply(lane + k * kWarp, g[k]);
    } else {
      for (int64_t c = lane; c < a.dim; c += kWarp) apply(c, run_gradient(a, r, c));
    }
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
                                        const ops::BagGradient& grad, const ops::RowWiseAdagradHyper& hyper,
                                        const HalfRounding& rounding) {
  const char* op = "embedding_bag_rowwise_adagrad_step";
  detail::dispatch_storage(table.dtype(), op, [&](auto tag) {
    using S = decltype(tag);
    using T = detail::compute_t<S>;
    fused_step<T>(op, table, grad, [&](const BagRuns<T>& a, unsigned blocks) {
      rowwise_adagrad_kernel<S><<<blocks, kWarpsPerBlock * kWarp, 0, stream_of(table)>>>(
          a, table.data<S>(), row_accumulator.data<T>(), detail::rowwise_adagrad_coeffs<T>(hyper), rounding);
    });
  });
}

void embedding_bag_sparse_adam_step(const Tensor& table, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                                    const ops::BagGradient& grad, const ops::SparseAdamHyper& hyper,
                                    const HalfRounding& rounding) {
  const char* op = "embedding_bag_sparse_adam_step";
  detail::dispatch_storage(table.dtype(), op, [&](auto tag) {
    using S = decltype(tag);
    using T = detail::compute_t<S>;
    fused_step<T>(op, table, grad, [&](const BagRuns<T>& a, unsigned blocks) {
      sparse_adam_kernel<S><<<blocks, kWarpsPerBlock * kWarp, 0, stream_of(table)>>>(
          a, table.data<S>(), exp_avg.data<T>(), exp_avg_sq.data<T>(), detail::sparse_adam_coeffs<T>(hyper),
          rounding);
    });
  });
}

}  // namespace aisle::cuda
