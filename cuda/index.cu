// Index family on CUDA. CPU twin and reference: src/ops/index.cpp; index arithmetic shared with it:
// src/ops/index_functors.hpp. The forward kernels only move memory, so they copy words: the widest
// unsigned type (up to 16 bytes) that divides each contiguous run and the alignment of both
// buffers. The backward sums go through ops::scatter_add (sort-based, no float atomics); the
// kernels here only compute its destination ids.
#include <cstdint>

#include "cuda/common.cuh"
#include "cuda/index.hpp"
#include "src/core/dispatch.hpp"

namespace aisle::cuda {

namespace {

template <class W>
__global__ void axis_copy_kernel(const W* src, W* dst, detail::AxisCopy c, int64_t total) {
  AISLE_GRID_STRIDE(e, total) {
    const int64_t k = e % c.inner, t = e / c.inner;
    const int64_t j = t % c.count, o = t / c.count;
    dst[c.dst_row(o, j) * c.inner + k] = src[c.src_row(o, j) * c.inner + k];
  }
}

template <class W>
__global__ void permute_kernel(const W* src, W* out, detail::PermuteIndex index, int64_t total) {
  AISLE_GRID_STRIDE(e, total) out[e] = src[index.src_offset(e / index.inner) + e % index.inner];
}

template <class I, class W>
__global__ void index_select_kernel(const W* src, const I* index, W* out, int64_t n, int64_t len,
                                    int64_t inner, int64_t total, int64_t* bad) {
  AISLE_GRID_STRIDE(e, total) {
    const int64_t t = e / inner;
    const int64_t r = static_cast<int64_t>(index[t % n]);
    if (r < 0 || r >= len) {
      report_bad_index(bad, r);
      continue;
    }
    out[e] = src[detail::select_row(t, n, len, r) * inner + e % inner];
  }
}

template <class I, class W>
__global__ void gather_kernel(const W* src, const I* index, W* out, int64_t m, int64_t len, int64_t inner,
                              int64_t total, int64_t* bad) {
  AISLE_GRID_STRIDE(e, total) {
    const int64_t r = static_cast<int64_t>(index[e]);
    if (r < 0 || r >= len) {
      report_bad_index(bad, r);
      continue;
    }
    out[e] = src[detail::gather_element(e, m, inner, len, r)];
  }
}

template <class I>
__global__ void select_rows_kernel(const I* index, int64_t* rows, int64_t n, int64_t len, int64_t total,
                                   int64_t* bad) {
  AISLE_GRID_STRIDE(t, total) {
    const int64_t r = static_cast<int64_t>(index[t % n]);
    if (r < 0 || r >= len) {
      report_bad_index(bad, r);
      rows[t] = 0;
      continue;
    }
    rows[t] = detail::select_row(t, n, len, r);
  }
}

template <class I>
__global__ void gather_elements_kernel(const I* index, int64_t* ids, int64_t m, int64_t len, int64_t inner,
                                       int64_t total, int64_t* bad) {
  AISLE_GRID_STRIDE(e, total) {
    const int64_t r = static_cast<int64_t>(index[e]);
    if (r < 0 || r >= len) {
      report_bad_index(bad, r);
      ids[e] = 0;
      continue;
    }
    ids[e] = detail::gather_element(e, m, inner, len, r);
  }
}

// Widest word dividing a contiguous run of `run_bytes` that both buffers are aligned to.
int64_t word_bytes(int64_t run_bytes, const void* a, const void* b) {
  const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  for (int64_t w : {16, 8, 4, 2})
    if (run_bytes % w == 0 && pa % w == 0 && pb % w == 0) return w;
  return 1;
}

// f(W{}) with an unsigned word of `bytes` bytes (1, 2, 4, 8 or 16).
template <class F>
void dispatch_word(int64_t bytes, F&& f) {
  switch (bytes) {
    case 16: f(uint4{}); break;
    case 8: f(uint64_t{}); break;
    case 4: f(uint32_t{}); break;
    case 2: f(uint16_t{}); break;
    default: f(uint8_t{}); break;
  }
}

}  // namespace

void axis_copy(const Tensor& src, const Tensor& dst, const detail::AxisCopy& copy, const char* op) {
  const int64_t elem = static_cast<int64_t>(dtype_size(src.dtype()));
  const int64_t w = word_bytes(copy.inner * elem, src.raw_data(), dst.raw_data());
  detail::AxisCopy c = copy;
  c.inner = copy.inner * elem / w;  // rows keep their positions; only their width is in words
  const int64_t total = c.outer * c.count * c.inner;
  if (total == 0) return;
  dispatch_word(w, [&](auto tag) {
    using W = decltype(tag);
    axis_copy_kernel<W><<<grid_for(total), kThreads, 0, stream_of(src)>>>(
        static_cast<const W*>(src.raw_data()), static_cast<W*>(dst.raw_data()), c, total);
  });
  check_launch(op);
}

void permute(const Tensor& x, const Tensor& out, const detail::PermuteIndex& index) {
  const int64_t elem = static_cast<int64_t>(dtype_size(x.dtype()));
  const int64_t w = word_bytes(index.inner * elem, x.raw_data(), out.raw_data());
  // Every stride is a multiple of the contiguous tail, so it converts to words exactly.
  detail::PermuteIndex words = index;
  words.inner = index.inner * elem / w;
  for (int d = 0; d < words.ndim; ++d) words.stride[d] = index.stride[d] * elem / w;
  const int64_t total = out.numel() * elem / w;
  if (total == 0) return;
  dispatch_word(w, [&](auto tag) {
    using W = decltype(tag);
    permute_kernel<W><<<grid_for(total), kThreads, 0, stream_of(x)>>>(
        static_cast<const W*>(x.raw_data()), static_cast<W*>(out.raw_data()), words, total);
  });
  check_launch("permute");
}

void index_select(const Tensor& x, const Tensor& index, const Tensor& out, int64_t len, int64_t inner) {
  const int64_t elem = static_cast<int64_t>(dtype_size(x.dtype()));
  const int64_t w = word_bytes(inner * elem, x.raw_data(), out.raw_data());
  const int64_t inner_words = inner * elem / w, total = out.numel() * elem / w, n = index.numel();
  if (total == 0) return;
  const int dev = x.device().index;
  detail::dispatch_index(index.dtype(), "index_select", [&](auto itag) {
    using I = decltype(itag);
    dispatch_word(w, [&](auto wtag) {
      using W = decltype(wtag);
      index_select_kernel<I, W><<<grid_for(total), kThreads, 0, stream_of(x)>>>(
          static_cast<const W*>(x.raw_data()), index.data<I>(), static_cast<W*>(out.raw_data()), n, len,
          inner_words, total, index_error_slot(dev));
    });
  });
  check_launch("index_select");
  raise_index_error(dev, "index_select", len);
}

void gather(const Tensor& x, const Tensor& index, const Tensor& out, int64_t m, int64_t len, int64_t inner) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const int dev = x.device().index;
  detail::dispatch_index(index.dtype(), "gather", [&](auto itag) {
    using I = decltype(itag);
    dispatch_word(static_cast<int64_t>(dtype_size(x.dtype())), [&](auto wtag) {
      using W = decltype(wtag);
      gather_kernel<I, W><<<grid_for(total), kThreads, 0, stream_of(x)>>>(
          static_cast<const W*>(x.raw_data()), index.data<I>(), static_cast<W*>(out.raw_data()), m, len, inner,
          total, index_error_slot(dev));
    });
  });
  check_launch("gather");
  raise_index_error(dev, "gather", len);
}

