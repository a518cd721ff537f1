// The mask_items family on CUDA. CPU twin and reference: src/ops/mask_items.cpp; both rank with
// src/ops/mask_items_functors.hpp. No floating-point accumulation: ranks are integer counts, so
// the two backends agree exactly whatever the reduction order.
#include <algorithm>

#include "cuda/common.cuh"
#include "cuda/mask_items.hpp"
#include "cuda/segment_search.cuh"
#include "src/core/dispatch.hpp"
#include "src/ops/mask_items_functors.hpp"

namespace aisle::cuda {

namespace {

// Listed items ranked per pass over a row: each thread keeps 2 * kChunk counters in registers, so
// a row is read from memory once per kChunk of its listed items (evaluation lists average a few).
constexpr int kChunk = 16;
constexpr int kRankThreads = 256;
constexpr int kRankWarps = kRankThreads / kWarp;

// One thread per listed entry; duplicates write the same value, so their races are benign. Runs
// after find_bad_indices: with a bad item nothing is masked, as on the CPU.
template <class T, class I>
__global__ void mask_kernel(T* scores, const int64_t* offsets, const I* items, int64_t rows, int64_t n,
                            int64_t nnz, T value, const int64_t* bad) {
  if (index_error_seen(bad)) return;
  AISLE_GRID_STRIDE(j, nnz) {
    const int64_t t = static_cast<int64_t>(items[j]);
    if (t >= 0 && t < n) scores[segment_of(offsets, rows, j) * n + t] = value;
  }
}

// Every thread counts, for the first C targets, the row's scores above and equal to each; the
// block's counts land in partial[warp][k] (above) and partial[warp][kChunk + k] (equal). Loads
// are issued kRankLoads at a time so a thread keeps several in flight.
constexpr int kRankLoads = 4;

template <int C, class T>
__device__ inline void count_chunk(const T* s, int64_t n, const T* target_score,
                                   unsigned long long (*partial)[2 * kChunk]) {
  const int lane = static_cast<int>(threadIdx.x % kWarp), warp = static_cast<int>(threadIdx.x / kWarp);
  T target[C];
  unsigned above[C], equal[C];
#pragma unroll
  for (int k = 0; k < C; ++k) {
    target[k] = target_score[k];
    above[k] = 0;
    equal[k] = 0;
  }
  const int64_t stride = blockDim.x;
  for (int64_t base = threadIdx.x; base < n; base += kRankLoads * stride) {
    T v[kRankLoads];
#pragma unroll
    for (int u = 0; u < kRankLoads; ++u) v[u] = base + u * stride < n ? s[base + u * stride] : T(0);
#pragma unroll
    for (int u = 0; u < kRankLoads; ++u) {
      if (base + u * stride >= n) break;
#pragma unroll
      for (int k = 0; k < C; ++k) {
        above[k] += detail::ranks_above(v[u], target[k]);
        equal[k] += detail::ranks_equal(v[u], target[k]);
      }
    }
  }
#pragma unroll
  for (int k = 0; k < C; ++k) {
    const unsigned long long a = warp_sum(static_cast<unsigned long long>(above[k]));
    const unsigned long long e = warp_sum(static_cast<unsigned long long>(equal[k]));
    if (lane == 0) {
      partial[warp][k] = a;
      partial[warp][kChunk + k] = e;
    }
  }
}

// One block per row (grid-stride over rows). For each chunk of the row's listed items the block
// scans the row once, every thread counting, for each listed item, the scores above and equal to
// it; the counts are summed over the block (integers: exact in any order), then one thread per
// listed item resolves the ties among the listed items with a pass over the row's list.
template <class T, class I>
__global__ void __launch_bounds__(kRankThreads)
rank_kernel(const T* scores, const int64_t* offsets, const I* items, int64_t rows, int64_t n, int64_t* out,
            int64_t* bad) {
  __shared__ T target_score[kChunk];
  __shared__ unsigned long long partial[kRankWarps][2 * kChunk];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* s = scores + row * n;
    const int64_t j0 = offsets[row], j1 = offsets[row + 1];
    for (int64_t c0 = j0; c0 < j1; c0 += kChunk) {
      const int m = static_cast<int>(min(static_cast<int64_t>(kChunk), j1 - c0));
      if (threadIdx.x < kChunk) {
        T v = T(0);  // unused slots and bad items rank a dummy target whose counts are dropped
        if (static_cast<int>(threadIdx.x) < m) {
          const int64_t t = static_cast<int64_t>(items[c0 + threadIdx.x]);
          if (t >= 0 && t < n) v = s[t];
          else report_bad_index(bad, t);
        }
        target_score[threadIdx.x] = v;
      }
      __syncthreads();
      // Rows list a few items on average: count against the smallest chunk width that holds them.
      if (m <= 4) count_chunk<4>(s, n, target_score, partial);
      else if (m <= 8) count_chunk<8>(s, n, target_score, partial);
      else count_chunk<kChunk>(s, n, target_score, partial);
      __syncthreads();
      if (static_cast<int>(threadIdx.x) < m) {
        const int k = static_cast<int>(threadIdx.x);
        const int64_t j = c0 + k, t = static_cast<int64_t>(items[j]);
        int64_t rank = 0;
        if (t >= 0 && t < n) {
          int64_t a = 0, e = 0;
          for (int w = 0; w < kRankWarps; ++w) {
            a += static_cast<int64_t>(partial[w][k]);
            e += static_cast<int64_t>(partial[w][kChunk + k]);
          }
          int64_t equal_listed = 0, listed_lower = 0;
          for (int64_t q = j0; q < j1; ++q) {
            const int64_t other = static_cast<int64_t>(items[q]);
            if (other < 0 || other >= n || !detail::ranks_equal(s[other], target_score[k])) continue;
            ++equal_listed;
            listed_lower += other < t;
          }
          rank = detail::listed_rank(a, e, equal_listed, listed_lower);
        }
        out[j] = rank;
      }
      __syncthreads();  // target_score and partial are rewritten by the next chunk
    }
  }
}

}  // namespace

