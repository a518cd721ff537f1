#pragma once
// Internal: the neighbour draw shared by the CPU sampler (src/data/neighbor_sampler.cpp) and its
// CUDA twin (cuda/neighbor_sample.cu). Both run this code, so a node keeps the same neighbours on
// either device; only the membership test ("was t drawn already?") differs, serial on the CPU and
// spread over a warp's lanes on the GPU.
#include <cstdint>

#include "aisle/core/macros.hpp"
#include "src/data/counter_rng.hpp"

namespace aisle::detail {

// Node v at hop h reads blocks from (h << 56) | (v << 16): 65536 blocks, enough for 65536 draws,
// which is why fan-outs stop at 65536, hops at 255 and nodes below 2^40.
constexpr int64_t kMaxNeighborFanout = 65536;
constexpr int64_t kMaxNeighborHops = 255;
constexpr int kNeighborNodeBits = 40;

AISLE_HD inline uint64_t neighbor_block(int64_t hop, int64_t node) {
  return (static_cast<uint64_t>(hop) << 56) | (static_cast<uint64_t>(node) << 16);
}

// How many neighbours a node of `degree` keeps at fan-out f (f < 0: all of them).
AISLE_HD inline int64_t neighbor_take(int64_t degree, int64_t f) { return f < 0 || degree < f ? degree : f; }

// Floyd's draw of `take` distinct row positions out of [0, degree), take < degree: for
// j = degree - take .. degree - 1, pick t in [0, j]; if t is taken, j (never taken yet) joins
// instead. Every take-subset is equally likely. Draw number c goes to emit(c, position);
// taken(t, c) says whether t is among the first c positions emitted.
template <class Taken, class Emit>
AISLE_HD void floyd_positions(uint64_t seed, uint64_t stream, int64_t hop, int64_t node, int64_t degree,
                              int64_t take, Taken&& taken, Emit&& emit) {
  CounterRng rng(seed, stream, neighbor_block(hop, node));
  int64_t count = 0;
  for (int64_t j = degree - take; j < degree; ++j) {
    const int64_t t = static_cast<int64_t>(rng.below(static_cast<uint64_t>(j) + 1));
    emit(count, taken(t, count) ? j : t);
    ++count;
  }
}

}  // namespace aisle::detail
