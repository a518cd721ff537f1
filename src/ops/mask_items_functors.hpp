#pragma once
// Internal: the comparisons and the rank formula of ops::rank_items, shared verbatim by the CPU
// kernel (src/ops/mask_items.cpp) and the CUDA kernel (cuda/mask_items.cu) so both rank alike.
// The order is the sort family's (src/ops/sort_functors.hpp): NaN above every number, all NaNs
// equal, -0.0 == 0.0 (IEEE equality already says so).
#include <cstdint>

#include "aisle/core/macros.hpp"

namespace aisle::detail {

// v ranks strictly above target t. For a number t, `!(v <= t)` is true for larger v and for NaN.
template <class T>
AISLE_HD inline bool ranks_above(T v, T t) {
  return t == t && !(v <= t);
}

template <class T>
AISLE_HD inline bool ranks_equal(T v, T t) {
  return v == t || (v != v && t != t);
}

// above: #{i : s[i] above s[t]}; equal_all: #{i : s[i] equal to s[t]} (t itself included);
// equal_listed: listed items equal to s[t] (t included); listed_lower: listed t' < t equal to s[t].
// equal_all - equal_listed is the unlisted items t loses its ties to.
AISLE_HD inline int64_t listed_rank(int64_t above, int64_t equal_all, int64_t equal_listed,
                                    int64_t listed_lower) {
  return above + (equal_all - equal_listed) + listed_lower;
}

}  // namespace aisle::detail
