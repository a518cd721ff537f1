#pragma once
// Internal: the per-element formula of the embedding-bag table gradient, shared by the CPU kernel
// (src/ops/embedding.cpp) and the CUDA kernel (cuda/embedding.cu). The forward pass is the shared
// segmented gather-sum (src/ops/segment_gather_functors.hpp).
#include <cstdint>

#include "aisle/core/macros.hpp"
#include "src/ops/segment_gather_functors.hpp"

namespace aisle::detail {

// d(bag)/d(table row of id j): the id's weight, 1/|bag| in mean mode, 1 in plain sum mode.
template <class T>
AISLE_HD inline T bag_grad_scale(bool mean, const T* weights, int64_t j, int64_t count) {
  if (weights != nullptr) return weights[j];
  return mean ? segment_mean_scale<T>(count) : T(1);
}

}  // namespace aisle::detail
