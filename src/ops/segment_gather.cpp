// The shared segmented gathers: device dispatch and the CPU kernels. CUDA twin:
// cuda/segment_gather.cu; both evaluate src/ops/segment_gather_functors.hpp.
#include "src/ops/segment_gather.hpp"

#include <algorithm>

#include "cuda/segment_gather.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/core/prefetch.hpp"
#include "src/ops/segment_gather_functors.hpp"
#include "src/ops/unfused_madd.hpp"

namespace aisle::detail {

namespace {

// Multiply-adds worth one parallel chunk.
constexpr int64_t kChunkWork = 1 << 15;

template <class T, class I>
void gather_sum_cpu(const SegmentedGather& g, const Tensor& x, bool mean, const Tensor& out) {
  const int64_t segments = out.size(0), d = out.size(1), entries = g.idx.numel();
  const int64_t* ptr = g.ptr.data<int64_t>();
  const I* idx = g.idx.data<I>();
  const T* weights = g.weights.defined() ? g.weights.data<T>() : nullptr;
  const T* px = x.data<T>();
  T* po = out.data<T>();
  const size_t row_bytes = static_cast<size_t>(d) * sizeof(T);
  cpu::parallel_for(segments, segment_grain(segments, entries, d), [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      const int64_t j0 = ptr[s], j1 = ptr[s + 1];
      T* dst = po + s * d;
      std::fill(dst, dst + d, T(0));
      for (int64_t j = j0; j < j1; ++j) {
        if (j + cpu::kPrefetchDistance < entries)
          cpu::prefetch_row(px + static_cast<int64_t>(idx[j + cpu::kPrefetchDistance]) * d, row_bytes);
        const T* src = px + static_cast<int64_t>(idx[j]) * d;
        if (weights) {
          const T w = weights[j];
          for (int64_t c = 0; c < d; ++c) dst[c] = madd_unfused(dst[c], w, src[c]);
        } else {
          for (int64_t c = 0; c < d; ++c) dst[c] += src[c];
        }
      }
      if (mean)
        for (int64_t c = 0; c < d; ++c) dst[c] = segment_finish(dst[c], mean, j1 - j0);
    }
  });
}

template <class T, class I>
void gather_dot_cpu(const SegmentedGather& g, const Tensor& x, const Tensor& dy, const Tensor& out) {
  const int64_t segments = dy.size(0), d = x.size(1), entries = g.idx.numel();
  const int64_t* ptr = g.ptr.data<int64_t>();
  const I* idx = g.idx.data<I>();
  const T* px = x.data<T>();
  const T* pd = dy.data<T>();
  T* po = out.data<T>();
  cpu::parallel_for(segments, segment_grain(segments, entries, d), [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      const T* grad = pd + s * d;
      for (int64_t j = ptr[s]; j < ptr[s + 1]; ++j) {
        const T* src = px + static_cast<int64_t>(idx[j]) * d;
        T acc = 0;
        for (int64_t c = 0; c < d; ++c) acc = madd_unfused(acc, grad[c], src[c]);
        po[j] = acc;
      }
    }
  });
}

}  // namespace

int64_t segment_grain(int64_t segments, int64_t entries, int64_t d) {
  const int64_t per_segment =
      std::max<int64_t>(1, (entries / std::max<int64_t>(segments, 1) + 1) * std::max<int64_t>(d, 1));
  return std::max<int64_t>(1, kChunkWork / per_segment);
}

void segment_gather_sum(const char* op, const SegmentedGather& g, const Tensor& x, bool mean, const Tensor& out) {
  if (x.is_cuda()) {
    // The kernel checks only the ids it reads, and with an empty out it reads none.
    if (out.numel() > 0) AISLE_CUDA_ONLY(op, cuda::segment_gather_sum(op, g, x, mean, out));
    return;
  }
  // The host checks every id up front, before the loop (which must not throw), even for d = 0.
  check_index_range_host(op, g.idx, x.size(0));
  if (out.numel() == 0) return;
  dispatch_float(x.dtype(), op, [&](auto ftag) {
    dispatch_index(g.idx.dtype(), op, [&](auto itag) {
      gather_sum_cpu<decltype(ftag), decltype(itag)>(g, x, mean, out);
    });
  });
}

void segment_gather_dot(const char* op, const SegmentedGather& g, const Tensor& x, const Tensor& dy,
                        const Tensor& out) {
  if (out.numel() == 0) return;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::segment_gather_dot(op, g, x, dy, out));
    return;
  }
  check_index_range_host(op, g.idx, x.size(0));
  dispatch_float(x.dtype(), op, [&](auto ftag) {
    dispatch_index(g.idx.dtype(), op, [&](auto itag) {
      gather_dot_cpu<decltype(ftag), decltype(itag)>(g, x, dy, out);
    });
  });
}

}  // namespace aisle::detail
