#include "aisle/data/permutation.hpp"

#include <algorithm>
#include <vector>

#include "src/core/parallel.hpp"
#include "src/data/counter_rng.hpp"
#include "src/data/group_by_key.hpp"

namespace aisle::data {

namespace {

// About this many elements per bucket: a bucket's shuffle then runs in L2.
constexpr int64_t kBucketTarget = 1 << 14;
constexpr int kMaxBucketBits = 12;
// Counting runs over at most this many fixed chunks (a function of n only), bounding the
// chunk x bucket count table to 1M entries.
constexpr int64_t kMaxChunks = 256;
constexpr int64_t kMinChunk = 1 << 16;
// Bucket draws use blocks [0, n/4); each bucket's Fisher-Yates reads its own range above 2^63.
constexpr uint64_t kShuffleBlocks = uint64_t{1} << 63;

// Element i's bucket: the top `bits` bits of word i % 4 of Philox block i / 4.
void draw_buckets(uint64_t seed, uint64_t stream, int bits, int64_t begin, int64_t end, uint16_t* bucket) {
  Philox4x32 words{};
  for (int64_t i = begin; i < end; ++i) {
    if (i == begin || (i & 3) == 0) words = philox_block(seed, stream, static_cast<uint64_t>(i) >> 2);
    bucket[i] = bits == 0 ? uint16_t{0} : static_cast<uint16_t>(words.v[i & 3] >> (32 - bits));
  }
}

}  // namespace

Tensor random_permutation(int64_t n, uint64_t seed, uint64_t stream) {
  AISLE_CHECK(n >= 0, "random_permutation: n must be non-negative, got ", n);
  Tensor out = Tensor::empty({n}, DType::i64);
  if (n == 0) return out;
  int64_t* po = out.data<int64_t>();

  int bits = 0;
  while (bits < kMaxBucketBits && (int64_t{1} << bits) * kBucketTarget < n) ++bits;
  const int64_t buckets = int64_t{1} << bits;
  const int64_t chunks = std::clamp<int64_t>(n / kMinChunk, 1, kMaxChunks);
  auto chunk_begin = [&](int64_t c) { return c * n / chunks; };

  // Scatter into buckets: per-chunk counts, then each (bucket, chunk) gets its output offset,
  // so every chunk writes its own disjoint, deterministic positions.
  std::vector<uint16_t> bucket(static_cast<size_t>(n));
  std::vector<int64_t> offset(static_cast<size_t>(chunks * buckets), 0);
  cpu::parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t* count = offset.data() + c * buckets;
      draw_buckets(seed, stream, bits, chunk_begin(c), chunk_begin(c + 1), bucket.data());
      for (int64_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) ++count[bucket[static_cast<size_t>(i)]];
    }
  });
  std::vector<int64_t> bucket_start;
  aisle::detail::counts_to_positions(offset, chunks, buckets, bucket_start);
  cpu::parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t* next = offset.data() + c * buckets;
      for (int64_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) po[next[bucket[static_cast<size_t>(i)]]++] = i;
    }
  });

  cpu::parallel_for(buckets, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      detail::CounterRng rng(seed, stream, kShuffleBlocks | (static_cast<uint64_t>(b) << 40));
      int64_t* first = po + bucket_start[static_cast<size_t>(b)];
      const int64_t m = bucket_start[static_cast<size_t>(b) + 1] - bucket_start[static_cast<size_t>(b)];
      for (int64_t i = m - 1; i > 0; --i) std::swap(first[i], first[rng.below(static_cast<uint64_t>(i) + 1)]);
    }
  });
  return out;
}

}  // namespace aisle::data
