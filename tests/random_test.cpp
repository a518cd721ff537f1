#include <cmath>
#include <set>

#include "aisle/aisle.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

TEST(Philox, MatchesRandom123KnownAnswers) {
  // Random123 tests/kat_vectors, the three "philox4x32 10" lines (counter, key -> result).
  struct Kat { uint32_t ctr[4], key[2], out[4]; };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    const Philox4x32 r = philox4x32_10(Philox4x32{{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}}, k.key[0], k.key[1]);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.v[i], k.out[i]) << "word " << i;
  }
}

// The host fills draw eight Philox blocks at a time (vector code); element i must still be what
// philox_block gives for its block, at every offset, including the partial last block and tensors
// too short for one group of eight.
TEST(Random, HostFillsMatchPhiloxBlockByBlock) {
  for (const int64_t n : {int64_t{1}, int64_t{3}, int64_t{31}, int64_t{32}, int64_t{33}, int64_t{100003}}) {
    Generator gen(uint64_t{0x1234567890ab} + static_cast<uint64_t>(n));
    const uint64_t seed = gen.seed();
    uint64_t stream = gen.next_stream();
    const std::vector<float> u = ops::uniform({n}, gen, -2.0, 3.0).to_vector<float>();
    for (int64_t i = 0; i < n; ++i) {
      const Philox4x32 w = philox_block(seed, stream, static_cast<uint64_t>(i / 4));
      const double x = static_cast<double>(uniform_float(w.v[i % 4]));
      ASSERT_EQ(u[i], static_cast<float>(-2.0 + 5.0 * x)) << "uniform f32, n " << n << ", element " << i;
    }
    stream = gen.next_stream();
    const std::vector<float> m = ops::dropout_mask({n}, 0.25, gen).to_vector<float>();
    for (int64_t i = 0; i < n; ++i) {
      const Philox4x32 w = philox_block(seed, stream, static_cast<uint64_t>(i / 4));
      const float expected = static_cast<double>(uniform_float(w.v[i % 4])) < 0.25 ? 0.0f : static_cast<float>(1.0 / 0.75);
      ASSERT_EQ(m[i], expected) << "dropout, n " << n << ", element " << i;
    }
    stream = gen.next_stream();
    const std::vector<double> d = ops::uniform({n}, gen, 0.0, 1.0, DType::f64).to_doubles();
    for (int64_t i = 0; i < n; ++i) {
      const Philox4x32 w = philox_block(seed, stream, static_cast<uint64_t>(i / 2));
      ASSERT_EQ(d[i], uniform_double(w.v[2 * (i % 2)], w.v[2 * (i % 2) + 1])) << "uniform f64, n " << n << ", element " << i;
    }
    stream = gen.next_stream();
    const std::vector<int64_t> r = ops::randint({n}, 5, 1005, gen).to_vector<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      const Philox4x32 w = philox_block(seed, stream, static_cast<uint64_t>(i / 2));
      const uint64_t bits = (uint64_t{w.v[2 * (i % 2)]} << 32) | w.v[2 * (i % 2) + 1];
      ASSERT_EQ(r[i], 5 + static_cast<int64_t>(bits % 1000)) << "randint, n " << n << ", element " << i;
    }
  }
}

TEST(Random, SameSeedSameNumbersAndStreamsDiffer) {
  Generator a(42), b(42);
  const Tensor x = ops::uniform({1000}, a), y = ops::uniform({1000}, b);
  EXPECT_EQ(x.to_vector<float>(), y.to_vector<float>());
  const Tensor z = ops::uniform({1000}, a);  // next stream: different numbers
  EXPECT_NE(x.to_vector<float>(), z.to_vector<float>());
  EXPECT_EQ(a.next_stream(), 2u);
  Generator c(43);
  EXPECT_NE(ops::uniform({1000}, c).to_vector<float>(), x.to_vector<float>());
}

