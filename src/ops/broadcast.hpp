#pragma once
// Internal: NumPy-style broadcasting shared by the CPU and CUDA elementwise kernels.
#include <algorithm>
#include <cstdint>

#include "aisle/core/macros.hpp"
#include "aisle/tensor/shape.hpp"

namespace aisle::detail {

// Maps a linear index of the output to linear indices of up to two inputs. A broadcast axis has
// stride 0. Adjacent axes that broadcast the same way are merged, so the common cases (bias over
// rows, scalar) reduce to one or two axes.
struct BroadcastIndex {
  static constexpr int kMaxDims = 8;
  int ndim = 0;
  int64_t size[kMaxDims] = {};
  int64_t stride_a[kMaxDims] = {};
  int64_t stride_b[kMaxDims] = {};

  AISLE_HD void offsets(int64_t i, int64_t& ia, int64_t& ib) const {
    ia = 0;
    ib = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t c = i % size[d];
      i /= size[d];
      ia += c * stride_a[d];
      ib += c * stride_b[d];
    }
  }
};

// Host loops over outputs [begin, end): calls run(i, ia, ib, n, step_a, step_b) for each maximal
// run along the innermost merged axis, where output i + k reads a[ia + k * step_a] and
// b[ib + k * step_b] for k < n. One index computation (two divisions an axis) per run instead of
// per element, and the runs' plain strides (1 or 0 in the common cases: a bias over rows, a
// per-row scale) let the compiler vectorise the caller's loop.
template <class Run>
void for_each_broadcast_run(const BroadcastIndex& index, int64_t begin, int64_t end, Run&& run) {
  if (index.ndim == 0) {  // every axis has size 1: one element
    if (begin < end) run(begin, int64_t{0}, int64_t{0}, end - begin, int64_t{0}, int64_t{0});
    return;
  }
  const int last = index.ndim - 1;
  const int64_t inner = index.size[last];
  for (int64_t i = begin; i < end;) {
    int64_t ia = 0, ib = 0;
    index.offsets(i, ia, ib);
    const int64_t n = std::min(end - i, inner - i % inner);
    run(i, ia, ib, n, index.stride_a[last], index.stride_b[last]);
    i += n;
  }
}

// The broadcast result shape; throws aisle::Error naming `op` and both shapes if incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// `b` may be empty-shaped ({}) for a single input. Throws if the rank exceeds kMaxDims.
BroadcastIndex make_broadcast_index(const Shape& out, const Shape& a, const Shape& b, const char* op);

}  // namespace aisle::detail
