#pragma once
// Internal: sequential draws from one Philox (seed, stream) starting at a chosen block. Samplers
// give every output slot (a row, a node, a bucket) its own block range, so slots can be drawn in
// any order on any thread and still produce the same numbers: determinism independent of the
// thread count, and a pattern a CUDA kernel can reproduce with one thread per slot (every member
// is AISLE_HD so that kernels draw with this very code, not a copy of it).
#include <cstdint>

#include "aisle/core/macros.hpp"
#include "aisle/tensor/random.hpp"

namespace aisle::detail {

class CounterRng {
 public:
  AISLE_HD CounterRng(uint64_t seed, uint64_t stream, uint64_t first_block)
      : seed_(seed), stream_(stream), block_(first_block) {}

  AISLE_HD uint32_t u32() {
    if (used_ == 4) {
      words_ = philox_block(seed_, stream_, block_++);
      used_ = 0;
    }
    return words_.v[used_++];
  }
  AISLE_HD uint64_t u64() {
    const uint64_t hi = u32();
    return (hi << 32) | u32();
  }
  AISLE_HD double unit() {  // [0, 1), 53 bits
    const uint32_t hi = u32();
    return uniform_double(hi, u32());
  }
  // Uniform in [0, bound), bound > 0: Lemire's multiply-shift with rejection, exact for every
  // bound and almost always a single draw (of 32 bits when the bound fits, 64 otherwise).
  AISLE_HD uint64_t below(uint64_t bound) {
    if (bound <= 0xFFFFFFFFu) return below32(static_cast<uint32_t>(bound));
    unsigned __int128 m = static_cast<unsigned __int128>(u64()) * bound;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < bound) {
      const uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(u64()) * bound;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

 private:
  AISLE_HD uint32_t below32(uint32_t bound) {
    uint64_t m = uint64_t{u32()} * bound;
    uint32_t low = static_cast<uint32_t>(m);
    if (low < bound) {
      const uint32_t threshold = (0u - bound) % bound;
      while (low < threshold) {
        m = uint64_t{u32()} * bound;
        low = static_cast<uint32_t>(m);
      }
    }
    return static_cast<uint32_t>(m >> 32);
  }

  uint64_t seed_, stream_, block_;
  Philox4x32 words_{};
  int used_ = 4;
};

}  // namespace aisle::detail
