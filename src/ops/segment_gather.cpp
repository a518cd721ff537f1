// The shared segmented gathers: device dispatch and the CPU kernels. CUDA twin:
// cuda/segment_gather.cu; both evaluate src/ops/segment_gather_functors.hpp.
#include "src/ops/segment_gather.hpp"

#include <algorithm>
#include <atomic>

#include "cuda/segment_gather.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/core/prefetch.hpp"
#include "src/core/storage.hpp"
#include "src/ops/segment_gather_functors.hpp"
#include "src/ops/unfused_madd.hpp"

namespace aisle::detail {

namespace {

// Sums segment [j0, j1) of entries into dst[0, d), a column block of W elements at a time: the
// block's partial sums stay in registers across the entries instead of being re-read and
// re-written per entry. Every element still sums its entries in entry order with the same
// roundings, so blocking changes speed only. W = 0: one block of the whole (runtime) width.
// x is stored as S and summed in T = compute_t<S> (a bf16 row is widened to f32 as it is read).
// An id outside [0, bound) is skipped and sets `bad` (the caller then throws): checking ids as
// they are read costs a compare, where a separate pass over them cost 3% of a LightGCN step.
template <int W, bool Weighted, class S, class I, class T = compute_t<S>>
inline void gather_segment(const I* idx, const T* weights, const S* px, int64_t j0, int64_t j1, int64_t entries,
                           int64_t d, uint64_t bound, bool& bad, T* dst) {
  const size_t row_bytes = static_cast<size_t>(d) * sizeof(S);
  const int64_t block = W > 0 ? W : d;
  for (int64_t c0 = 0; c0 < d; c0 += block) {
    T acc[W > 0 ? W : 1] = {};
    T* sum = W > 0 ? acc : dst;
    if constexpr (W == 0) std::fill(dst, dst + d, T(0));
    for (int64_t j = j0; j < j1; ++j) {
      if (c0 == 0 && j + cpu::kPrefetchDistance < entries) {
        const auto ahead = static_cast<uint64_t>(static_cast<int64_t>(idx[j + cpu::kPrefetchDistance]));
        if (ahead < bound) cpu::prefetch_row(px + static_cast<int64_t>(ahead) * d, row_bytes);
      }
      const auto row = static_cast<uint64_t>(static_cast<int64_t>(idx[j]));  // negative ids wrap past bound
      if (row >= bound) {
        bad = true;
        continue;
      }
      const S* src = px + static_cast<int64_t>(row) * d + c0;
      if constexpr (Weighted) {
        const T w = weights[j];
        for (int64_t c = 0; c < block; ++c) sum[c] = madd_unfused(sum[c], w, widen(src[c]));
      } else {
        for (int64_t c = 0; c < block; ++c) sum[c] += widen(src[c]);
      }
    }
    if constexpr (W > 0) std::copy(acc, acc + W, dst + c0);
  }
}

template <int W, bool Weighted, class S, class I>
void gather_sum_rows(const char* op, const SegmentedGather& g, const Tensor& x, bool mean, const Tensor& out,
                     const GatherEpilogue& epilogue) {
  using T = compute_t<S>;
  const int64_t segments = out.size(0), d = out.size(1), entries = g.idx.numel();
  const int64_t* ptr = g.ptr.data<int64_t>();
  const I* idx = g.idx.data<I>();
  const T* weights = Weighted ? g.weights.data<T>() : nullptr;
  const S* px = x.data<S>();
  T* po = out.data<T>();
  const T* addend = epilogue.addend.defined() ? epilogue.addend.data<T>() : nullptr;
  T* total = epilogue.total.defined() ? epilogue.total.data<T>() : nullptr;
  const T total_scale = static_cast<T>(epilogue.total_scale);
  const auto bound = static_cast<uint64_t>(x.size(0));
  std::atomic<bool> any_bad{false};
  cpu::parallel_for_segments(segments, ptr, d, kSegmentChunkWork, [&](int64_t s0, int64_t s1) {
    bool bad = false;
    for (int64_t s = s0; s < s1; ++s) {
      const int64_t j0 = ptr[s], j1 = ptr[s + 1];
      T* dst = po + s * d;
      gather_segment<W, Weighted>(idx, weights, px, j0, j1, entries, d, bound, bad, dst);
      if (mean)
        for (int64_t c = 0; c < d; ++c) dst[c] = segment_finish(dst[c], mean, j1 - j0);
      if (addend)
        for (int64_t c = 0; c < d; ++c) dst[c] = gather_add(dst[c], addend, s * d + c);
      if (total)
        for (int64_t c = 0; c < d; ++c) total[s * d + c] = gather_total(total[s * d + c], dst[c], total_scale);
    }
    if (bad) any_bad.store(true, std::memory_order_relaxed);
  });
  // Throws, naming the first bad id and its position.
  if (any_bad.load()) check_index_range_host(op, g.idx, x.size(0));
}

// The widest register block that divides d: 64 floats or 32 doubles is 8 AVX2 registers of
// partial sums, half the register file.
template <class S, class I>
void gather_sum_cpu(const char* op, const SegmentedGather& g, const Tensor& x, bool mean, const Tensor& out,
                    const GatherEpilogue& epilogue) {
  const int64_t d = out.size(1);
  constexpr int kWidest = sizeof(compute_t<S>) == 4 ? 64 : 32;
  const auto run = [&]<int W>() {
    if (g.weights.defined()) gather_sum_rows<W, true, S, I>(op, g, x, mean, out, epilogue);
    else gather_sum_rows<W, false, S, I>(op, g, x, mean, out, epilogue);
  };
  if (d % kWidest == 0) run.template operator()<kWidest>();
  else if (d % 32 == 0) run.template operator()<32>();
  else if (d % 16 == 0) run.template operator()<16>();
  else if (d % 8 == 0) run.template operator()<8>();
  else run.template operator()<0>();
}

template <class S, class I>
void gather_dot_cpu(const SegmentedGather& g, const Tensor& x, const Tensor& dy, const Tensor& out) {
  using T = compute_t<S>;
  const int64_t segments = dy.size(0), d = x.size(1);
  const int64_t* ptr = g.ptr.data<int64_t>();
  const I* idx = g.idx.data<I>();
  const S* px = x.data<S>();
  const T* pd = dy.data<T>();
  T* po = out.data<T>();
  cpu::parallel_for_segments(segments, ptr, d, kSegmentChunkWork, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      const T* grad = pd + s * d;
      for (int64_t j = ptr[s]; j < ptr[s + 1]; ++j) {
        const S* src = px + static_cast<int64_t>(idx[j]) * d;
        T acc = 0;
        for (int64_t c = 0; c < d; ++c) acc = madd_unfused(acc, grad[c], widen(src[c]));
        po[j] = acc;
      }
    }
  });
}

}  // namespace