TEST(Random, UniformAndNormalHaveTheRightMoments) {
  Generator gen(7);
  for (DType dt : {DType::f32, DType::f64}) {
    const std::vector<double> u = ops::uniform({200001}, gen, -2.0, 4.0, dt).to_doubles();
    double mean = 0, var = 0, lo = 1e9, hi = -1e9;
    for (double v : u) { mean += v; lo = std::min(lo, v); hi = std::max(hi, v); }
    mean /= u.size();
    for (double v : u) var += (v - mean) * (v - mean);
    var /= u.size();
    EXPECT_NEAR(mean, 1.0, 0.02);
    EXPECT_NEAR(var, 3.0, 0.03);  // (b - a)^2 / 12
    EXPECT_GE(lo, -2.0);
    EXPECT_LT(hi, 4.0);

    const std::vector<double> n = ops::normal({200001}, gen, 3.0, 0.5, dt).to_doubles();
    double nm = 0, nv = 0;
    for (double v : n) { ASSERT_TRUE(std::isfinite(v)); nm += v; }
    nm /= n.size();
    for (double v : n) nv += (v - nm) * (v - nm);
    nv /= n.size();
    EXPECT_NEAR(nm, 3.0, 0.01);
    EXPECT_NEAR(nv, 0.25, 0.005);
  }
}

TEST(Random, RandintCoversTheRangeUniformly) {
  Generator gen(11);
  for (DType dt : {DType::i32, DType::i64}) {
    const std::vector<double> v = ops::randint({70001}, -3, 4, gen, dt).to_doubles();
    std::vector<int> counts(7, 0);
    for (double x : v) {
      ASSERT_GE(x, -3);
      ASSERT_LT(x, 4);
      ++counts[static_cast<size_t>(x + 3)];
    }
    for (int c : counts) EXPECT_NEAR(c, 10000, 400);
  }
  EXPECT_THROW(ops::randint({3}, 5, 5, gen), Error);
}

TEST(Random, DropoutMaskKeepsOneMinusPAndScales) {
  Generator gen(5);
  const std::vector<float> m = ops::dropout_mask({100000}, 0.3, gen).to_vector<float>();
  int zeros = 0;
  for (float v : m) {
    if (v == 0.0f) ++zeros;
    else EXPECT_FLOAT_EQ(v, 1.0f / 0.7f);
  }
  EXPECT_NEAR(zeros / 100000.0, 0.3, 0.01);
  EXPECT_THROW(ops::dropout_mask({3}, 1.0, gen), Error);
}

TEST(Random, HostScalarDrawsAreUnbiasedAndDeterministic) {
  Generator a(9), b(9);
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 30000; ++i) {
    const uint64_t x = a.next_below(3);
    ASSERT_EQ(x, b.next_below(3));
    ++counts[x];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
  const double d = a.next_double();
  EXPECT_GE(d, 0.0);
  EXPECT_LT(d, 1.0);
}

TEST(RandomCuda, GpuDrawsTheSameNumbersAsTheCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::f32, DType::f64}) {
    const uint64_t seed = testing::fresh_seed();
    Generator c(seed), g(seed);
    EXPECT_TRUE(testing::all_close(ops::uniform({1001}, g, -1, 1, dt, testing::gpu()),
                                   ops::uniform({1001}, c, -1, 1, dt), 0, 0));
    EXPECT_TRUE(testing::all_close(ops::normal({1001}, g, 0, 1, dt, testing::gpu()),
                                   ops::normal({1001}, c, 0, 1, dt), 1e-5, 1e-6));
    EXPECT_TRUE(testing::all_close(ops::dropout_mask({1001}, 0.4, g, dt, testing::gpu()),
                                   ops::dropout_mask({1001}, 0.4, c, dt), 0, 0));
  }
  const uint64_t seed = testing::fresh_seed();
  Generator c(seed), g(seed);
  EXPECT_TRUE(testing::all_close(ops::randint({999}, 0, 1000003, g, DType::i64, testing::gpu()),
                                 ops::randint({999}, 0, 1000003, c, DType::i64), 0, 0));
}

}  // namespace
}  // namespace aisle
