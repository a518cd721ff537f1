// Top-k of each row by radix selection, the fast path of sort_rows for small k. CPU twin and
// reference: topk_cpu in src/ops/sort.cpp; parity tests: SortCuda in tests/sort_test.cpp.
//
// Why: a full segmented sort of every row (sort_rows' general path) moves ~16 bytes per element
// several times and needs rows*n*24 bytes of scratch; full-ranking evaluation takes the top 20
// of 41k-item rows for thousands of users at once. Selection instead reads each row a few times,
// keeps everything else in shared memory, and needs no scratch.
//
// One block per row (several blocks per SM: keeping each row's keys in shared memory instead,
// one block per SM, measured slower on an H100, 2026-11-23). Keys are detail::directed_sort_key,
// ties go by position, and the result is element for element what the stable sort gives. A row's
// k candidates are found one of two ways, then ranked by (key, position) in step 3:
//   1a. Through one bin (32-bit keys): a histogram of the keys' top 12 bits (one pass over the
//       row) names the bin holding the k-th key. A second pass takes every key of a lower bin
//       (fewer than k) and copies the bin's keys into shared memory, where the missing ones are
//       picked by (key, position). Two passes over the row. Score rows spread their top keys over
//       many bins, so the k-th key's bin is small; a bin over kBinCapacity falls back to 1b.
//   1b. Byte by byte (64-bit keys, crowded bins): find the k-th key one byte at a time, most
//       significant first, with a 256-bin histogram of the keys that share the bytes found so
//       far (4 passes for 32-bit keys, 8 for 64-bit); then gather the keys below it and the first
//       `ties` keys equal to it in position order (a block-wide scan per tile).
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

// Path 1a: the first histogram's digit width and the most keys of one bin kept in shared memory.
// Ranking the bin costs O(bin^2 / threads), a few microseconds per row at the capacity.
constexpr int kBinBits = 12;
constexpr int kBins = 1 << kBinBits;
constexpr int kBinCapacity = 2048;
static_assert(kBins % kSelectThreads == 0, "each thread scans a whole number of bins");

using BlockScan = cub::BlockScan<int, kSelectThreads>;

// A block's shared memory while it works on one row (38 KB for 32-bit keys, 7 KB for 64-bit).
template <class K>
struct SelectShared {
  static constexpr bool kThroughBin = sizeof(K) == 4;
  int hist[kThroughBin ? kBins : 256];
  K bin_key[kThroughBin ? kBinCapacity : 1];
  int bin_pos[kThroughBin ? kBinCapacity : 1];
  K cand_key[kTopkSelectMaxK];
  int64_t cand_pos[kTopkSelectMaxK];
  K found_prefix;
  int found_rank, found_digit, found_below, found_count;
  int less_taken, ties_seen, bin_taken;
  typename BlockScan::TempStorage scan;
};

template <class K>
__device__ inline int top_digit(K key) {
  return static_cast<int>(key >> (sizeof(K) * 8 - kBinBits));
}

// Calls f(key, i) for every position i of the row, tile by tile with kLoadsInFlight loads per
// thread issued before the first call (memory-level parallelism). Positions past the row's end
// are passed too (i >= n, key 0), so that warp intrinsics in f see every lane.
template <class T, class F>
__device__ inline void for_each_key(const T* row, int64_t n, bool descending, F&& f) {
  using K = detail::sort_key_t<T>;
  const int64_t stride = blockDim.x;
  for (int64_t base = 0; base < n; base += kLoadsInFlight * stride) {
    K keys[kLoadsInFlight];
#pragma unroll
    for (int u = 0; u < kLoadsInFlight; ++u) {
      const int64_t i = base + u * stride + threadIdx.x;
      keys[u] = i < n ? detail::directed_sort_key(row[i], descending) : K(0);
    }
#pragma unroll
    for (int u = 0; u < kLoadsInFlight; ++u) f(keys[u], base + u * stride + threadIdx.x);
  }
}

// Path 1a. Returns false (the same in every thread) when the k-th key's bin holds more keys than
// shared memory takes; the candidates are then untouched.
template <class T, class K>
__device__ bool select_through_bin(const T* row, int64_t n, int k, bool descending, SelectShared<K>& sh) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  for (int b = threadIdx.x; b < kBins; b += blockDim.x) sh.hist[b] = 0;
  __syncthreads();
  for_each_key(row, n, descending, [&](K key, int64_t i) {
    const int digit = i < n ? top_digit(key) : -1;
    // Scores share their leading bits, so most lanes hit one bin: one atomic per distinct digit
    // in the warp instead of one per lane.
    const unsigned same = __match_any_sync(0xffffffffu, digit);
    if (digit >= 0 && lane == __ffs(same) - 1) atomicAdd(&sh.hist[digit], __popc(same));
  });
  __syncthreads();
  // The bin of the k-th key is the first whose running count reaches k.
  constexpr int kPerThread = kBins / kSelectThreads;
  int count[kPerThread], before[kPerThread];
#pragma unroll
  for (int j = 0; j < kPerThread; ++j) count[j] = sh.hist[threadIdx.x * kPerThread + j];
  BlockScan(sh.scan).ExclusiveSum(count, before);
