#include "aisle/data/negative_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "support/omp_threads.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

// Random interactions over U users and I items, plus user 0 holding every item but item 5 and
// user 1 all but every tenth item: the users rejection sampling alone would struggle with.
Interactions random_data(int64_t U, int64_t I, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> users, items;
  for (int64_t i = 0; i < I; ++i) {
    if (i != 5) {
      users.push_back(0);
      items.push_back(i);
    }
    if (i % 10 != 3) {
      users.push_back(1);
      items.push_back(i);
    }
  }
  for (int64_t u = 2; u < U; ++u) {
    const int64_t n = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(I / 2)));
    for (int64_t k = 0; k < n; ++k) {
      users.push_back(u);
      items.push_back(static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(I))));
    }
  }
  return Interactions::from_vectors(users, items, U, I);
}

std::shared_ptr<const UserItemIndex> index_of(const Interactions& x) { return std::make_shared<UserItemIndex>(x); }

// Chi-square statistic of counts against expected probabilities (entries with p = 0 must be 0).
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& p, int64_t draws, int64_t& df) {
  double chi = 0;
  df = -1;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (p[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "item " << i << " has probability 0";
      continue;
    }
    const double e = p[i] * static_cast<double>(draws);
    chi += (static_cast<double>(counts[i]) - e) * (static_cast<double>(counts[i]) - e) / e;
    ++df;
  }
  return chi;
}

// A bound the statistic exceeds with probability far below 1e-6 for df >= 10 (mean df, sd sqrt(2 df)).
double chi_bound(int64_t df) { return static_cast<double>(df) + 7.0 * std::sqrt(2.0 * static_cast<double>(df)); }

void expect_never_positive(const NegativeSampler& s, const UserItemIndex& index, uint64_t seed) {
  const int64_t U = index.num_users();
  std::vector<int64_t> all_users;
  for (int rep = 0; rep < 20; ++rep)
    for (int64_t u = 0; u < U; ++u) all_users.push_back(u);
  const Tensor users = Tensor::from_vector(all_users);
  const std::vector<int64_t> neg = s.sample(users, 7, seed, 1).to_vector<int64_t>();
  ASSERT_EQ(neg.size(), all_users.size() * 7);
  for (size_t r = 0; r < all_users.size(); ++r)
    for (size_t j = 0; j < 7; ++j) {
      const int64_t item = neg[r * 7 + j];
      ASSERT_GE(item, 0);
      ASSERT_LT(item, index.num_items());
      ASSERT_FALSE(index.contains(all_users[r], item)) << "user " << all_users[r] << " got positive " << item;
    }
  // User 0's only non-positive is item 5.
  const std::vector<int64_t> only = s.sample(Tensor::from_vector<int64_t>({0}), 50, seed, 2).to_vector<int64_t>();
  EXPECT_TRUE(std::all_of(only.begin(), only.end(), [](int64_t i) { return i == 5; }));
}

TEST(NegativeSampler, UniformNeverReturnsPositives) {
  const Interactions x = random_data(60, 80, 1);
  const auto index = index_of(x);
  expect_never_positive(NegativeSampler::uniform(index), *index, 3);
}

TEST(NegativeSampler, PopularityNeverReturnsPositivesOnEitherPath) {
  const Interactions x = random_data(60, 80, 2);
  const auto index = index_of(x);
  const Tensor counts = item_counts(x);
  expect_never_positive(NegativeSampler::popularity(index, counts, 0.75), *index, 4);
  expect_never_positive(NegativeSampler::popularity(index, counts, 0.75, /*max_attempts=*/0), *index, 5);
  expect_never_positive(NegativeSampler::popularity(index, counts, 1.0, /*max_attempts=*/1), *index, 6);
}

TEST(NegativeSampler, ItemCountsCountRows) {
  const Interactions x = Interactions::from_vectors({0, 1, 1, 2}, {2, 2, 0, 2}, 3, 4);
  EXPECT_EQ(item_counts(x).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 3, 0}));
}

