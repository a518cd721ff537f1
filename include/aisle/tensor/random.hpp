#pragma once
#include <cstdint>

#include "aisle/core/macros.hpp"

namespace aisle {

// Philox4x32-10 (Salmon et al., SC'11): a counter-based generator. Output depends only on
// (key, counter), so element i of a random tensor is computed independently on any backend and
// the CPU and the GPU draw bit-identical integers for the same seed.
struct Philox4x32 {
  uint32_t v[4];
};

AISLE_HD inline Philox4x32 philox4x32_10(Philox4x32 ctr, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kMul0} * ctr.v[0];
    const uint64_t p1 = uint64_t{kMul1} * ctr.v[2];
    ctr = Philox4x32{{static_cast<uint32_t>(p1 >> 32) ^ ctr.v[1] ^ key0, static_cast<uint32_t>(p1),
                      static_cast<uint32_t>(p0 >> 32) ^ ctr.v[3] ^ key1, static_cast<uint32_t>(p0)}};
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return ctr;
}

// The 4 words for block `block` of the stream (seed, stream). Every random op takes one fresh
// stream id from its Generator and draws block b for elements [4b, 4b+4) (f32) or [2b, 2b+2) (f64).
AISLE_HD inline Philox4x32 philox_block(uint64_t seed, uint64_t stream, uint64_t block) {
  return philox4x32_10(Philox4x32{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                                   static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)}},
                       static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform in [0, 1) with 24 (float) or 53 (double) random bits; exact, so identical on CPU and GPU.
AISLE_HD inline float uniform_float(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }
AISLE_HD inline double uniform_double(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (uint64_t{hi} << 21) ^ (lo >> 11);
  return static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// A seeded source of Philox streams. Deterministic: the same seed and the same sequence of random
// ops give the same numbers, on any device. Its whole state is (seed, next stream id), so it is
// trivially checkpointed.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t next_stream() const { return stream_; }
  // Reserves a fresh stream for one random op.
  uint64_t take_stream() { return stream_++; }
  void set_state(uint64_t seed, uint64_t next_stream) {
    seed_ = seed;
    stream_ = next_stream;
  }
  // Host-side scalar draws (shuffles, sampling decisions), from their own stream.
  uint32_t next_u32();
  double next_double();                // [0, 1)
  uint64_t next_below(uint64_t bound);  // [0, bound), unbiased

 private:
  uint64_t seed_;
  uint64_t stream_ = 0;
  // host scalar draws consume blocks of one reserved stream
  uint64_t scalar_stream_ = ~uint64_t{0};
  uint64_t scalar_block_ = 0;
  Philox4x32 scalar_words_{};
  int scalar_used_ = 4;
};

}  // namespace aisle
