// The shared segmented gathers on CUDA. CPU twin and reference: src/ops/segment_gather.cpp; both
// evaluate the formulas in src/ops/segment_gather_functors.hpp.
// The gather-sum gives each segment one warp (lanes across the width) summing its entries in
// entry order with unfused multiply-adds: the CPU's order and rounding, so the results match it
// bit for bit. (Long segments are not split across warps; a segment costs |segment| * d / 32 steps
// of one warp.) No atomics: every output element has exactly one writer. f32 rows of whole
// float4s take gather_sum_vec4_kernel: 16-byte loads, several rows in flight, same sums; bf16 and
// f16 rows of whole 8-element packs take gather_sum_half8_kernel, which widens them to f32 and
// sums as the CPU does (src/core/storage.hpp). With a running total, the ids are checked in a first
// pass, as on the CPU, so that a bad id leaves the total untouched.
#include "cuda/common.cuh"
#include "cuda/segment_gather.hpp"
#include "cuda/segment_search.cuh"
#include "src/core/dispatch.hpp"
#include "src/core/storage.hpp"
#include "src/ops/segment_gather_functors.hpp"
#include "src/ops/unfused_madd.hpp"

namespace aisle::cuda {

namespace {

// One warp per segment; writes every element of the segment's row, empty segments included.
// x is stored as S and summed in T (f32 for a 16-bit x).
template <class S, class I, class T = detail::compute_t<S>>
__global__ void gather_sum_kernel(const int64_t* ptr, const I* idx, const T* weights, const S* x, T* out,
                                  int64_t segments, int64_t d, int64_t x_rows, bool mean, const T* addend, T* total,
                                  T total_scale, int64_t* bad) {
  if (total != nullptr && index_error_seen(bad)) return;  // leave the running total as it was
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
        const T v = detail::widen(x[k * d + c]);
        acc = weights != nullptr ? detail::madd_unfused(acc, weights[j], v) : acc + v;
      }
      const T v = detail::gather_add(detail::segment_finish(acc, mean, j1 - j0), addend, s * d + c);
      out[s * d + c] = v;
      if (total != nullptr) total[s * d + c] = detail::gather_total(total[s * d + c], v, total_scale);
    }
  }
}

// The f32 gather-sum when rows are whole float4s (d % 4 == 0, 16-byte aligned): a group of G
// lanes per segment (G = d/4 rounded up to a power of two, at most 32), each lane owning float4
// columns lane, lane + G, ...; so d = 64 puts two segments in a warp instead of idling half of it.
// Entries are read kUnroll at a time (ids, then rows) so several rows are in flight per lane,
// and added in entry order, element by element: the same sums as gather_sum_kernel and the CPU.
constexpr int kGatherUnroll = 4;

__device__ inline float4 add4(float4 a, float4 b) { return {a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w}; }
// The epilogue (GatherEpilogue) on one float4, element by element as the scalar kernel does it.
__device__ inline float4 add_addend4(float4 v, const float4* addend, int64_t at) {
  if (addend == nullptr) return v;
  const float4 a = addend[at];
  return {detail::gather_add(v.x, &a.x, 0), detail::gather_add(v.y, &a.y, 0), detail::gather_add(v.z, &a.z, 0),
          detail::gather_add(v.w, &a.w, 0)};
}
__device__ inline float4 total4(float4 t, float4 v, float scale) {
  return {detail::gather_total(t.x, v.x, scale), detail::gather_total(t.y, v.y, scale),
          detail::gather_total(t.z, v.z, scale), detail::gather_total(t.w, v.w, scale)};
}
__device__ inline float4 madd4(float4 acc, float w, float4 v) {
  return {detail::madd_unfused(acc.x, w, v.x), detail::madd_unfused(acc.y, w, v.y),
          detail::madd_unfused(acc.z, w, v.z), detail::madd_unfused(acc.w, w, v.w)};
}