#pragma unroll
  for (int j = 0; j < kPerThread; ++j)
    if (before[j] < k && k <= before[j] + count[j]) {
      sh.found_digit = static_cast<int>(threadIdx.x) * kPerThread + j;
      sh.found_below = before[j];
      sh.found_count = count[j];
    }
  if (threadIdx.x == 0) sh.less_taken = sh.bin_taken = 0;
  __syncthreads();
  const int digit = sh.found_digit, below = sh.found_below, in_bin = sh.found_count;
  if (in_bin > kBinCapacity) return false;
  // Every key of a lower bin is a candidate (`below` < k of them, in any order: step 3 orders
  // them); the bin's keys go to shared memory.
  for_each_key(row, n, descending, [&](K key, int64_t i) {
    if (i >= n) return;
    const int d = top_digit(key);
    if (d < digit) {
      const int slot = atomicAdd(&sh.less_taken, 1);
      sh.cand_key[slot] = key;
      sh.cand_pos[slot] = i;
    } else if (d == digit) {
      const int slot = atomicAdd(&sh.bin_taken, 1);
      sh.bin_key[slot] = key;
      sh.bin_pos[slot] = static_cast<int>(i);
    }
  });
  __syncthreads();
  // The bin's first k - below keys by (key, position) complete the candidates: a key's place is
  // the number of the bin's keys before it.
  const int wanted = k - below;
  for (int e = threadIdx.x; e < in_bin; e += blockDim.x) {
    const K key = sh.bin_key[e];
    const int pos = sh.bin_pos[e];
    int place = 0;
    for (int j = 0; j < in_bin && place < wanted; ++j)
      place += sh.bin_key[j] < key || (sh.bin_key[j] == key && sh.bin_pos[j] < pos);
    if (place < wanted) {
      sh.cand_key[below + place] = key;
      sh.cand_pos[below + place] = pos;
    }
  }
  __syncthreads();
  return true;
}

// Path 1b: the k candidates found byte by byte.
template <class T, class K>
__device__ void select_by_bytes(const T* row, int64_t n, int k, bool descending, SelectShared<K>& sh) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int64_t stride = blockDim.x;
  // The threshold key: `prefix` holds the bytes found so far, `rank` (1-based) is the wanted
  // position among the keys that share them.
  K prefix = 0, mask = 0;
  int rank = k;
  for (int shift = static_cast<int>(sizeof(K)) * 8 - 8; shift >= 0; shift -= 8) {
    for (int b = threadIdx.x; b < 256; b += blockDim.x) sh.hist[b] = 0;
    __syncthreads();
    for_each_key(row, n, descending, [&](K key, int64_t i) {
      int digit = -1;
      if (i < n && (key & mask) == prefix) digit = static_cast<int>((key >> shift) & 0xFF);
      // After the first pass few keys still share the prefix: skip warps with none of them.
      if (!__any_sync(0xffffffffu, digit >= 0)) return;
      const unsigned same = __match_any_sync(0xffffffffu, digit);
      if (digit >= 0 && lane == __ffs(same) - 1) atomicAdd(&sh.hist[digit], __popc(same));
    });
    __syncthreads();
    if (threadIdx.x == 0) {
      int digit = 0, below = 0;
      while (below + sh.hist[digit] < rank) below += sh.hist[digit++];
      sh.found_prefix = prefix | (K(digit) << shift);
      sh.found_rank = rank - below;
    }
    __syncthreads();
    prefix = sh.found_prefix;
    rank = sh.found_rank;
    mask |= K(0xFF) << shift;
  }
  // prefix is now the k-th key; `rank` keys equal to it belong to the top k (the first ones by
  // position), and the k - rank keys below it all do.
  const int ties_wanted = rank;
  if (threadIdx.x == 0) sh.less_taken = sh.ties_seen = 0;
  __syncthreads();
  for (int64_t base = 0; base < n; base += stride) {
    const int64_t i = base + threadIdx.x;
    K key = 0;
    int tie = 0;
    if (i < n) {
      key = detail::directed_sort_key(row[i], descending);
      if (key < prefix) {
        const int slot = atomicAdd(&sh.less_taken, 1);  // order is restored by step 3
        sh.cand_key[slot] = key;
        sh.cand_pos[slot] = i;
      }
      tie = key == prefix;
    }
    // Most tiles hold no tie (and once the wanted ties are taken, none matters): skip the scan.
    const int before = sh.ties_seen;
    if (__syncthreads_count(tie) == 0 || before >= ties_wanted) continue;
    int tie_rank = 0, tile_ties = 0;
    BlockScan(sh.scan).ExclusiveSum(tie, tie_rank, tile_ties);
    if (tie && before + tie_rank < ties_wanted) {
      const int slot = k - ties_wanted + before + tie_rank;
      sh.cand_key[slot] = key;
      sh.cand_pos[slot] = i;
    }
    __syncthreads();
    if (threadIdx.x == 0) sh.ties_seen = before + tile_ties;
    __syncthreads();
  }
  __syncthreads();
}

template <class T>
__global__ void __launch_bounds__(kSelectThreads)
    topk_select_kernel(const T* x, int64_t rows, int64_t n, int k, bool descending, T* values, int64_t* indices) {
  using K = detail::sort_key_t<T>;
  __shared__ SelectShared<K> sh;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = x + r * n;
    bool found = false;
    if constexpr (SelectShared<K>::kThroughBin) found = select_through_bin<T>(row, n, k, descending, sh);
    if (!found) select_by_bytes<T>(row, n, k, descending, sh);
    // 3. Each candidate's place is the number of candidates before it in (key, position) order.
    for (int t = threadIdx.x; t < k; t += blockDim.x) {
      const K key = sh.cand_key[t];
      const int64_t pos = sh.cand_pos[t];
      int place = 0;
      for (int j = 0; j < k; ++j)
        place += sh.cand_key[j] < key || (sh.cand_key[j] == key && sh.cand_pos[j] < pos);
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
