#pragma once
// Internal: sequential draws from one Philox stream of the seed. Every consumer owns its own
// stream id, so what a user does depends only on (seed, user), never on which thread or block
// generated it: the output is identical for any thread count.
#include <cmath>
#include <cstdint>

#include "src/data/counter_rng.hpp"

namespace aisle::data::synth {

// Disjoint stream-id ranges (the top bits name the consumer).
constexpr uint64_t kCatalogueStream = uint64_t{1} << 62;
constexpr uint64_t kUserStreamBase = uint64_t{2} << 62;  // + user id

// The samplers' counter RNG from block 0, plus the distributions the generator draws from.
class Stream : public aisle::detail::CounterRng {
 public:
  Stream(uint64_t seed, uint64_t stream) : CounterRng(seed, stream, 0) {}

  double uniform() { return unit(); }                 // [0, 1), 53 bits
  double uniform_open() { return 1.0 - uniform(); }  // (0, 1]: safe under log()
  // Unbiased integer in [0, n), n >= 1.
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(CounterRng::below(n)); }
  bool chance(double p) { return uniform() < p; }
  double normal() {  // Box-Muller; one value per call keeps the draw count fixed
    const double r = std::sqrt(-2.0 * std::log(uniform_open()));
    return r * std::cos(6.283185307179586 * uniform());
  }
  double exponential(double mean) { return -mean * std::log(uniform_open()); }
};

}  // namespace aisle::data::synth
