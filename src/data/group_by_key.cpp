#include "src/data/group_by_key.hpp"

#include <algorithm>

#include "src/core/parallel.hpp"

namespace aisle::detail {

namespace {

constexpr int64_t kMaxBuckets = 1024;
constexpr int64_t kMaxChunks = 256;
constexpr int64_t kMinChunk = 1 << 16;

}  // namespace

void group_by_key(const int64_t* key, const int64_t* values, int64_t n, int64_t num_keys,
                  std::vector<int64_t>& offsets, std::vector<int64_t>& grouped) {
  offsets.assign(static_cast<size_t>(num_keys) + 1, 0);
  grouped.resize(static_cast<size_t>(n));
  if (n == 0) return;
  int shift = 0;
  while (((num_keys - 1) >> shift) >= kMaxBuckets) ++shift;
  const int64_t buckets = ((num_keys - 1) >> shift) + 1;
  const int64_t chunks = std::clamp<int64_t>(n / kMinChunk, 1, kMaxChunks);
  auto chunk_begin = [&](int64_t c) { return c * n / chunks; };

  // Pass 1: (key, value) pairs into coarse buckets, in entry order within each bucket.
  std::vector<int64_t> slots(static_cast<size_t>(chunks * buckets), 0), bucket_start;
  cpu::parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) ++slots[static_cast<size_t>(c * buckets + (key[i] >> shift))];
  });
  counts_to_positions(slots, chunks, buckets, bucket_start);
  std::vector<int64_t> coarse_key(static_cast<size_t>(n)), coarse_value(static_cast<size_t>(n));
  cpu::parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t* next = slots.data() + c * buckets;
      for (int64_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
        const size_t k = static_cast<size_t>(next[key[i] >> shift]++);
        coarse_key[k] = key[i];
        coarse_value[k] = values ? values[i] : i;
      }
    }
  });

  // Pass 2: each bucket owns a disjoint key range, so it counts and places its entries alone.
  cpu::parallel_for(buckets, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t k = bucket_start[static_cast<size_t>(b0)]; k < bucket_start[static_cast<size_t>(b1)]; ++k)
      ++offsets[static_cast<size_t>(coarse_key[static_cast<size_t>(k)]) + 1];
  });
  for (int64_t k = 0; k < num_keys; ++k) offsets[static_cast<size_t>(k) + 1] += offsets[static_cast<size_t>(k)];
  std::vector<int64_t> cursor(offsets.begin(), offsets.end() - 1);
  cpu::parallel_for(buckets, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t k = bucket_start[static_cast<size_t>(b0)]; k < bucket_start[static_cast<size_t>(b1)]; ++k)
      grouped[static_cast<size_t>(cursor[static_cast<size_t>(coarse_key[static_cast<size_t>(k)])]++)] =
          coarse_value[static_cast<size_t>(k)];
  });
}

void counts_to_positions(std::vector<int64_t>& slots, int64_t chunks, int64_t buckets,
                         std::vector<int64_t>& bucket_start) {
  bucket_start.assign(static_cast<size_t>(buckets) + 1, 0);
  int64_t running = 0;
  for (int64_t b = 0; b < buckets; ++b) {
    bucket_start[static_cast<size_t>(b)] = running;
    for (int64_t c = 0; c < chunks; ++c) {
      int64_t& slot = slots[static_cast<size_t>(c * buckets + b)];
      const int64_t count = slot;
      slot = running;
      running += count;
    }
  }
  bucket_start[static_cast<size_t>(buckets)] = running;
}

}  // namespace aisle::detail