void mask_items(const Tensor& scores, const Tensor& offsets, const Tensor& items, double value) {
  const int64_t rows = scores.size(0), n = scores.size(1), nnz = items.numel();
  const int dev = scores.device().index;
  detail::dispatch_float(scores.dtype(), "mask_items", [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(items.dtype(), "mask_items", [&](auto itag) {
      using I = decltype(itag);
      find_bad_indices(items.data<I>(), nnz, n, index_error_slot(dev), stream_of(scores));
      mask_kernel<T, I><<<grid_for(nnz), kThreads, 0, stream_of(scores)>>>(
          scores.data<T>(), offsets.data<int64_t>(), items.data<I>(), rows, n, nnz, static_cast<T>(value),
          index_error_slot(dev));
    });
  });
  check_launch("mask_items");
  raise_index_error(dev, "mask_items", n);
}

void rank_items(const Tensor& scores, const Tensor& offsets, const Tensor& items, const Tensor& out) {
  const int64_t rows = scores.size(0), n = scores.size(1);
  const int dev = scores.device().index;
  const unsigned blocks = static_cast<unsigned>(std::clamp<int64_t>(rows, 1, 1 << 16));
  detail::dispatch_float(scores.dtype(), "rank_items", [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(items.dtype(), "rank_items", [&](auto itag) {
      using I = decltype(itag);
      rank_kernel<T, I><<<blocks, kRankThreads, 0, stream_of(scores)>>>(
          scores.data<T>(), offsets.data<int64_t>(), items.data<I>(), rows, n, out.data<int64_t>(),
          index_error_slot(dev));
    });
  });
  check_launch("rank_items");
  raise_index_error(dev, "rank_items", n);
}

}  // namespace aisle::cuda
