#include "aisle/tensor/random.hpp"

#include "aisle/core/error.hpp"

namespace aisle {

uint32_t Generator::next_u32() {
  if (scalar_used_ == 4) {
    scalar_words_ = philox_block(seed_, scalar_stream_, scalar_block_++);
    scalar_used_ = 0;
  }
  return scalar_words_.v[scalar_used_++];
}

double Generator::next_double() {
  const uint32_t hi = next_u32();
  return uniform_double(hi, next_u32());
}

uint64_t Generator::next_below(uint64_t bound) {
  AISLE_CHECK(bound > 0, "Generator::next_below: bound must be positive");
  // Rejection sampling on 64 bits: unbiased for every bound.
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t hi = next_u32();
    const uint64_t x = (hi << 32) | next_u32();
    if (x >= threshold) return x % bound;
  }
}

}  // namespace aisle