TEST(NegativeSampler, UniformIsUniformOverTheNonPositives) {
  // User 0 holds items 0, 3, 4, 10 and 29 of 30.
  const auto index = index_of(Interactions::from_vectors({0, 0, 0, 0, 0, 1}, {0, 3, 4, 10, 29, 1}, 2, 30));
  const NegativeSampler s = NegativeSampler::uniform(index);
  const int64_t draws = 200000;
  const std::vector<int64_t> neg = s.sample(Tensor::from_vector<int64_t>({0}), draws, 77, 0).to_vector<int64_t>();
  std::vector<int64_t> counts(30, 0);
  for (int64_t i : neg) ++counts[static_cast<size_t>(i)];
  std::vector<double> p(30, 1.0 / 25.0);
  for (int64_t i : {0, 3, 4, 10, 29}) p[static_cast<size_t>(i)] = 0;
  int64_t df = 0;
  const double chi = chi_square(counts, p, draws, df);
  EXPECT_EQ(df, 24);
  EXPECT_LT(chi, chi_bound(df));
}

// P(i) must be count_i^alpha over the non-positives, normalised, on the rejection path, the
// exact path, and for a user whose positives hold most of the mass.
TEST(NegativeSampler, PopularityFrequenciesMatchCountPowAlpha) {
  const int64_t I = 40;
  std::vector<int64_t> users, items;
  auto add = [&](int64_t u, int64_t i) {
    users.push_back(u);
    items.push_back(i);
  };
  // Items 0..19 are rare (1 to 3 rows; item 6 none, count 0), items 20..39 popular (120 to 139).
  std::vector<int64_t> counts(static_cast<size_t>(I));
  for (int64_t i = 0; i < I; ++i) counts[static_cast<size_t>(i)] = i == 6 ? 0 : i < 20 ? i % 3 + 1 : 100 + i;
  for (int64_t i = 0; i < I; ++i)
    for (int64_t c = 0; c < counts[static_cast<size_t>(i)]; ++c) add(2, i);
  // User 0: a few positives. User 1: every popular item, most of the mass (checked below).
  for (int64_t i : {1, 2, 17, 30}) add(0, i);
  for (int64_t i = 20; i < I; ++i) add(1, i);
  const Interactions x = Interactions::from_vectors(users, items, 3, I);
  const auto index = index_of(x);
  const Tensor count_tensor = Tensor::from_vector(counts);
  const double alpha = 0.75;
  const int64_t draws = 300000;
  for (int attempts : {NegativeSampler::kDefaultMaxAttempts, 0}) {
    const NegativeSampler s = NegativeSampler::popularity(index, count_tensor, alpha, attempts);
    for (int64_t user : {0, 1}) {
      std::vector<double> p(static_cast<size_t>(I));
      double total = 0;
      for (int64_t i = 0; i < I; ++i) {
        const bool positive = index->contains(user, i);
        p[static_cast<size_t>(i)] = positive ? 0.0 : std::pow(static_cast<double>(counts[static_cast<size_t>(i)]), alpha);
        total += p[static_cast<size_t>(i)];
      }
      double all = 0;
      for (int64_t c : counts) all += std::pow(static_cast<double>(c), alpha);
      if (user == 1) {
        EXPECT_LT(total / all, 1.0 / 8.0) << "user 1 must take the direct exact path";
      }
      for (double& v : p) v /= total;
      const std::vector<int64_t> neg =
          s.sample(Tensor::from_vector<int64_t>({user}), draws, 123, static_cast<uint64_t>(user)).to_vector<int64_t>();
      std::vector<int64_t> seen(static_cast<size_t>(I), 0);
      for (int64_t i : neg) ++seen[static_cast<size_t>(i)];
      int64_t df = 0;
      const double chi = chi_square(seen, p, draws, df);
      EXPECT_GE(df, 10);
      EXPECT_LT(chi, chi_bound(df)) << "user " << user << ", max_attempts " << attempts;
    }
  }
}

TEST(NegativeSampler, AlphaZeroIsUniformOverAllItemsIncludingUnseen) {
  const auto index = index_of(Interactions::from_vectors({0, 0}, {1, 2}, 1, 6));
  const NegativeSampler s = NegativeSampler::popularity(index, Tensor::from_vector<int64_t>({0, 5, 9, 0, 1, 0}), 0.0);
  const std::vector<int64_t> neg = s.sample(Tensor::from_vector<int64_t>({0}), 40000, 1, 0).to_vector<int64_t>();
  std::vector<int64_t> seen(6, 0);
  for (int64_t i : neg) ++seen[static_cast<size_t>(i)];
  int64_t df = 0;
  const double chi = chi_square(seen, {0.25, 0, 0, 0.25, 0.25, 0.25}, 40000, df);
  EXPECT_LT(chi, 25.0);  // df 3: far beyond the 99.99% quantile (21.1)
}

