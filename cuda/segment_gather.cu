// The shared segmented gathers on CUDA. CPU twin and reference: src/ops/segment_gather.cpp; both
// evaluate the formulas in src/ops/segment_gather_functors.hpp.
// The gather-sum gives each segment one warp (lanes across the width) summing its entries in
// entry order with unfused multiply-adds: the CPU's order and rounding, so the results match it
// bit for bit. (Long segments are not split across warps; a segment costs |segment| * d / 32 steps
// of one warp.) No atomics: every output element has exactly one writer.
#include "cuda/common.cuh"
#include "cuda/segment_gather.hpp"
#include "cuda/segment_search.cuh"
#include "src/core/dispatch.hpp"
#include "src/ops/segment_gather_functors.hpp"
#include "src/ops/unfused_madd.hpp"

namespace aisle::cuda {

namespace {

// One warp per segment; writes every element of the segment's row, empty segments included.
template <class T, class I>
__global__ void gather_sum_kernel(const int64_t* ptr, const I* idx, const T* weights, const T* x, T* out,
                                  int64_t segments, int64_t d, int64_t x_rows, bool mean, int64_t* bad) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  AISLE_WARP_STRIDE(s, segments) {
    const int64_t j0 = ptr[s], j1 = ptr[s + 1];
    for (int64_t c = lane; c < d; c += kWarp) {
      T acc = 0;
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t k = static_cast<int64_t>(idx[j]);
        if (k < 0 || k >= x_rows) {
          report_bad_index(bad, k);
          continue;
        }
        const T v = x[k * d + c];
        acc = weights != nullptr ? detail::madd_unfused(acc, weights[j], v) : acc + v;
      }
      out[s * d + c] = detail::segment_finish(acc, mean, j1 - j0);
    }
  }
}

// out[j] = dot(dy[segment(j)], x[idx[j]]): one warp per entry, its segment found by binary search.
template <class T, class I>
__global__ void gather_dot_kernel(const int64_t* ptr, const I* idx, const T* x, const T* dy, T* out,
                                  int64_t segments, int64_t entries, int64_t d, int64_t x_rows, int64_t* bad) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  AISLE_WARP_STRIDE(j, entries) {
    const int64_t k = static_cast<int64_t>(idx[j]);
    T acc = 0;
    if (k >= 0 && k < x_rows) {
      const int64_t s = segment_of(ptr, segments, j);
      for (int64_t c = lane; c < d; c += kWarp) acc = detail::madd_unfused(acc, dy[s * d + c], x[k * d + c]);
    } else if (lane == 0) {
      report_bad_index(bad, k);
    }
    acc = warp_sum(acc);
    if (lane == 0) out[j] = acc;
  }
}

}  // namespace

void segment_gather_sum(const char* op, const detail::SegmentedGather& g, const Tensor& x, bool mean,
                        const Tensor& out) {
  const int64_t segments = out.size(0), d = out.size(1), x_rows = x.size(0);
  const int dev = x.device().index;
  detail::dispatch_float(x.dtype(), op, [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(g.idx.dtype(), op, [&](auto itag) {
      using I = decltype(itag);
      gather_sum_kernel<T, I><<<grid_for(segments * kWarp), kThreads, 0, stream_of(x)>>>(
          g.ptr.data<int64_t>(), g.idx.data<I>(), g.weights.defined() ? g.weights.data<T>() : nullptr,
          x.data<T>(), out.data<T>(), segments, d, x_rows, mean, index_error_slot(dev));
    });
  });
  check_launch(op);
  raise_index_error(dev, op, x_rows);
}

void segment_gather_dot(const char* op, const detail::SegmentedGather& g, const Tensor& x, const Tensor& dy,
                        const Tensor& out) {
  const int64_t segments = dy.size(0), entries = g.idx.numel(), d = x.size(1), x_rows = x.size(0);
  const int dev = x.device().index;
  detail::dispatch_float(x.dtype(), op, [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(g.idx.dtype(), op, [&](auto itag) {
      using I = decltype(itag);
      gather_dot_kernel<T, I><<<grid_for(entries * kWarp), kThreads, 0, stream_of(x)>>>(
          g.ptr.data<int64_t>(), g.idx.data<I>(), x.data<T>(), dy.data<T>(), out.data<T>(), segments, entries,
          d, x_rows, index_error_slot(dev));
    });
  });
  check_launch(op);
  raise_index_error(dev, op, x_rows);
}

}  // namespace aisle::cuda
