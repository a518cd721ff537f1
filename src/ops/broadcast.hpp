#pragma once
// Internal: NumPy-style broadcasting shared by the CPU and CUDA elementwise kernels.
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

// The broadcast result shape; throws aisle::Error naming `op` and both shapes if incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// `b` may be empty-shaped ({}) for a single input. Throws if the rank exceeds kMaxDims.
BroadcastIndex make_broadcast_index(const Shape& out, const Shape& a, const Shape& b, const char* op);

}  // namespace aisle::detail
