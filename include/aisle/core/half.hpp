#pragma once
#include <cstdint>
#include <cstring>

#include "aisle/core/macros.hpp"

// 16-bit float storage types. Arithmetic happens in float32; these only hold the bits, and the
// conversions round to nearest-even identically on the host and on CUDA devices, so a bf16 table
// written on one backend reads back bit-identical on the other.
namespace aisle {

namespace detail {
AISLE_HD inline uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
AISLE_HD inline float bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
}  // namespace detail

AISLE_HD inline uint16_t float_to_bf16_bits(float f) {
  uint32_t u = detail::float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
  return static_cast<uint16_t>(u >> 16);
}

AISLE_HD inline float bf16_bits_to_float(uint16_t h) { return detail::bits_float(uint32_t{h} << 16); }

AISLE_HD inline uint16_t float_to_f16_bits(float f) {
  const uint32_t x = detail::float_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to inf
  const uint32_t e = absx >> 23;
  if (e < 113) {  // below 2^-14: a half subnormal (or zero)
    if (e < 102) return static_cast<uint16_t>(sign);
    const uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = ((e - 112) << 10) | ((absx & 0x7fffffu) >> 13);
  const uint32_t rem = absx & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // a carry correctly bumps the exponent
  return static_cast<uint16_t>(sign | h);
}

AISLE_HD inline float f16_bits_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;  // mant * 2^-24, exact
    return detail::bits_float(detail::float_bits(v) | sign);
  }
  if (exp == 31) return detail::bits_float(sign | 0x7f800000u | (mant << 13));
  return detail::bits_float(sign | ((exp + 112) << 23) | (mant << 13));
}

// Stochastic rounding to 16 bits: f goes to one of its two neighbouring values, away from zero
// with probability equal to its distance from the one toward zero, in units of their gap, decided
// by the uniform 32-bit word r. The expected result is f, so updates far below half a unit in the
// last place survive on average instead of vanishing. Both round toward zero at the largest finite
// value instead of overflowing; infinities and NaN convert as the nearest-even functions do. Only
// integer and exact float operations are used, so host and device give identical bits.
AISLE_HD inline uint16_t float_to_bf16_bits_stochastic(float f, uint32_t r) {
  const uint32_t u = detail::float_bits(f);
  if ((u & 0x7fffffffu) >= 0x7f800000u) return float_to_bf16_bits(f);
  const uint32_t toward_zero = u >> 16, rest = u & 0xffffu;
  const bool largest = (toward_zero & 0x7fffu) == 0x7f7fu;
  return static_cast<uint16_t>(toward_zero + ((r >> 16) < rest && !largest ? 1u : 0u));
}

AISLE_HD inline uint16_t float_to_f16_bits_stochastic(float f, uint32_t r) {
  const uint32_t x = detail::float_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u, absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return float_to_f16_bits(f);
  const float a = detail::bits_float(absx);
  uint32_t low = float_to_f16_bits(a);  // nearest; may be above a (or infinite above 65520)
  if (f16_bits_to_float(static_cast<uint16_t>(low)) > a) --low;
  const float below = f16_bits_to_float(static_cast<uint16_t>(low));
  if (below == a || low == 0x7bffu) return static_cast<uint16_t>(sign | low);
  // The gap is a power of two and a - below is exact (Sterbenz), so p is exact too.
  const float gap = f16_bits_to_float(static_cast<uint16_t>(low + 1)) - below;
  const float p = (a - below) / gap;
  const bool up = static_cast<double>(r) < static_cast<double>(p) * 4294967296.0;
  return static_cast<uint16_t>(sign | (low + (up ? 1u : 0u)));
}

// How values computed in f32 are stored back into 16 bits: to nearest even (the default) or
// stochastically (above), element e's random word then being a pure function of (seed, step, e),
// so results do not depend on thread counts or the backend. Vary `step` between updates (the
// optimizer step) so successive roundings draw independently.
struct HalfRounding {
  bool stochastic = false;
  uint64_t seed = 0;
  uint64_t step = 0;
};

struct bf16 {
  uint16_t bits = 0;
  bf16() = default;
  AISLE_HD explicit bf16(float f) : bits(float_to_bf16_bits(f)) {}
  AISLE_HD explicit operator float() const { return bf16_bits_to_float(bits); }
};

struct f16 {
  uint16_t bits = 0;
  f16() = default;
  AISLE_HD explicit f16(float f) : bits(float_to_f16_bits(f)) {}
  AISLE_HD explicit operator float() const { return f16_bits_to_float(bits); }
};

}  // namespace aisle
