#pragma once
// Internal: sequential draws from one Philox stream of the seed. Every consumer owns its own
// stream id, so what a user does depends only on (seed, user), never on which thread or block
// generated it: the output is identical for any thread count.
#include <cmath>
#include <cstdint>

#include "aisle/tensor/random.hpp"

namespace aisle::data::synth {

// Disjoint stream-id ranges (the top bits name the consumer).
constexpr uint64_t kCatalogueStream = uint64_t{1} << 62;
constexpr uint64_t kUserStreamBase = uint64_t{2} << 62;  // + user id

class Stream {
 public:
  Stream(uint64_t seed, uint64_t stream) : seed_(seed), stream_(stream) {}

  uint32_t u32() {
    if (used_ == 4) {
      words_ = philox_block(seed_, stream_, block_++);
      used_ = 0;
    }
    return words_.v[used_++];
  }
  double uniform() {  // [0, 1), 53 bits
    const uint32_t hi = u32();
    return uniform_double(hi, u32());
  }
  double uniform_open() { return 1.0 - uniform(); }  // (0, 1]: safe under log()
  // Unbiased integer in [0, n) (Lemire's multiply-shift with rejection), n >= 1.
  uint32_t below(uint32_t n) {
    uint64_t m = uint64_t{u32()} * n;
    if (static_cast<uint32_t>(m) < n) {
      const uint32_t threshold = (0u - n) % n;
      while (static_cast<uint32_t>(m) < threshold) m = uint64_t{u32()} * n;
    }
    return static_cast<uint32_t>(m >> 32);
  }
  bool chance(double p) { return uniform() < p; }
  double normal() {  // Box-Muller; one value per call keeps the draw count fixed
    const double r = std::sqrt(-2.0 * std::log(uniform_open()));
    return r * std::cos(6.283185307179586 * uniform());
  }
  double exponential(double mean) { return -mean * std::log(uniform_open()); }

 private:
  uint64_t seed_, stream_;
  uint64_t block_ = 0;
  Philox4x32 words_{};
  int used_ = 4;
};

}  // namespace aisle::data::synth