TEST(NegativeSampler, DeterministicAcrossRunsThreadsAndBatchComposition) {
  const Interactions x = random_data(300, 500, 8);
  const auto index = index_of(x);
  for (const NegativeSampler& s : {NegativeSampler::uniform(index),
                                   NegativeSampler::popularity(index, item_counts(x), 0.75)}) {
    Generator gen(5);
    const Tensor users = testing::random_ids({20000}, 300, gen);
    const Tensor reference = s.sample(users, 4, 99, 12);
    for (int threads : {1, 2, 3}) {
      Tensor again;
      ASSERT_TRUE(testing::with_omp_threads(threads, [&] { again = s.sample(users, 4, 99, 12); }));
      EXPECT_EQ(again.to_vector<int64_t>(), reference.to_vector<int64_t>()) << threads << " threads";
    }
    EXPECT_NE(s.sample(users, 4, 99, 13).to_vector<int64_t>(), reference.to_vector<int64_t>());
    EXPECT_NE(s.sample(users, 4, 98, 12).to_vector<int64_t>(), reference.to_vector<int64_t>());
    // Keyed by row id, the second half of the batch sampled alone draws what it drew in the whole.
    const Tensor half_users = users.rows(10000, 20000).clone();
    const Tensor keys = Tensor::arange(20000).rows(10000, 20000).clone();
    EXPECT_EQ(s.sample(half_users, 4, 99, 12, keys).to_vector<int64_t>(),
              reference.rows(10000, 20000).to_vector<int64_t>());
    // The Generator overload consumes one stream per call.
    Generator a(99), b(99);
    const Tensor first = s.sample(users, 4, a), second = s.sample(users, 4, a);
    EXPECT_EQ(a.next_stream(), 2u);
    EXPECT_EQ(first.to_vector<int64_t>(), s.sample(users, 4, b).to_vector<int64_t>());
    EXPECT_NE(first.to_vector<int64_t>(), second.to_vector<int64_t>());
  }
}

TEST(NegativeSampler, UsersWithNothingToDrawAreErrorsNamingTheUser) {
  // User 1 holds all 3 items; for popularity, user 0's only non-positive has count 0.
  const Interactions x = Interactions::from_vectors({0, 0, 1, 1, 1}, {0, 1, 0, 1, 2}, 2, 3);
  const auto index = index_of(x);
  const NegativeSampler uniform = NegativeSampler::uniform(index);
  EXPECT_EQ(uniform.sample(Tensor::from_vector<int64_t>({0, 0}), 3, 1, 1).to_vector<int64_t>(),
            (std::vector<int64_t>{2, 2, 2, 2, 2, 2}));
  EXPECT_THROW(uniform.sample(Tensor::from_vector<int64_t>({0, 1}), 1, 1, 1), DataError);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { uniform.sample(Tensor::from_vector<int64_t>({0, 1}), 1, 1, 1); }),
                     "user 1 has no negative to draw: all 3 items are positives");
  const NegativeSampler pop = NegativeSampler::popularity(index, Tensor::from_vector<int64_t>({4, 2, 0}), 0.5);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { pop.sample(Tensor::from_vector<int64_t>({0}), 1, 1, 1); }),
                     "user 0 has no negative to draw: every item of non-zero popularity weight is a positive");
}

// Counts 1e20 and 1 at alpha 1: with the 1e20 item a positive, user 0's whole mass (items 1 and 2,
// weights 1 and 3) is below the prefix sums' resolution, and the gap walk alone found nothing
// (it returned item -1). The draw then goes item by item, still in proportion to the weights.
Tensor pathological_draws(const NegativeSampler& s) {
  return s.sample(Tensor::from_vector<int64_t>(std::vector<int64_t>(4000, 0)), 1, 11, 3);
}
NegativeSampler pathological_sampler() {
  const Interactions x = Interactions::from_vectors({0, 1}, {0, 1}, 2, 3);
  return NegativeSampler::popularity(index_of(x), Tensor::from_vector<double>({1e20, 1, 3}), 1.0);
}

TEST(NegativeSampler, WeightsBelowThePrefixResolutionAreStillDrawnInProportion) {
  const std::vector<int64_t> draws = pathological_draws(pathological_sampler()).to_vector<int64_t>();
  int64_t twos = 0;
  for (const int64_t item : draws) {
    ASSERT_TRUE(item == 1 || item == 2) << "drew " << item;
    twos += item == 2;
  }
  // Binomial(4000, 3/4): mean 3000, sd 27.
  EXPECT_NEAR(static_cast<double>(twos), 3000.0, 7 * 27.4);
}