// Issues the loads of entries j .. j + kGatherUnroll - 1 of a segment ending at j1 together (the
// rows in flight): v[u] = pack c of row k[u] = idx[j + u] of x (rows of `width` packs); past the
// segment's end k[u] is -1. An id outside [0, x_rows) is reported and loads `zero`; callers skip
// every k[u] outside [0, x_rows).
template <class I, class V>
__device__ inline void load_unrolled(const I* idx, int64_t j, int64_t j1, const V* x, int64_t x_rows, int64_t width,
                                     int64_t c, V zero, int64_t* bad, int64_t (&k)[kGatherUnroll],
                                     V (&v)[kGatherUnroll]) {
#pragma unroll
  for (int u = 0; u < kGatherUnroll; ++u) {
    const int64_t id = j + u < j1 ? static_cast<int64_t>(idx[j + u]) : -1;
    const bool ok = id >= 0 && id < x_rows;
    if (!ok && j + u < j1) report_bad_index(bad, id);
    k[u] = id;
    v[u] = ok ? x[id * width + c] : zero;
  }
}

template <class I>
__global__ void gather_sum_vec4_kernel(const int64_t* ptr, const I* idx, const float* weights, const float4* x,
                                       float4* out, int64_t segments, int64_t d4, int group, int64_t x_rows,
                                       bool mean, const float4* addend, float4* total, float total_scale,
                                       int64_t* bad) {
  if (total != nullptr && index_error_seen(bad)) return;  // leave the running total as it was
  const int64_t thread = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int lane = static_cast<int>(thread % group);
  const int64_t per_grid = static_cast<int64_t>(gridDim.x) * blockDim.x / group;
  for (int64_t s = thread / group; s < segments; s += per_grid) {
    const int64_t j0 = ptr[s], j1 = ptr[s + 1];
    for (int64_t c = lane; c < d4; c += group) {
      float4 acc = {0.f, 0.f, 0.f, 0.f};
      for (int64_t j = j0; j < j1; j += kGatherUnroll) {
        int64_t k[kGatherUnroll];
        float4 v[kGatherUnroll];
        load_unrolled(idx, j, j1, x, x_rows, d4, c, float4{0.f, 0.f, 0.f, 0.f}, bad, k, v);
#pragma unroll
        for (int u = 0; u < kGatherUnroll; ++u) {
          if (k[u] < 0 || k[u] >= x_rows) continue;  // past the end, or a bad id (reported)
          acc = weights != nullptr ? madd4(acc, weights[j + u], v[u]) : add4(acc, v[u]);
        }
      }
      const int64_t count = j1 - j0;
      const float4 v = add_addend4(
          {detail::segment_finish(acc.x, mean, count), detail::segment_finish(acc.y, mean, count),
           detail::segment_finish(acc.z, mean, count), detail::segment_finish(acc.w, mean, count)},
          addend, s * d4 + c);
      out[s * d4 + c] = v;
      if (total != nullptr) total[s * d4 + c] = total4(total[s * d4 + c], v, total_scale);
    }
  }
}

// Eight 16-bit elements (the bits of one 16-byte load) widened to f32, element 2i in the low half
// of word i.
template <class S>
__device__ inline void widen8(uint4 packed, float* out) {
  const uint32_t words[4] = {packed.x, packed.y, packed.z, packed.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    S lo, hi;
    lo.bits = static_cast<uint16_t>(words[i] & 0xffffu);
    hi.bits = static_cast<uint16_t>(words[i] >> 16);
    out[2 * i] = detail::widen(lo);
    out[2 * i + 1] = detail::widen(hi);
  }
}

