#include "aisle/data/batch_sampler.hpp"

#include <algorithm>
#include <map>
#include <numeric>

#include "aisle/data/permutation.hpp"
#include "support/omp_threads.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

std::vector<int64_t> epoch_rows(const BatchSampler& s) {
  std::vector<int64_t> all;
  for (int64_t b = 0; b < s.num_batches(); ++b) {
    const Batch batch = s.batch(b);
    const std::vector<int64_t> rows = batch.rows.to_vector<int64_t>();
    all.insert(all.end(), rows.begin(), rows.begin() + batch.valid);
  }
  return all;
}

std::vector<int64_t> iota(int64_t n, int64_t from = 0) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), from);
  return v;
}

TEST(RandomPermutation, IsAPermutationAtEverySize) {
  // 100000 and 300000 elements use 8 and 32 buckets; the small sizes one.
  for (int64_t n : {0, 1, 2, 7, 1000, 100000, 300000}) {
    std::vector<int64_t> p = random_permutation(n, 42, 7).to_vector<int64_t>();
    ASSERT_EQ(static_cast<int64_t>(p.size()), n);
    if (n >= 1000) {
      EXPECT_NE(p, iota(n)) << n;
    }
    std::sort(p.begin(), p.end());
    EXPECT_EQ(p, iota(n)) << n;
  }
}

TEST(RandomPermutation, DependsOnlyOnSeedAndStreamNotThreads) {
  const Tensor reference = random_permutation(300000, 9, 3);
  for (int threads : {1, 2, 5}) {
    Tensor again;
    ASSERT_TRUE(testing::with_omp_threads(threads, [&] { again = random_permutation(300000, 9, 3); }));
    EXPECT_EQ(again.to_vector<int64_t>(), reference.to_vector<int64_t>()) << threads << " threads";
  }
  EXPECT_NE(random_permutation(300000, 9, 4).to_vector<int64_t>(), reference.to_vector<int64_t>());
  EXPECT_NE(random_permutation(300000, 10, 3).to_vector<int64_t>(), reference.to_vector<int64_t>());
}

// Chi-square of observed counts against equal expected counts.
double chi_square_uniform(const std::vector<int64_t>& counts) {
  double total = 0, chi = 0;
  for (int64_t c : counts) total += static_cast<double>(c);
  const double expected = total / static_cast<double>(counts.size());
  for (int64_t c : counts) chi += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
  return chi;
}

TEST(RandomPermutation, AllOrdersOfFourAreEquallyLikely) {
  std::map<std::vector<int64_t>, int64_t> seen;
  for (uint64_t stream = 0; stream < 24000; ++stream) ++seen[random_permutation(4, 5, stream).to_vector<int64_t>()];
  ASSERT_EQ(seen.size(), 24u);
  std::vector<int64_t> counts;
  for (const auto& [order, count] : seen) counts.push_back(count);
  // 23 degrees of freedom: the 99.99% quantile is about 55.
  EXPECT_LT(chi_square_uniform(counts), 55.0);
}

TEST(RandomPermutation, PositionsAreUniformAcrossBuckets) {
  // 70000 elements spread over 8 buckets: where the first and last 10 ids land must be uniform
  // over the whole range, not stuck near their origin.
  const int64_t n = 70000, bins = 10, tracked = 10;
  std::vector<int64_t> counts(bins, 0);
  for (uint64_t stream = 0; stream < 200; ++stream) {
    const std::vector<int64_t> p = random_permutation(n, 11, stream).to_vector<int64_t>();
    for (int64_t pos = 0; pos < n; ++pos) {
      const int64_t id = p[static_cast<size_t>(pos)];
      if (id < tracked || id >= n - tracked) ++counts[static_cast<size_t>(pos * bins / n)];
    }
  }
  // 9 degrees of freedom: the 99.99% quantile is about 33.7.
  EXPECT_LT(chi_square_uniform(counts), 33.7);
}

TEST(BatchSampler, EveryRowOncePerEpochAndEpochsDiffer) {
  BatchSampler s(10007, {.batch_size = 64, .seed = 3});
  EXPECT_EQ(s.num_batches(), 157);
  std::vector<int64_t> e0 = epoch_rows(s);
  s.set_epoch(1);
  std::vector<int64_t> e1 = epoch_rows(s);
  EXPECT_NE(e0, e1);
  EXPECT_NE(e0, iota(10007));
  for (auto* rows : {&e0, &e1}) {
    std::sort(rows->begin(), rows->end());
    EXPECT_EQ(*rows, iota(10007));
  }
  EXPECT_EQ(s.batch(156).global_size, 10007 - 156 * 64);
}

TEST(BatchSampler, EpochIsAFunctionOfSeedAndEpochOnly) {
  BatchSampler walked(5000, {.batch_size = 100, .seed = 8});
  for (int64_t e = 1; e <= 3; ++e) walked.set_epoch(e);
  BatchSampler resumed(5000, {.batch_size = 100, .seed = 8});
  resumed.set_epoch(3);
  EXPECT_EQ(epoch_rows(resumed), epoch_rows(walked));
  BatchSampler other_seed(5000, {.batch_size = 100, .seed = 9});
  other_seed.set_epoch(3);
  EXPECT_NE(epoch_rows(other_seed), epoch_rows(walked));
}