TEST(NegativeSampler, RejectsBadArguments) {
  const Interactions x = Interactions::from_vectors({0, 1}, {0, 1}, 2, 3);
  const auto index = index_of(x);
  const NegativeSampler s = NegativeSampler::uniform(index);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { s.sample(Tensor::from_vector<int64_t>({2}), 1, 0, 0); }),
                     "user id 2 at position 0 is outside [0, 2)");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { s.sample(Tensor::from_vector<int64_t>({0}), -1, 0, 0); }),
                     "k must be non-negative");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { s.sample(Tensor::from_vector<int32_t>({0}), 1, 0, 0); }),
                     "users must be a 1-D i64 CPU tensor");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       s.sample(Tensor::from_vector<int64_t>({0}), 1, 0, 0, Tensor::from_vector<int64_t>({-1}));
                     }),
                     "key -1 at position 0 is negative or too large");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { NegativeSampler::popularity(index, Tensor::ones({2}), 1.0); }),
                     "item_counts must be a 1-D CPU tensor of num_items = 3 entries");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       NegativeSampler::popularity(index, Tensor::from_vector<float>({1, -1, 2}), 1.0);
                     }),
                     "item_counts[1] = -1 must be finite and non-negative");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { NegativeSampler::popularity(index, Tensor::ones({3}), -0.5); }),
                     "alpha must be finite and non-negative");
  EXPECT_EQ(s.sample(Tensor::from_vector<int64_t>({0, 1}), 0, 0, 0).shape(), (Shape{2, 0}));
}

TEST(NegativeSampler, ToTheCpuIsTheSameSampler) {
  const Interactions x = random_data(50, 80, 3);
  const NegativeSampler s = NegativeSampler::popularity(index_of(x), item_counts(x), 0.75);
  const NegativeSampler same = s.to(Device::cpu());
  EXPECT_TRUE(same.device().is_cpu());
  const Tensor users = Tensor::arange(50);
  EXPECT_EQ(same.sample(users, 3, 4, 5).to_vector<int64_t>(), s.sample(users, 3, 4, 5).to_vector<int64_t>());
  // A CPU sampler takes CPU ids only (the message says where they must be).
  if (!cuda::built_with_cuda()) {
    EXPECT_MESSAGE_HAS(testing::error_message([&] { (void)s.to(Device::cuda(0)); }), "has no CUDA backend");
  }
}

// Zipf-like counts (item i seen about 1000 / (i + 1) times), a few items never seen, and users
// from empty to holding nearly every item, so all three draw paths run: the uniform rank search,
// alias tries, and the exact complement walk (heavy users, and max_attempts 0).
Interactions skewed_data(int64_t U, int64_t I, uint64_t seed, Tensor& counts) {
  Generator gen(seed);
  std::vector<int64_t> users, items, c(static_cast<size_t>(I), 0);
  for (int64_t i = 0; i < I; ++i) c[static_cast<size_t>(i)] = i % 17 == 16 ? 0 : 1000 / (i + 1) + 1;
  for (int64_t u = 0; u < U; ++u) {
    // 0: empty, 1-2: light, 3: heavy (never items 3 mod 7), 4: all but items 5 mod 97.
    const int64_t kind = u % 5;
    for (int64_t i = 0; i < I; ++i) {
      const uint64_t roll = gen.next_below(1000);
      const bool take = kind == 1 || kind == 2 ? roll < 20 : kind == 3 ? roll < 800 && i % 7 != 3 : kind == 4 ? i % 97 != 5 : false;
      if (take) {
        users.push_back(u);
        items.push_back(i);
      }
    }
  }
  counts = Tensor::from_vector(c);
  return Interactions::from_vectors(users, items, U, I);
}