// The gather-sum of a bf16/f16 x whose rows are whole 16-byte packs of 8 elements (d % 8 == 0,
// aligned): as gather_sum_vec4_kernel, with a group of G lanes per segment each owning packs
// lane, lane + G, ..., and kGatherUnroll rows in flight; each pack is widened and added in entry
// order element by element, the CPU's sums. No epilogue (graph propagation runs in f32/f64).
template <class S, class I>
__global__ void gather_sum_half8_kernel(const int64_t* ptr, const I* idx, const float* weights, const uint4* x,
                                        float4* out, int64_t segments, int64_t d8, int group, int64_t x_rows,
                                        bool mean, int64_t* bad) {
  const int64_t thread = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int lane = static_cast<int>(thread % group);
  const int64_t per_grid = static_cast<int64_t>(gridDim.x) * blockDim.x / group;
  for (int64_t s = thread / group; s < segments; s += per_grid) {
    const int64_t j0 = ptr[s], j1 = ptr[s + 1];
    for (int64_t c = lane; c < d8; c += group) {
      float acc[8] = {};
      for (int64_t j = j0; j < j1; j += kGatherUnroll) {
        int64_t k[kGatherUnroll];
        uint4 v[kGatherUnroll];
        load_unrolled(idx, j, j1, x, x_rows, d8, c, uint4{0u, 0u, 0u, 0u}, bad, k, v);
#pragma unroll
        for (int u = 0; u < kGatherUnroll; ++u) {
          if (k[u] < 0 || k[u] >= x_rows) continue;  // past the end, or a bad id (reported)
          float f[8];
          widen8<S>(v[u], f);
#pragma unroll
          for (int i = 0; i < 8; ++i)
            acc[i] = weights != nullptr ? detail::madd_unfused(acc[i], weights[j + u], f[i]) : acc[i] + f[i];
        }
      }
      const int64_t count = j1 - j0;
#pragma unroll
      for (int i = 0; i < 8; ++i) acc[i] = detail::segment_finish(acc[i], mean, count);
      out[(s * d8 + c) * 2] = {acc[0], acc[1], acc[2], acc[3]};
      out[(s * d8 + c) * 2 + 1] = {acc[4], acc[5], acc[6], acc[7]};
    }
  }
}

// out[j] = dot(dy[segment(j)], x[idx[j]]): one warp per entry, its segment found by binary search.
template <class S, class I, class T = detail::compute_t<S>>
__global__ void gather_dot_kernel(const int64_t* ptr, const I* idx, const S* x, const T* dy, T* out,
                                  int64_t segments, int64_t entries, int64_t d, int64_t x_rows, int64_t* bad) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  AISLE_WARP_STRIDE(j, entries) {
    const int64_t k = static_cast<int64_t>(idx[j]);
    T acc = 0;
    if (k >= 0 && k < x_rows) {
      const int64_t s = segment_of(ptr, segments, j);
      for (int64_t c = lane; c < d; c += kWarp)
        acc = detail::madd_unfused(acc, dy[s * d + c], detail::widen(x[k * d + c]));
    } else if (lane == 0) {
      report_bad_index(bad, k);
    }
    acc = warp_sum(acc);
    if (lane == 0) out[j] = acc;
  }
}

}  // namespace

