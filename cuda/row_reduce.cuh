#pragma once
// Row-wise kernels (softmax, layer_norm) over a [rows, d] matrix: a warp per row when rows are
// short, a whole block per row when they are long. RowTeam hides which, so one kernel body
// serves both. Included only by .cu files.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "cuda/common.cuh"
#include "src/ops/softmax_functors.hpp"

namespace aisle::cuda {

constexpr int64_t kWarpRowLimit = 1024;  // rows up to this length get a warp, longer ones a block
constexpr int kRowBlockThreads = 512;

struct SumOp {
  __device__ double operator()(double a, double b) const { return a + b; }
};
struct MaxOp {  // NaN wins, so a row holding NaN reduces to NaN on both backends
  __device__ double operator()(double a, double b) const { return detail::nan_max(a, b); }
};

// Combines v over a warp; every lane gets the same bits (the butterfly pairs the same two
// operands on both partners, and SumOp/MaxOp are commutative).
template <class Op>
__device__ inline double warp_all_reduce(double v, Op op) {
  for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

template <bool kBlock>
struct RowTeam {
  int64_t first_row, row_step;
  int lane, size;  // this thread's position in its row's team, and the team size

  __device__ RowTeam() {
    if constexpr (kBlock) {
      first_row = blockIdx.x;
      row_step = gridDim.x;
      lane = static_cast<int>(threadIdx.x);
      size = static_cast<int>(blockDim.x);
    } else {
      first_row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
      row_step = static_cast<int64_t>(gridDim.x) * blockDim.x / 32;
      lane = static_cast<int>(threadIdx.x % 32);
      size = 32;
    }
  }

  // Combines v over the team and returns the result to every member, in a fixed order (warp
  // butterflies, then the warps' results in warp order), so runs are deterministic. Every member
  // must call it. `scratch` is 32 doubles of shared memory (unused by warp teams).
  template <class Op>
  __device__ double all_reduce(double v, double* scratch, Op op) const {
    v = warp_all_reduce(v, op);
    if constexpr (kBlock) {
      const int warp = threadIdx.x / 32, warps = blockDim.x / 32;
      __syncthreads();  // everyone has read the previous reduction's scratch
      if (threadIdx.x % 32 == 0) scratch[warp] = v;
      __syncthreads();
      v = scratch[0];
      for (int w = 1; w < warps; ++w) v = op(v, scratch[w]);
    }
    return v;
  }
};

// Launches kernel<false> (warp per row) or kernel<true> (block per row) over `rows` rows of
// length d: `launch(grid, threads, std::bool_constant<kBlock>{})`.
template <class Launch>
void launch_rows(int64_t rows, int64_t d, Launch&& launch) {
  if (d <= kWarpRowLimit) {
    const int64_t blocks = (rows * 32 + kThreads - 1) / kThreads;
    launch(static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 8192)), kThreads, std::false_type{});
  } else {
    launch(static_cast<unsigned>(std::clamp<int64_t>(rows, 1, 8192)), kRowBlockThreads, std::true_type{});
  }
}

}  // namespace aisle::cuda
