#pragma once
// Internal: the comparison of the neighbour max (src/ops/segment_reduce.cpp and
// cuda/segment_reduce.cu), written once so both backends pick the same winner.
#include "aisle/core/macros.hpp"

namespace aisle::detail {

// Whether a later candidate replaces the running maximum: strictly greater (so ties keep the
// first neighbour), or the first NaN (NaN counts as the maximum, as in ops::max).
template <class T>
AISLE_HD inline bool max_replaces(T candidate, T best) {
  const bool best_nan = best != best;
  return !best_nan && (candidate > best || candidate != candidate);
}

}  // namespace aisle::detail
