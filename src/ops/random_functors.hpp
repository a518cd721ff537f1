#pragma once
// Internal: element i of each random distribution as a pure function of (seed, stream, i), shared
// by the CPU loops (src/ops/random.cpp) and the CUDA kernels (cuda/random.cu).
#include <cstdint>

#include "aisle/tensor/random.hpp"
#include "src/ops/math.hpp"
#include "src/ops/unfused_madd.hpp"

namespace aisle::detail {

enum class RandomKind : uint8_t { uniform, normal, randint, dropout };

struct RandomParams {
  uint64_t seed, stream;
  double a, b;  // uniform: low, high; normal: mean, std; randint: low, span; dropout: p, scale
};

// Elements drawn per Philox block: four 32-bit words give four f32 values or two f64/i64 values.
template <class T>
constexpr int64_t random_per_block() { return sizeof(T) == 4 ? 4 : 2; }

// Writes the values that Philox block words `w` give (random_per_block<T>() elements, fewer at the
// tail).
template <RandomKind Kind, class T>
AISLE_HD inline void random_values(const RandomParams& p, const Philox4x32& w, T* out, int64_t count) {
  constexpr int64_t per = random_per_block<T>();
  T vals[per];
  if constexpr (Kind == RandomKind::randint) {
    for (int64_t j = 0; j < per; ++j) {
      uint64_t bits;
      if constexpr (per == 4) bits = w.v[j];
      else bits = (uint64_t{w.v[2 * j]} << 32) | w.v[2 * j + 1];
      vals[j] = static_cast<T>(static_cast<int64_t>(p.a) + static_cast<int64_t>(bits % static_cast<uint64_t>(p.b)));
    }
  } else {
    double u[per];
    for (int64_t j = 0; j < per; ++j) {
      if constexpr (per == 4) u[j] = uniform_float(w.v[j]);
      else u[j] = uniform_double(w.v[2 * j], w.v[2 * j + 1]);
    }
    if constexpr (Kind == RandomKind::uniform) {
      // Unfused: nvcc would contract low + span * u into an FMA and break CPU/GPU equality.
      for (int64_t j = 0; j < per; ++j) vals[j] = static_cast<T>(madd_unfused(p.a, p.b - p.a, u[j]));
    } else if constexpr (Kind == RandomKind::dropout) {
      for (int64_t j = 0; j < per; ++j) vals[j] = u[j] < p.a ? T(0) : static_cast<T>(p.b);
    } else {  // Box-Muller on pairs; 1 - u lies in (0, 1], so the log is finite
      // The device's log/sin/cos may differ from glibc's by an ulp, so normal draws agree across
      // devices to rounding only (models initialise on the host); the affine step is unfused so
      // that nothing else adds to that.
      for (int64_t j = 0; j < per; j += 2) {
        const T r = sqrt_(T(-2) * log_(static_cast<T>(1.0 - u[j])));
        const T theta = static_cast<T>(6.283185307179586 * u[j + 1]);
        vals[j] = static_cast<T>(madd_unfused(p.a, p.b, static_cast<double>(r * cos_(theta))));
        vals[j + 1] = static_cast<T>(madd_unfused(p.a, p.b, static_cast<double>(r * sin_(theta))));
      }
    }
  }
  for (int64_t j = 0; j < count; ++j) out[j] = vals[j];
}

// Writes the values of block `block` (random_per_block<T>() elements, fewer at the tail).
template <RandomKind Kind, class T>
AISLE_HD inline void random_block(const RandomParams& p, int64_t block, T* out, int64_t count) {
  random_values<Kind, T>(p, philox_block(p.seed, p.stream, static_cast<uint64_t>(block)), out, count);
}

}  // namespace aisle::detail
