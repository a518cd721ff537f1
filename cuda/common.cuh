#pragma once
// Shared launch helpers for the kernels in cuda/. Included only by .cu files.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "aisle/tensor/tensor.hpp"
#include "src/device/cuda_context.hpp"

namespace aisle::cuda {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items: enough to fill any current GPU, never more than
// the work needs.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 8192));
}

// Makes the tensor's device current and returns its stream.
inline cudaStream_t stream_of(const Tensor& t) {
  use_device(t.device().index);
  return stream(t.device().index);
}

// Turns a failed launch into aisle::Error naming the op.
inline void check_launch(const char* op) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    AISLE_FAIL(op, ": CUDA kernel launch failed: ", cudaGetErrorName(status), " (",
               cudaGetErrorString(status), ")");
}

// Records the first out-of-range index a kernel meets (see raise_index_error).
__device__ inline void report_bad_index(int64_t* slot, int64_t index) {
  if (atomicCAS(reinterpret_cast<unsigned long long*>(slot), 0ull, 1ull) == 0ull) slot[1] = index;
}

}  // namespace aisle::cuda

#define AISLE_GRID_STRIDE(i, n)                                                       \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

namespace aisle::cuda {

// The first pass of an op whose CPU twin checks every id before it writes anything: reports an id
// outside [0, bound) to the error slot; the writing kernel that follows returns at once when
// index_error_seen(), and raise_index_error() throws after it, so a bad id leaves the outputs as
// they were on both devices.
template <class I>
__global__ void find_bad_index_kernel(const I* ids, int64_t n, int64_t bound, int64_t* bad) {
  AISLE_GRID_STRIDE(j, n) {
    const int64_t t = static_cast<int64_t>(ids[j]);
    if (t < 0 || t >= bound) report_bad_index(bad, t);
  }
}

template <class I>
void find_bad_indices(const I* ids, int64_t n, int64_t bound, int64_t* bad, cudaStream_t stream) {
  if (n > 0) find_bad_index_kernel<I><<<grid_for(n), kThreads, 0, stream>>>(ids, n, bound, bad);
}

// Read at the start of a kernel launched after find_bad_indices on the same stream.
__device__ inline bool index_error_seen(const int64_t* slot) { return *static_cast<const volatile int64_t*>(slot) != 0; }

}  // namespace aisle::cuda
