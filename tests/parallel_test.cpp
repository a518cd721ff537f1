// cpu::parallel_for_segments: the chunks cover every segment exactly once, in order, and are cut
// by cost (entries + 1 per segment), not by count.
#include <omp.h>

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "src/core/parallel.hpp"

namespace aisle {
namespace {

using Chunks = std::vector<std::pair<int64_t, int64_t>>;

Chunks chunks_of(const std::vector<int64_t>& ptr, int64_t unit_work, int64_t min_chunk_work) {
  Chunks chunks;
  std::mutex m;
  cpu::parallel_for_segments(static_cast<int64_t>(ptr.size()) - 1, ptr.data(), unit_work, min_chunk_work,
                             [&](int64_t s0, int64_t s1) {
                               std::lock_guard<std::mutex> lock(m);
                               chunks.emplace_back(s0, s1);
                             });
  std::sort(chunks.begin(), chunks.end());
  return chunks;
}

// Every segment in exactly one non-empty chunk.
void expect_partition(const Chunks& chunks, int64_t n) {
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.front().first, 0);
  EXPECT_EQ(chunks.back().second, n);
  for (size_t c = 0; c < chunks.size(); ++c) {
    EXPECT_LT(chunks[c].first, chunks[c].second) << "chunk " << c;
    if (c > 0) {
      EXPECT_EQ(chunks[c].first, chunks[c - 1].second) << "chunk " << c;
    }
  }
}

class ParallelForSegments : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = omp_get_max_threads();
    omp_set_num_threads(4);  // chunking depends on the thread count, not on the cores present
  }
  void TearDown() override { omp_set_num_threads(saved_); }
  int saved_ = 1;
};

TEST_F(ParallelForSegments, CutsAtEqualCostSoAHubGetsAChunkOfItsOwn) {
  // Segment 0 holds 10,000 entries, the 9,999 others one each: 29,999 cost units, a third of them
  // the hub's. Cut by count, the first of 16 chunks would hold the hub plus 624 more segments; cut
  // by cost, the hub is alone (the cuts that fall inside it collapse) and every other chunk holds
  // at most a 16th of the cost, give or take one segment.
  std::vector<int64_t> ptr{0, 10'000};
  for (int64_t s = 1; s < 10'000; ++s) ptr.push_back(ptr.back() + 1);
  const Chunks chunks = chunks_of(ptr, 64, 1);
  expect_partition(chunks, 10'000);
  EXPECT_EQ(chunks.front(), std::make_pair(int64_t{0}, int64_t{1}));
  EXPECT_GE(chunks.size(), 11u);
  EXPECT_LE(chunks.size(), 16u);  // 4 threads x 4 at most
  const int64_t share = 29'999 / 16;
  for (size_t c = 1; c < chunks.size(); ++c) {
    const int64_t cost = 2 * (chunks[c].second - chunks[c].first);
    EXPECT_LE(cost, share + 2) << "chunk " << c;
    if (c >= 2 && c + 1 < chunks.size()) {
      EXPECT_GE(cost, share - 2) << "chunk " << c;
    }
  }
}

TEST_F(ParallelForSegments, EmptySegmentsCountAndOffsetsNeedNotStartAtZero) {
  // All empty: cost 1 per segment, so chunks are equal by count. ptr starts at 500 (a slice).
  const std::vector<int64_t> ptr(1001, 500);
  const Chunks chunks = chunks_of(ptr, 1, 1);
  expect_partition(chunks, 1000);
  ASSERT_EQ(chunks.size(), 16u);
  for (const auto& [s0, s1] : chunks) {
    EXPECT_GE(s1 - s0, 1000 / 16 - 1);
    EXPECT_LE(s1 - s0, 1000 / 16 + 1);
  }
}

TEST_F(ParallelForSegments, SmallWorkRunsAsOneChunkAndFewSegmentsNeverSplitEmpty) {
  const std::vector<int64_t> ptr{0, 3, 3, 9};
  EXPECT_EQ(chunks_of(ptr, 8, 1 << 20), (Chunks{{0, 3}}));  // below the least work worth a thread
  const Chunks three = chunks_of(ptr, 1 << 20, 1);          // more chunks wanted than segments
  expect_partition(three, 3);
  EXPECT_LE(three.size(), 3u);
  EXPECT_TRUE(chunks_of({0}, 1, 1).empty());  // no segments: the body is not called
  omp_set_num_threads(1);
  EXPECT_EQ(chunks_of(ptr, 1 << 20, 1), (Chunks{{0, 3}}));  // one thread: one call
}

}  // namespace
}  // namespace aisle
