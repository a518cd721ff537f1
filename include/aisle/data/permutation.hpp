#pragma once
#include <cstdint>

#include "aisle/tensor/tensor.hpp"

namespace aisle::data {

// A uniformly random permutation of [0, n) (i64 [n], CPU) that depends only on (n, seed, stream):
// a Rao-Sandelius shuffle (each element goes to one of 2^k buckets by a counter-based draw, then
// every bucket is Fisher-Yates shuffled), which stays uniform while running in parallel with
// results independent of the thread count. Cache-sized buckets also make it faster than one
// serial Fisher-Yates over a large n.
Tensor random_permutation(int64_t n, uint64_t seed, uint64_t stream);

}  // namespace aisle::data
