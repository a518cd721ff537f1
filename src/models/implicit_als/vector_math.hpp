#pragma once
// Internal: float vector arithmetic for the CPU solvers. Plain loops or 8-float vector types with
// fixed accumulators, so it is vectorised while the summation order stays fixed by the code (never
// by the pointer alignment or the thread): every solve is bit-reproducible. Multiplies and adds
// are never fused, like the rest of the host code (-ffp-contract=off).
#include <cstdint>
#include <cstring>

namespace aisle::models::als {

// GCC/Clang vector extension: 8 floats, plain (unfused) multiply and add on any x86 target.
using Vec8 = float __attribute__((vector_size(32)));
inline Vec8 load8(const float* p) {
  Vec8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// a . b with kVecs x 8 partial sums (independent add chains), combined in a fixed tree.
template <int kVecs = 2>
[[gnu::always_inline]] inline float dot(const float* a, const float* b, int64_t n) {
  Vec8 acc[kVecs] = {};
  constexpr int64_t kStep = 8 * kVecs;
  const int64_t full = n / kStep * kStep;
  for (int64_t i = 0; i < full; i += kStep)
    for (int v = 0; v < kVecs; ++v) acc[v] += load8(a + i + 8 * v) * load8(b + i + 8 * v);
  float tail = 0;
  for (int64_t i = full; i < n; ++i) tail += a[i] * b[i];
  for (int width = kVecs / 2; width > 0; width /= 2)
    for (int v = 0; v < width; ++v) acc[v] += acc[v + width];
  float lane[8];
  std::memcpy(lane, &acc[0], sizeof lane);
  return (((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]))) + tail;
}

// y += a * x
[[gnu::always_inline]] inline void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace aisle::models::als
