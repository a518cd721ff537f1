#pragma once
// Internal: the per-element formulas of the segmented gather-sum, shared by the CPU kernel
// (src/ops/segment_gather.cpp) and the CUDA kernel (cuda/segment_gather.cu), and by the
// embedding-bag gradient (src/ops/embedding_functors.hpp).
#include <cstdint>

#include "aisle/core/macros.hpp"

namespace aisle::detail {

// A mean segment is its sum times 1/|segment| (not a division per element), on both backends alike.
template <class T>
AISLE_HD inline T segment_mean_scale(int64_t count) { return T(1) / static_cast<T>(count); }

// The finished output element of a segment whose summed value is `acc`. Empty segments stay zero.
template <class T>
AISLE_HD inline T segment_finish(T acc, bool mean, int64_t count) {
  return mean && count > 0 ? acc * segment_mean_scale<T>(count) : acc;
}

// The epilogue of a finished element v (GatherEpilogue): v + addend, then the running total.
template <class T>
AISLE_HD inline T gather_add(T v, const T* addend, int64_t at) {
  return addend != nullptr ? v + addend[at] : v;
}
template <class T>
AISLE_HD inline T gather_total(T total, T v, T scale) {
  return (total + v) * scale;
}

}  // namespace aisle::detail
