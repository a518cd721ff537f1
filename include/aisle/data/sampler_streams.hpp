#pragma once
#include <cstdint>

namespace aisle::data {

// Philox stream ids for the samplers' per-epoch randomness. A stream named by (purpose, epoch,
// step) lets a resumed run redraw epoch N's shuffles and negatives without replaying epochs
// 0..N-1, and the high purpose byte keeps these ids far from Generator::take_stream's 0, 1, 2, ...
// so they never collide with the streams of random ops. Epochs must be < 2^24, steps < 2^32.
enum class SamplerPurpose : uint64_t { shuffle = 1, negatives = 2, sequences = 3, neighbors = 4, message_dropout = 5,
                                       node_dropout = 6, cold_items = 7, pairs = 8 };

constexpr uint64_t sampler_stream(SamplerPurpose purpose, uint64_t epoch, uint64_t step = 0) {
  return (static_cast<uint64_t>(purpose) << 56) | ((epoch & 0xFFFFFFu) << 32) | (step & 0xFFFFFFFFu);
}

}  // namespace aisle::data
