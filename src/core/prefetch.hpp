#pragma once
// Internal: software prefetch for CPU kernels that gather rows at random (embedding lookups, CSR
// products). Each gathered row is a cache miss the hardware prefetcher cannot predict; asking for
// the row a few ids ahead overlaps those misses instead of paying them one after another.
#include <cstddef>
#include <cstdint>

namespace aisle::cpu {

// How many ids ahead to prefetch: enough to cover DRAM latency, few enough to stay in L1.
constexpr int64_t kPrefetchDistance = 8;

inline void prefetch_row(const void* row, size_t bytes) {
  const char* p = static_cast<const char*>(row);
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 0, 1);
}

// Prefetches row `r` of every table in `tables` (a parameter and its same-shaped optimizer state).
template <class T, size_t N>
inline void prefetch_rows(const T* const (&tables)[N], int64_t r, int64_t row_elems) {
  for (const T* t : tables) prefetch_row(t + r * row_elems, static_cast<size_t>(row_elems) * sizeof(T));
}

}  // namespace aisle::cpu
