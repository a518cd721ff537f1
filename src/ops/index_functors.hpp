#pragma once
// Internal: index arithmetic of the index family, shared verbatim by the CPU kernels
// (src/ops/index.cpp) and the CUDA kernels (cuda/index.cu). Tensors are viewed as
// [outer, length, inner] around the axis being indexed; a "row" is one run of `inner` elements.
#include <cstdint>

#include "aisle/core/macros.hpp"

namespace aisle::detail {

// Moves `count` rows per outer step between [outer, src_len, inner] and [outer, dst_len, inner]
// views: row j comes from src_start + j * src_step and goes to dst_start + j * dst_step.
// concat, split, slice and slice_backward are all this one copy.
struct AxisCopy {
  int64_t outer = 1, count = 0, inner = 1;
  int64_t src_len = 0, src_start = 0, src_step = 1;
  int64_t dst_len = 0, dst_start = 0, dst_step = 1;

  AISLE_HD int64_t src_row(int64_t o, int64_t j) const { return o * src_len + src_start + j * src_step; }
  AISLE_HD int64_t dst_row(int64_t o, int64_t j) const { return o * dst_len + dst_start + j * dst_step; }
};

// Source offset of each block of a permuted copy. Size-1 axes are dropped and axes that stay
// adjacent are merged, so a permute is at most kMaxDims strided axes plus a contiguous tail of
// `inner` elements (the last input axis, when it stays last).
struct PermuteIndex {
  static constexpr int kMaxDims = 8;
  int ndim = 0;
  int64_t size[kMaxDims] = {};    // output's merged axes, outermost first, tail excluded
  int64_t stride[kMaxDims] = {};  // stride of each in the input, in elements
  int64_t inner = 1;

  // Input offset of the first element of output block `block` (= output offset / inner).
  AISLE_HD int64_t src_offset(int64_t block) const {
    int64_t off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      off += (block % size[d]) * stride[d];
      block /= size[d];
    }
    return off;
  }
};

// index_select: row t = o * n + j of the [outer, n, inner] result is row select_row(t) of the
// [outer, len, inner] input, where r = index[j]. The backward sums into the same rows.
AISLE_HD inline int64_t select_row(int64_t t, int64_t n, int64_t len, int64_t r) { return (t / n) * len + r; }

// gather: element e of the [outer, m, inner] result is element gather_element(e) of the
// [outer, len, inner] input, where r = index[e]. The backward sums into the same elements.
AISLE_HD inline int64_t gather_element(int64_t e, int64_t m, int64_t inner, int64_t len, int64_t r) {
  return ((e / (m * inner)) * len + r) * inner + e % inner;
}

}  // namespace aisle::detail
