// The internal grouping under UserSequences and bipartite_graph: a stable sort by key.
#include "src/data/group_by_key.hpp"

#include <algorithm>
#include <numeric>

#include "support/omp_threads.hpp"
#include "support/testing.hpp"

namespace aisle::detail {
namespace {

TEST(GroupByKey, MatchesAStableSortAtEverySize) {
  // Sizes cover one and many chunks (2^16 entries each) and one bucket per key or many keys per
  // bucket (more than 1024 keys); key 0 and the last key stay empty in the skewed cases.
  for (const auto& [n, num_keys] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 3}, {1, 1}, {10, 4}, {5000, 1}, {300000, 7}, {300000, 5000}, {700000, 200000}}) {
    Generator gen(static_cast<uint64_t>(n + num_keys));
    std::vector<int64_t> key(static_cast<size_t>(n));
    for (int64_t& k : key) {
      const uint64_t a = gen.next_below(static_cast<uint64_t>(num_keys)), b = gen.next_below(static_cast<uint64_t>(num_keys));
      k = num_keys > 2 ? 1 + static_cast<int64_t>(std::min(a, b)) % (num_keys - 2) : static_cast<int64_t>(a);
    }
    std::vector<int64_t> expected(static_cast<size_t>(n));
    std::iota(expected.begin(), expected.end(), 0);
    std::stable_sort(expected.begin(), expected.end(),
                     [&](int64_t a, int64_t b) { return key[static_cast<size_t>(a)] < key[static_cast<size_t>(b)]; });
    for (int threads : {1, 2, 3}) {
      std::vector<int64_t> offsets, order;
      ASSERT_TRUE(testing::with_omp_threads(threads, [&] { group_by_key(key.data(), nullptr, n, num_keys, offsets, order); }));
      EXPECT_EQ(order, expected) << n << " entries, " << num_keys << " keys, " << threads << " threads";
      ASSERT_EQ(static_cast<int64_t>(offsets.size()), num_keys + 1);
      EXPECT_EQ(offsets.front(), 0);
      EXPECT_EQ(offsets.back(), n);
      for (int64_t k = 0; k < num_keys; ++k)
        for (int64_t q = offsets[static_cast<size_t>(k)]; q < offsets[static_cast<size_t>(k) + 1]; ++q)
          ASSERT_EQ(key[static_cast<size_t>(order[static_cast<size_t>(q)])], k);
    }
    // With values, the groups hold values[i] in place of i.
    std::vector<int64_t> values(static_cast<size_t>(n)), offsets, grouped;
    for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = 3 * i + 1;
    group_by_key(key.data(), values.data(), n, num_keys, offsets, grouped);
    for (int64_t q = 0; q < n; ++q) ASSERT_EQ(grouped[static_cast<size_t>(q)], 3 * expected[static_cast<size_t>(q)] + 1);
  }
}

}  // namespace
}  // namespace aisle::detail