Tensor select_rows(const Tensor& index, int64_t outer, int64_t len, const char* op) {
  const int64_t n = index.numel(), total = outer * n;
  Tensor rows = Tensor::empty({total}, DType::i64, index.device());
  if (total == 0) return rows;
  const int dev = index.device().index;
  detail::dispatch_index(index.dtype(), op, [&](auto tag) {
    using I = decltype(tag);
    select_rows_kernel<I><<<grid_for(total), kThreads, 0, stream_of(index)>>>(
        index.data<I>(), rows.data<int64_t>(), n, len, total, index_error_slot(dev));
  });
  check_launch(op);
  raise_index_error(dev, op, len);
  return rows;
}

Tensor gather_elements(const Tensor& index, int64_t m, int64_t len, int64_t inner, const char* op) {
  const int64_t total = index.numel();
  Tensor ids = Tensor::empty({total}, DType::i64, index.device());
  if (total == 0) return ids;
  const int dev = index.device().index;
  detail::dispatch_index(index.dtype(), op, [&](auto tag) {
    using I = decltype(tag);
    gather_elements_kernel<I><<<grid_for(total), kThreads, 0, stream_of(index)>>>(
        index.data<I>(), ids.data<int64_t>(), m, len, inner, total, index_error_slot(dev));
  });
  check_launch(op);
  raise_index_error(dev, op, len);
  return ids;
}

}  // namespace aisle::cuda