TEST(NegativeSamplerCuda, MatchesCpuBitForBit) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device gpu = testing::gpu();
  const uint64_t fresh = testing::fresh_seed();
  Generator gen(fresh);
  for (const int64_t num_items : {int64_t{40}, int64_t{3000}}) {
    Tensor counts;
    const Interactions x = skewed_data(120, num_items, fresh, counts);
    const auto index = index_of(x);
    std::vector<NegativeSampler> samplers{NegativeSampler::uniform(index)};
    for (const int attempts : {0, 1, NegativeSampler::kDefaultMaxAttempts})
      for (const double alpha : {0.0, 0.75, 1.0}) samplers.push_back(NegativeSampler::popularity(index, counts, alpha, attempts));
    // Every user can draw under every sampler: each leaves out items of non-zero weight.
    std::vector<int64_t> ids;
    for (int i = 0; i < 5000; ++i) ids.push_back(static_cast<int64_t>(gen.next_below(120)));
    const Tensor users = Tensor::from_vector(ids);
    const Tensor keys = testing::random_ids({5000}, int64_t{1} << 40, gen);
    for (size_t which = 0; which < samplers.size(); ++which) {
      SCOPED_TRACE(::testing::Message() << "fresh seed " << fresh << ", " << num_items << " items, sampler " << which);
      const NegativeSampler& cpu = samplers[which];
      const NegativeSampler dev = cpu.to(gpu);
      ASSERT_TRUE(dev.device().is_cuda());
      const uint64_t stream = gen.next_u32();
      for (const int64_t k : {int64_t{1}, int64_t{4}, int64_t{0}}) {
        const Tensor reference = cpu.sample(users, k, fresh, stream);
        const Tensor on_gpu = dev.sample(users, k, fresh, stream);
        EXPECT_TRUE(on_gpu.is_cuda());
        EXPECT_EQ(on_gpu.shape(), reference.shape());
        EXPECT_EQ(on_gpu.to(Device::cpu()).to_vector<int64_t>(), reference.to_vector<int64_t>()) << "k " << k;
        // Keyed, with users and keys already on the device.
        EXPECT_EQ(dev.sample(users.to(gpu), k, fresh, stream, keys.to(gpu)).to(Device::cpu()).to_vector<int64_t>(),
                  cpu.sample(users, k, fresh, stream, keys).to_vector<int64_t>());
      }
    }
  }
}

TEST(NegativeSamplerCuda, WeightsBelowThePrefixResolutionMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const NegativeSampler cpu = pathological_sampler();
  EXPECT_EQ(pathological_draws(cpu.to(testing::gpu())).to(Device::cpu()).to_vector<int64_t>(),
            pathological_draws(cpu).to_vector<int64_t>());
}

TEST(NegativeSamplerCuda, RejectsBadInputsWithTheCpuMessages) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device gpu = testing::gpu();
  const Interactions x = Interactions::from_vectors({0, 0, 1, 1, 1}, {0, 1, 0, 1, 2}, 3, 3);
  const auto index = index_of(x);
  const NegativeSampler uniform = NegativeSampler::uniform(index).to(gpu);
  const NegativeSampler pop = NegativeSampler::popularity(index, Tensor::from_vector<int64_t>({4, 2, 0}), 0.5).to(gpu);
  for (const Device on : {Device::cpu(), gpu}) {
    auto ids = [&](std::vector<int64_t> v) { return Tensor::from_vector(v).to(on); };
    EXPECT_MESSAGE_HAS(testing::error_message([&] { uniform.sample(ids({2, 0, 1, 5}), 1, 1, 1); }),
                       "user 1 has no negative to draw: all 3 items are positives");
    EXPECT_MESSAGE_HAS(testing::error_message([&] { uniform.sample(ids({2, 7, 1}), 1, 1, 1); }),
                       "user id 7 at position 1 is outside [0, 3)");
    EXPECT_MESSAGE_HAS(testing::error_message([&] { pop.sample(ids({2, 0}), 1, 1, 1); }),
                       "user 0 has no negative to draw: every item of non-zero popularity weight is a positive");
    EXPECT_MESSAGE_HAS(testing::error_message([&] { uniform.sample(ids({0, 2}), 2, 0, 0, ids({3, -4})); }),
                       "key -4 at position 1 is negative or too large");
    EXPECT_MESSAGE_HAS(testing::error_message([&] { uniform.sample(Tensor::from_vector<int32_t>({0}).to(on), 1, 0, 0); }),
                       "users must be a 1-D i64 tensor on the CPU or the sampler's device");
    // Good inputs after bad ones still sample, on the device.
    EXPECT_EQ(uniform.sample(ids({0, 0}), 3, 1, 1).to(Device::cpu()).to_vector<int64_t>(),
              (std::vector<int64_t>{2, 2, 2, 2, 2, 2}));
  }
  EXPECT_EQ(uniform.sample(Tensor::from_vector<int64_t>({}), 3, 1, 1).shape(), (Shape{0, 3}));
}

}  // namespace
}  // namespace aisle::data
