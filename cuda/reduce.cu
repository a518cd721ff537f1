// Reduce family on CUDA. CPU twin and reference: src/ops/reduce.cpp.
// x is viewed as [outer, len, inner]. Three launch shapes, chosen by the view:
//  - thread per output when `inner` is wide (neighbouring threads read neighbouring addresses)
//    or rows are short;
//  - warp per output for many short-ish contiguous rows;
//  - block per output for a few long rows (sum_all, losses).
// Sums accumulate in double, like the CPU kernel; the order is fixed by the launch shape, so a
// given shape always reduces the same way (deterministic run to run).
#include <cfloat>

#include "cuda/common.cuh"
#include "cuda/reduce.hpp"
#include "src/core/dispatch.hpp"

namespace aisle::cuda {

namespace {

template <class T>
struct MaxAcc {
  T value;
  int64_t index;
};

template <class T>
__device__ inline MaxAcc<T> max_combine(MaxAcc<T> a, MaxAcc<T> b) {
  // NaN wins; among equal values (or two NaNs) the smaller index wins.
  const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
  if (a_nan || b_nan) {
    if (a_nan && b_nan) return a.index <= b.index ? a : b;
    return a_nan ? a : b;
  }
  if (a.value > b.value) return a;
  if (b.value > a.value) return b;
  return a.index <= b.index ? a : b;
}

template <class T>
__device__ inline T lowest() {
  return -static_cast<T>(INFINITY);
}

template <class T>
__device__ inline void finish(ReduceMode mode, double acc, int64_t len, T* out) {
  if (mode == ReduceMode::mean) acc = len ? acc / static_cast<double>(len) : static_cast<double>(NAN);
  *out = static_cast<T>(acc);
}

template <class T>
__global__ void reduce_thread_kernel(ReduceMode mode, const T* x, int64_t outer, int64_t len,
                                     int64_t inner, T* out, int64_t* indices) {
  AISLE_GRID_STRIDE(o, outer * inner) {
    const T* base = x + (o / inner) * len * inner + o % inner;
    if (mode == ReduceMode::max) {
      MaxAcc<T> best{lowest<T>(), 0};
      for (int64_t k = 0; k < len; ++k) best = max_combine(best, MaxAcc<T>{base[k * inner], k});
      out[o] = best.value;
      indices[o] = best.index;
    } else {
      double acc = 0;
      for (int64_t k = 0; k < len; ++k) acc += static_cast<double>(base[k * inner]);
      finish(mode, acc, len, out + o);
    }
  }
}

template <class T>
__device__ inline MaxAcc<T> warp_max(MaxAcc<T> v) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    MaxAcc<T> other{__shfl_down_sync(0xffffffffu, v.value, offset),
                    __shfl_down_sync(0xffffffffu, v.index, offset)};
    v = max_combine(v, other);
  }
  return v;
}

__device__ inline double warp_sum(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// One warp per output (inner == 1 only).
template <class T>
__global__ void reduce_warp_kernel(ReduceMode mode, const T* x, int64_t outputs, int64_t len,
                                   T* out, int64_t* indices) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
  for (int64_t o = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32; o < outputs;
       o += warps) {
    const T* row = x + o * len;
    if (mode == ReduceMode::max) {
      MaxAcc<T> best{lowest<T>(), 0};
      for (int64_t k = lane; k < len; k += 32) best = max_combine(best, MaxAcc<T>{row[k], k});
      best = warp_max(best);
      if (lane == 0) {
        out[o] = best.value;
        indices[o] = best.index;
      }
    } else {
      double acc = 0;
      for (int64_t k = lane; k < len; k += 32) acc += static_cast<double>(row[k]);
      acc = warp_sum(acc);
      if (lane == 0) finish(mode, acc, len, out + o);
    }
  }
}

// One block per output, any inner.
template <class T>
__global__ void reduce_block_kernel(ReduceMode mode, const T* x, int64_t outer, int64_t len,
                                    int64_t inner, T* out, int64_t* indices) {
  __shared__ double sums[32];
  __shared__ T best_values[32];
  __shared__ int64_t best_indices[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  for (int64_t o = blockIdx.x; o < outer * inner; o += gridDim.x) {
    const T* base = x + (o / inner) * len * inner + o % inner;
    if (mode == ReduceMode::max) {
      MaxAcc<T> best{lowest<T>(), 0};
      for (int64_t k = threadIdx.x; k < len; k += blockDim.x)
        best = max_combine(best, MaxAcc<T>{base[k * inner], k});
      best = warp_max(best);
      if (lane == 0) {
        best_values[warp] = best.value;
        best_indices[warp] = best.index;
      }
      __syncthreads();
      if (warp == 0) {
        MaxAcc<T> v = lane < warps ? MaxAcc<T>{best_values[lane], best_indices[lane]}
                                   : MaxAcc<T>{lowest<T>(), len};
        v = warp_max(v);
        if (lane == 0) {
          out[o] = v.value;
          indices[o] = v.index;
        }
      }
    } else {
      double acc = 0;
      for (int64_t k = threadIdx.x; k < len; k += blockDim.x) acc += static_cast<double>(base[k * inner]);
      acc = warp_sum(acc);
      if (lane == 0) sums[warp] = acc;
      __syncthreads();
      if (warp == 0) {
        double v = lane < warps ? sums[lane] : 0.0;
        v = warp_sum(v);
        if (lane == 0) finish(mode, v, len, out + o);
      }
    }
    __syncthreads();
  }
}

template <class T>
__global__ void max_backward_kernel(const int64_t* indices, const T* dy, T* dx, int64_t outputs,
                                    int64_t len, int64_t inner) {
  AISLE_GRID_STRIDE(o, outputs) dx[((o / inner) * len + indices[o]) * inner + o % inner] = dy[o];
}

}  // namespace

void reduce(ReduceMode mode, const Tensor& x, int64_t outer, int64_t len, int64_t inner,
            const Tensor& out, const Tensor& indices) {
  detail::dispatch_float(x.dtype(), "reduce", [&](auto tag) {
    using T = decltype(tag);
    cudaStream_t s = stream_of(x);
    const int64_t outputs = outer * inner;
    int64_t* pi = indices.defined() ? indices.data<int64_t>() : nullptr;
    if (inner >= 32 || len < 32) {
      reduce_thread_kernel<T><<<grid_for(outputs), kThreads, 0, s>>>(mode, x.data<T>(), outer, len,
                                                                    inner, out.data<T>(), pi);
    } else if (inner == 1 && outputs >= 1024) {
      reduce_warp_kernel<T><<<grid_for(outputs * 32), kThreads, 0, s>>>(mode, x.data<T>(), outputs,
                                                                       len, out.data<T>(), pi);
    } else {
      const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(outputs, 65535));
      reduce_block_kernel<T><<<blocks, 1024, 0, s>>>(mode, x.data<T>(), outer, len, inner,
                                                     out.data<T>(), pi);
    }
    check_launch("reduce");
  });
}

void max_backward(const Tensor& indices, const Tensor& dy, const Tensor& dx, int64_t outer,
                  int64_t len, int64_t inner) {
  detail::dispatch_float(dy.dtype(), "max_backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t outputs = outer * inner;
    max_backward_kernel<T><<<grid_for(outputs), kThreads, 0, stream_of(dy)>>>(
        indices.data<int64_t>(), dy.data<T>(), dx.data<T>(), outputs, len, inner);
    check_launch("max_backward");
  });
}

}  // namespace aisle::cuda
