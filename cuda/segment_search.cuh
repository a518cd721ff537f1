#pragma once
// Device helper shared by the CSR-shaped kernels (embedding bags, spmm): which segment of a CSR
// offsets array an element belongs to. Included only by .cu files.
#include <cstdint>

namespace aisle::cuda {

// The segment s with offsets[s] <= i < offsets[s + 1], for offsets with segments + 1 non-decreasing
// entries and 0 <= i < offsets[segments]. Empty segments share their offset with the next one, so
// the last s with offsets[s] <= i is the non-empty segment that holds i.
__device__ inline int64_t segment_of(const int64_t* offsets, int64_t segments, int64_t i) {
  int64_t lo = 0, hi = segments;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (offsets[mid] <= i) lo = mid;
    else hi = mid;
  }
  return lo;
}

// Sum over the 32 lanes of a warp, in a fixed tree order (deterministic); every lane must call it.
template <class T>
__device__ inline T warp_sum(T value) {
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  return value;  // complete in lane 0
}

constexpr int kWarp = 32;

// A grid-stride loop in which each warp takes one item at a time (items shared by the warp's
// lanes). blockDim.x must be a multiple of 32 so that the loop condition is uniform in a warp.
#define AISLE_WARP_STRIDE(item, n)                                                              \
  for (int64_t item = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;  \
       item < (n); item += static_cast<int64_t>(gridDim.x) * blockDim.x / kWarp)

}  // namespace aisle::cuda
