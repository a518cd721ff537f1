#pragma once
// Internal: tables stored in one float type and computed in another. A bf16 or f16 table halves
// the bytes a memory-bound embedding kernel moves; its rows are widened to f32 as they are read,
// every sum and optimizer formula runs in f32, and updated rows are rounded back to 16 bits on the
// way out (to nearest even, or stochastically). f32 and f64 tables compute in their own type, so
// for them these helpers are the identity and the kernels are unchanged.
#include <cstdint>
#include <type_traits>

#include "aisle/core/dtype.hpp"
#include "aisle/core/half.hpp"
#include "aisle/core/macros.hpp"

namespace aisle::detail {

template <class S>
struct compute_of {
  using type = S;
};
template <>
struct compute_of<bf16> {
  using type = float;
};
template <>
struct compute_of<f16> {
  using type = float;
};
// The type a table of S elements is computed in: f32 for the 16-bit types, else S itself.
template <class S>
using compute_t = typename compute_of<S>::type;

// The runtime counterpart of compute_t.
inline DType compute_dtype(DType storage) {
  return storage == DType::bf16 || storage == DType::f16 ? DType::f32 : storage;
}

// A stored element widened to its compute type (exact for every storage type).
template <class S>
AISLE_HD inline compute_t<S> widen(S s) {
  return static_cast<compute_t<S>>(s);
}

// The random words of stochastic rounding (aisle::HalfRounding). Rounding needs uniform words
// that are independent across elements and steps, not Philox's statistical strength, and it needs
// one per updated element: a Philox block per four elements made a bf16 sparse step on the CPU
// 1.6-1.9x slower than the f32 one. So each word is an integer hash instead: element e's word is
// mix32(low 32 bits of e ^ mix32(key ^ high 32 bits of e)), with key a hash of (seed, step).
// Identical on the host and on CUDA devices.
//
// mix32: xor-shift-multiply with full avalanche (the "lowbias32" constants of Wellons' hash
// prospector).
AISLE_HD inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

class RoundingWords {
 public:
  AISLE_HD explicit RoundingWords(const HalfRounding& r)
      : key_(mix32(static_cast<uint32_t>(r.seed) ^
                   mix32(static_cast<uint32_t>(r.seed >> 32) ^
                         mix32(static_cast<uint32_t>(r.step) ^ mix32(static_cast<uint32_t>(r.step >> 32) ^ 0x9e3779b9u))))) {}
  AISLE_HD uint32_t operator()(int64_t e) { return mix32(static_cast<uint32_t>(e) ^ high_key(e)); }
  // The part of element e's word shared by every element with e's high 32 bits.
  AISLE_HD uint32_t high_key(int64_t e) {
    const uint32_t high = static_cast<uint32_t>(static_cast<uint64_t>(e) >> 32);
    if (high != high_) {
      high_ = high;
      high_key_ = mix32(key_ ^ high);
    }
    return high_key_;
  }

 private:
  uint32_t key_;
  uint32_t high_ = 0;
  uint32_t high_key_ = mix32(key_);
};

// v rounded into storage type S; `word` is only called for stochastic rounding of 16-bit types.
template <class S, class Word>
AISLE_HD inline S narrow(compute_t<S> v, bool stochastic, Word&& word) {
  if constexpr (sizeof(S) == 2) {
    if (!stochastic) return S(v);
    S s;
    if constexpr (std::is_same_v<S, bf16>) s.bits = float_to_bf16_bits_stochastic(v, word());
    else s.bits = float_to_f16_bits_stochastic(v, word());
    return s;
  } else {
    return v;
  }
}

// Stores the updated values v[0, n) of consecutive elements e0, e0 + 1, ... of a table stored as
// S. A row that shares its high 32 bits takes one hash per element in a loop the host compiler
// vectorises.
template <class S>
inline void narrow_row(const compute_t<S>* v, S* dst, int64_t n, int64_t e0, bool stochastic, RoundingWords& words) {
  if constexpr (sizeof(S) == 2) {
    if (stochastic && n > 0 && (static_cast<uint64_t>(e0) >> 32) == (static_cast<uint64_t>(e0 + n - 1) >> 32)) {
      const uint32_t high_key = words.high_key(e0);
      const uint32_t low = static_cast<uint32_t>(e0);
      for (int64_t k = 0; k < n; ++k)
        dst[k] = narrow<S>(v[k], true, [&] { return mix32((low + static_cast<uint32_t>(k)) ^ high_key); });
      return;
    }
  }
  for (int64_t k = 0; k < n; ++k) dst[k] = narrow<S>(v[k], stochastic, [&] { return words(e0 + k); });
}

}  // namespace aisle::detail