TEST(BatchSampler, DropLastAndNoShuffle) {
  BatchSampler keep(10, {.batch_size = 4, .shuffle = false});
  EXPECT_EQ(keep.num_batches(), 3);
  EXPECT_EQ(epoch_rows(keep), iota(10));
  EXPECT_EQ(keep.batch(2).rows.to_vector<int64_t>(), (std::vector<int64_t>{8, 9}));
  BatchSampler drop(10, {.batch_size = 4, .shuffle = false, .drop_last = true});
  EXPECT_EQ(drop.num_batches(), 2);
  EXPECT_EQ(epoch_rows(drop), iota(8));
  BatchSampler shuffled(10, {.batch_size = 4, .drop_last = true, .seed = 1});
  std::vector<int64_t> rows = epoch_rows(shuffled);
  EXPECT_EQ(rows.size(), 8u);
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(std::unique(rows.begin(), rows.end()), rows.end());
  EXPECT_EQ(BatchSampler(0, {.batch_size = 4}).num_batches(), 0);
}

TEST(BatchSampler, ShardsAreDisjointEqualSizedAndUniteToTheGlobalBatch) {
  for (int64_t world : {1, 2, 3, 4}) {
    for (bool drop_last : {false, true}) {
      const BatchSamplerOptions base{.batch_size = 10, .drop_last = drop_last, .seed = 5};
      BatchSampler single(47, base);
      single.set_epoch(2);
      std::vector<BatchSampler> ranks;
      for (int64_t r = 0; r < world; ++r) {
        BatchSamplerOptions o = base;
        o.rank = r;
        o.world_size = world;
        ranks.emplace_back(47, o);
        ranks.back().set_epoch(2);
        ASSERT_EQ(ranks.back().num_batches(), single.num_batches());
      }
      for (int64_t b = 0; b < single.num_batches(); ++b) {
        const std::vector<int64_t> global = single.batch(b).rows.to_vector<int64_t>();
        const int64_t shard = (static_cast<int64_t>(global.size()) + world - 1) / world;
        std::vector<int64_t> united;
        for (int64_t r = 0; r < world; ++r) {
          const Batch part = ranks[static_cast<size_t>(r)].batch(b);
          const std::vector<int64_t> rows = part.rows.to_vector<int64_t>();
          ASSERT_EQ(static_cast<int64_t>(rows.size()), shard) << "world " << world << " rank " << r;
          EXPECT_EQ(part.global_size, static_cast<int64_t>(global.size()));
          for (int64_t j = 0; j < shard; ++j) {
            if (j < part.valid) {
              EXPECT_EQ(rows[static_cast<size_t>(j)], global[static_cast<size_t>(r + j * world)]);
              united.push_back(rows[static_cast<size_t>(j)]);
            } else {
              EXPECT_EQ(rows[static_cast<size_t>(j)], global[0]) << "padding repeats the batch's first row";
            }
          }
        }
        std::vector<int64_t> expected = global;
        std::sort(expected.begin(), expected.end());
        std::sort(united.begin(), united.end());
        EXPECT_EQ(united, expected) << "world " << world << " batch " << b;
      }
    }
  }
}

TEST(BatchSampler, PopulationAndGatheredColumns) {
  BatchSampler users(Tensor::from_vector<int64_t>({4, 9, 2, 7}), {.batch_size = 3, .seed = 2});
  std::vector<int64_t> rows = epoch_rows(users);
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, (std::vector<int64_t>{2, 4, 7, 9}));

  const Interactions x = Interactions::from_vectors({0, 1, 2, 0, 1}, {3, 2, 1, 0, 4}, 3, 5, {1, 2, 3, 4, 5});
  BatchSampler s(x.size(), {.batch_size = 4, .seed = 6});
  const InteractionBatch b = gather_batch(x, s.batch(0));
  const std::vector<int64_t> r = b.rows.to_vector<int64_t>(), u = b.users.to_vector<int64_t>(),
                             i = b.items.to_vector<int64_t>();
  const std::vector<float> v = b.values.to_vector<float>();
  ASSERT_EQ(r.size(), 4u);
  const std::vector<int64_t> xu = x.users.to_vector<int64_t>(), xi = x.items.to_vector<int64_t>();
  for (size_t j = 0; j < r.size(); ++j) {
    EXPECT_EQ(u[j], xu[static_cast<size_t>(r[j])]);
    EXPECT_EQ(i[j], xi[static_cast<size_t>(r[j])]);
    EXPECT_EQ(v[j], static_cast<float>(r[j] + 1));
  }
  EXPECT_EQ(b.valid, 4);
}

TEST(BatchSampler, RejectsBadOptions) {
  EXPECT_MESSAGE_HAS(testing::error_message([] { BatchSampler(10, {.batch_size = 0}); }), "batch_size must be at least 1");
  EXPECT_MESSAGE_HAS(testing::error_message([] { BatchSampler(10, {.rank = 2, .world_size = 2}); }),
                     "rank 2 is outside [0, 2)");
  EXPECT_MESSAGE_HAS(testing::error_message([] { BatchSampler(10, {.batch_size = 4}).batch(3); }),
                     "batch 3 is outside [0, 3)");
  EXPECT_MESSAGE_HAS(testing::error_message([] { BatchSampler(Tensor::ones({3}), {}); }),
                     "population must be a 1-D i64 CPU tensor");
}

}  // namespace
}  // namespace aisle::data