void segment_gather_sum(const char* op, const detail::SegmentedGather& g, const Tensor& x, bool mean,
                        const Tensor& out, const detail::GatherEpilogue& epilogue) {
  const int64_t segments = out.size(0), d = out.size(1), x_rows = x.size(0);
  const int dev = x.device().index;
  const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  const Tensor& addend = epilogue.addend;
  const Tensor& total = epilogue.total;
  const bool epilogue_aligned =
      (!addend.defined() || aligned(addend.raw_data())) && (!total.defined() || aligned(total.raw_data()));
  // Every path that takes a running total returns at once after this pass finds a bad id.
  if (total.defined())
    detail::dispatch_index(g.idx.dtype(), op, [&](auto itag) {
      find_bad_indices(g.idx.data<decltype(itag)>(), g.idx.numel(), x_rows, index_error_slot(dev), stream_of(x));
    });
  if (x.dtype() == DType::f32 && d % 4 == 0 && d > 0 && aligned(x.raw_data()) && aligned(out.raw_data()) &&
      epilogue_aligned) {
    const int64_t d4 = d / 4;
    int group = 1;
    while (group < d4 && group < kWarp) group *= 2;
    detail::dispatch_index(g.idx.dtype(), op, [&](auto itag) {
      using I = decltype(itag);
      gather_sum_vec4_kernel<I><<<grid_for(segments * group), kThreads, 0, stream_of(x)>>>(
          g.ptr.data<int64_t>(), g.idx.data<I>(), g.weights.defined() ? g.weights.data<float>() : nullptr,
          static_cast<const float4*>(x.raw_data()), static_cast<float4*>(out.raw_data()), segments, d4, group,
          x_rows, mean, addend.defined() ? static_cast<const float4*>(addend.raw_data()) : nullptr,
          total.defined() ? static_cast<float4*>(total.raw_data()) : nullptr,
          static_cast<float>(epilogue.total_scale), index_error_slot(dev));
    });
    check_launch(op);
    raise_index_error(dev, op, x_rows);
    return;
  }
  const bool half = x.dtype() == DType::bf16 || x.dtype() == DType::f16;
  if (half && d % 8 == 0 && d > 0 && aligned(x.raw_data()) && aligned(out.raw_data()) && !addend.defined() &&
      !total.defined()) {
    const int64_t d8 = d / 8;
    int group = 1;
    while (group < d8 && group < kWarp) group *= 2;
    detail::dispatch_storage(x.dtype(), op, [&](auto stag) {
      using S = decltype(stag);
      if constexpr (sizeof(S) == 2) {
        detail::dispatch_index(g.idx.dtype(), op, [&](auto itag) {
          using I = decltype(itag);
          gather_sum_half8_kernel<S, I><<<grid_for(segments * group), kThreads, 0, stream_of(x)>>>(
              g.ptr.data<int64_t>(), g.idx.data<I>(), g.weights.defined() ? g.weights.data<float>() : nullptr,
              static_cast<const uint4*>(x.raw_data()), static_cast<float4*>(out.raw_data()), segments, d8, group,
              x_rows, mean, index_error_slot(dev));
        });
      }
    });
    check_launch(op);
    raise_index_error(dev, op, x_rows);
    return;
  }
  detail::dispatch_storage(x.dtype(), op, [&](auto stag) {
    using S = decltype(stag);
    using T = detail::compute_t<S>;
    detail::dispatch_index(g.idx.dtype(), op, [&](auto itag) {
      using I = decltype(itag);
      gather_sum_kernel<S, I><<<grid_for(segments * kWarp), kThreads, 0, stream_of(x)>>>(
          g.ptr.data<int64_t>(), g.idx.data<I>(), g.weights.defined() ? g.weights.data<T>() : nullptr,
          x.data<S>(), out.data<T>(), segments, d, x_rows, mean, addend.defined() ? addend.data<T>() : nullptr,
          total.defined() ? total.data<T>() : nullptr, static_cast<T>(epilogue.total_scale), index_error_slot(dev));
    });
  });
  check_launch(op);
  raise_index_error(dev, op, x_rows);
}

void segment_gather_dot(const char* op, const detail::SegmentedGather& g, const Tensor& x, const Tensor& dy,
                        const Tensor& out) {
  const int64_t segments = dy.size(0), entries = g.idx.numel(), d = x.size(1), x_rows = x.size(0);
  const int dev = x.device().index;
  detail::dispatch_storage(x.dtype(), op, [&](auto stag) {
    using S = decltype(stag);
    using T = detail::compute_t<S>;
    detail::dispatch_index(g.idx.dtype(), op, [&](auto itag) {
      using I = decltype(itag);
      gather_dot_kernel<S, I><<<grid_for(entries * kWarp), kThreads, 0, stream_of(x)>>>(
          g.ptr.data<int64_t>(), g.idx.data<I>(), x.data<S>(), dy.data<T>(), out.data<T>(), segments, entries,
          d, x_rows, index_error_slot(dev));
    });
  });
  check_launch(op);
  raise_index_error(dev, op, x_rows);
}

}  // namespace aisle::cuda