void segment_gather_sum(const char* op, const SegmentedGather& g, const Tensor& x, bool mean, const Tensor& out,
                        const GatherEpilogue& epilogue) {
  if (x.is_cuda()) {
    // The kernel checks only the ids it reads, and with an empty out it reads none.
    if (out.numel() > 0) AISLE_CUDA_ONLY(op, cuda::segment_gather_sum(op, g, x, mean, out, epilogue));
    return;
  }
  // The loop checks the ids it reads and throws after it; ids are checked up front only where the
  // loop reads none (d = 0) or where a throw after it would leave the running total half updated.
  if (out.numel() == 0 || epilogue.total.defined()) check_index_range_host(op, g.idx, x.size(0));
  if (out.numel() == 0) return;
  dispatch_storage(x.dtype(), op, [&](auto ftag) {
    dispatch_index(g.idx.dtype(), op, [&](auto itag) {
      gather_sum_cpu<decltype(ftag), decltype(itag)>(op, g, x, mean, out, epilogue);
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
  dispatch_storage(x.dtype(), op, [&](auto ftag) {
    dispatch_index(g.idx.dtype(), op, [&](auto itag) {
      gather_dot_cpu<decltype(ftag), decltype(itag)>(g, x, dy, out);
    });
  });
}

}  // namespace aisle::detail
