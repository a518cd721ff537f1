#pragma once
// Internal: the per-element formulas of the embedding-bag family, shared by the CPU kernels
// (src/ops/embedding.cpp) and the CUDA kernels (cuda/embedding.cu).
#include <cstdint>

#include "aisle/core/macros.hpp"

namespace aisle::detail {

// A mean bag is its sum times 1/|bag| (not a division per element), on both backends alike.
template <class T>
AISLE_HD inline T bag_mean_scale(int64_t count) { return T(1) / static_cast<T>(count); }

// The finished output element of a bag whose summed value is `acc`. Empty bags stay zero.
template <class T>
AISLE_HD inline T bag_finish(T acc, bool mean, int64_t count) {
  return mean && count > 0 ? acc * bag_mean_scale<T>(count) : acc;
}

// d(bag)/d(table row of id j): the id's weight, 1/|bag| in mean mode, 1 in plain sum mode.
template <class T>
AISLE_HD inline T bag_grad_scale(bool mean, const T* weights, int64_t j, int64_t count) {
  if (weights != nullptr) return weights[j];
  return mean ? bag_mean_scale<T>(count) : T(1);
}

}  // namespace aisle::detail
