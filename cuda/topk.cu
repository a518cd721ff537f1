// Top-k of each row by radix selection, the fast path of sort_rows for small k. CPU twin and
// reference: topk_cpu in src/ops/sort.cpp; parity tests: SortCuda in tests/sort_test.cpp.
//
// Why: a full segmented sort of every row (sort_rows' general path) moves ~16 bytes per element
// several times and needs rows*n*24 bytes of scratch; full-ranking evaluation takes the top 20
// of 41k-item rows for thousands of users at once. Selection instead reads each row once per key
// byte plus once to gather, keeps everything else in shared memory, and needs no scratch.
//
// One block per row (several blocks per SM: keeping each row's keys in shared memory instead,
// one block per SM, measured slower on an H100, 2026-11-23). In the family's order (detail::directed_sort_key, ties by position):
//   1. find the k-th smallest key byte by byte, most significant first: a 256-bin histogram of
//      the keys that share the bytes found so far, and the bin where the running count reaches
//      the wanted rank (4 passes for 32-bit keys, 8 for 64-bit);
//   2. gather the keys below that threshold key (there are k - ties of them, in any order) and
//      the first `ties` keys equal to it in position order (a block-wide scan per tile);
//   3. rank the k candidates by (key, position) and write them in that order.
// The result is element for element what the stable sort gives.
#include <cub/block/block_scan.cuh>

#include "cuda/common.cuh"
#include "cuda/topk.hpp"
#include "src/core/dispatch.hpp"
#include "src/ops/sort_functors.hpp"

namespace aisle::cuda {

namespace {

constexpr int kSelectThreads = 512;  // a multiple of 32: every lane of a warp runs each tile

// Loads of a row in flight per thread before the first is used, for memory-level parallelism.
constexpr int kLoadsInFlight = 8;

template <class T>
__global__ void __launch_bounds__(kSelectThreads)
    topk_select_kernel(const T* x, int64_t rows, int64_t n, int k, bool descending, T* values, int64_t* indices) {
  using K = detail::sort_key_t<T>;
  using BlockScan = cub::BlockScan<int, kSelectThreads>;
  __shared__ int hist[256];
  __shared__ K found_prefix;
  __shared__ int found_rank;
  __shared__ int less_taken, ties_seen;
  __shared__ K cand_key[kTopkSelectMaxK];
  __shared__ int64_t cand_pos[kTopkSelectMaxK];
  __shared__ typename BlockScan::TempStorage scan_storage;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int64_t stride = blockDim.x;

  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = x + r * n;
    // 1. The threshold key: `prefix` holds the bytes found so far, `rank` (1-based) is the wanted
    //    position among the keys that share them.
    K prefix = 0, mask = 0;
    int rank = k;
    for (int shift = static_cast<int>(sizeof(K)) * 8 - 8; shift >= 0; shift -= 8) {
      for (int b = threadIdx.x; b < 256; b += blockDim.x) hist[b] = 0;
      __syncthreads();
      for (int64_t base = 0; base < n; base += kLoadsInFlight * stride) {
        K keys[kLoadsInFlight] = {};
#pragma unroll
        for (int u = 0; u < kLoadsInFlight; ++u) {  // all loads first, then the histogram
          const int64_t i = base + u * stride + threadIdx.x;
          if (i < n) keys[u] = detail::directed_sort_key(row[i], descending);
        }
#pragma unroll
        for (int u = 0; u < kLoadsInFlight; ++u) {
          const int64_t i = base + u * stride + threadIdx.x;
          int digit = -1;
          if (i < n && (keys[u] & mask) == prefix) digit = static_cast<int>((keys[u] >> shift) & 0xFF);
          // After the first pass few keys still share the prefix: skip warps with none of them.
          if (!__any_sync(0xffffffffu, digit >= 0)) continue;
          // Scores share their leading bytes, so most lanes hit one bin: one atomic per distinct
          // digit in the warp instead of one per lane.
          const unsigned same = __match_any_sync(0xffffffffu, digit);
          if (digit >= 0 && lane == __ffs(same) - 1) atomicAdd(&hist[digit], __popc(same));
        }
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        int digit = 0, below = 0;
        while (below + hist[digit] < rank) below += hist[digit++];
        found_prefix = prefix | (K(digit) << shift);
        found_rank = rank - below;
      }
      __syncthreads();
      prefix = found_prefix;
      rank = found_rank;
      mask |= K(0xFF) << shift;
    }
    // 2. prefix is now the k-th key; `rank` keys equal to it belong to the top k (the first ones
    //    by position), and the k - rank keys below it all do.
    const int ties_wanted = rank;
    if (threadIdx.x == 0) less_taken = ties_seen = 0;
    __syncthreads();
    for (int64_t base = 0; base < n; base += stride) {
      const int64_t i = base + threadIdx.x;
      K key = 0;
      int tie = 0;
      if (i < n) {
        key = detail::directed_sort_key(row[i], descending);
        if (key < prefix) {
          const int slot = atomicAdd(&less_taken, 1);  // order is restored by the ranking below
          cand_key[slot] = key;
          cand_pos[slot] = i;
        }
        tie = key == prefix;
      }
      // Most tiles hold no tie (and once the wanted ties are taken, none matters): skip the scan.
      const int before = ties_seen;
      if (__syncthreads_count(tie) == 0 || before >= ties_wanted) continue;
      int tie_rank = 0, tile_ties = 0;
      BlockScan(scan_storage).ExclusiveSum(tie, tie_rank, tile_ties);
      if (tie && before + tie_rank < ties_wanted) {
        const int slot = k - ties_wanted + before + tie_rank;
        cand_key[slot] = key;
        cand_pos[slot] = i;
      }
      __syncthreads();
      if (threadIdx.x == 0) ties_seen = before + tile_ties;
      __syncthreads();
    }
    __syncthreads();
    // 3. Each candidate's place is the number of candidates before it in (key, position) order.
    for (int t = threadIdx.x; t < k; t += blockDim.x) {
      const K key = cand_key[t];
      const int64_t pos = cand_pos[t];
      int place = 0;
      for (int j = 0; j < k; ++j)
        place += cand_key[j] < key || (cand_key[j] == key && cand_pos[j] < pos);
      values[r * k + place] = row[pos];
      indices[r * k + place] = pos;
    }
    __syncthreads();  // the candidates and counters are reused by the next row
  }
}

}  // namespace

void topk_select(const Tensor& x, int64_t rows, int64_t n, int64_t k, bool descending, const Tensor& values,
                 const Tensor& indices) {
  AISLE_CHECK(k >= 1 && k <= kTopkSelectMaxK && k <= n && n <= INT32_MAX, "topk_select: k = ", k,
              " or n = ", n, " is outside the selection path's range");
  if (rows == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(rows, 65535));
  detail::dispatch_sortable(x.dtype(), "topk", [&](auto tag) {
    using T = decltype(tag);
    topk_select_kernel<T><<<blocks, kSelectThreads, 0, stream_of(x)>>>(
        x.data<T>(), rows, n, static_cast<int>(k), descending, values.data<T>(), indices.data<int64_t>());
  });
  check_launch("topk");
}

}  // namespace aisle::cuda
