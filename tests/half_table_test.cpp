// Embedding tables stored in bf16/f16 with f32 compute: the stochastic rounding functions
// (aisle/core/half.hpp), embedding_bag on 16-bit tables, the fused sparse optimizer steps on them
// (nearest-even and stochastic rounding), and their CUDA twins.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "aisle/aisle.hpp"
#include "aisle/autograd/embedding.hpp"
#include "support/omp_threads.hpp"
#include "support/sparse_tables.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using ops::BagGradient;
using ops::BagMode;
using testing::all_close;
using testing::bag_offsets;
using testing::same_tables;
using testing::random_ids;
using testing::random_tensor;

constexpr DType kHalves[] = {DType::bf16, DType::f16};

float bf16_value(uint16_t bits) { return bf16_bits_to_float(bits); }
float f16_value(uint16_t bits) { return f16_bits_to_float(bits); }

// The two representable neighbours a <= |x| <= b, found from the nearest value and the values one
// step either side of it (an independent route: no truncation logic).
struct Neighbours {
  double below, above;
};
Neighbours neighbours_of(float x, uint16_t nearest_bits, float (*value)(uint16_t)) {
  const double ax = std::fabs(static_cast<double>(x));
  const uint16_t mag = nearest_bits & 0x7fffu;
  double below = -1, above = std::numeric_limits<double>::infinity();
  for (int delta : {-1, 0, 1}) {
    if (mag == 0 && delta < 0) continue;
    const double v = std::fabs(static_cast<double>(value(static_cast<uint16_t>(mag + delta))));
    if (v <= ax) below = std::max(below, v);
    if (v >= ax) above = std::min(above, v);
  }
  return {below, above};
}

TEST(HalfRounding, StochasticRoundingGoesUpWithTheRemainderAsItsProbability) {
  Generator gen(31);
  std::vector<float> xs = {1.0f + 1e-4f, -1.0f - 3e-3f, 0.1f, -7.77e-3f, 3.14159f, 1234.5678f, 6.1e-5f, 1e-7f, 2.5e-6f};
  for (double u : ops::uniform({40}, gen, -60.0, 60.0, DType::f64).to_vector<double>()) xs.push_back(static_cast<float>(u));
  for (float x : xs) {
    SCOPED_TRACE(::testing::Message() << "x " << x);
    // bf16 looks at the top 16 bits of the word: every one of their 65536 values, once.
    {
      const Neighbours n = neighbours_of(x, float_to_bf16_bits(x), bf16_value);
      int64_t ups = 0;
      for (uint32_t k = 0; k < 65536; ++k) {
        const double r = std::fabs(static_cast<double>(bf16_value(float_to_bf16_bits_stochastic(x, (k << 16) | 0x1234u))));
        ASSERT_TRUE(r == n.below || r == n.above) << r;
        ups += r == n.above && n.above != n.below;
      }
      const double p = n.above == n.below ? 0.0 : (std::fabs(double(x)) - n.below) / (n.above - n.below);
      EXPECT_EQ(static_cast<double>(ups) / 65536.0, p);  // exact: 16 bits of remainder, 16 bits of draw
    }
    // f16 compares the whole word with the remainder: 65536 evenly spaced words.
    {
      const Neighbours n = neighbours_of(x, float_to_f16_bits(x), f16_value);
      int64_t ups = 0;
      for (uint32_t k = 0; k < 65536; ++k) {
        const double r = std::fabs(static_cast<double>(f16_value(float_to_f16_bits_stochastic(x, k * 65536u + 777u))));
        ASSERT_TRUE(r == n.below || r == n.above) << r;
        ups += r == n.above && n.above != n.below;
      }
      const double p = n.above == n.below ? 0.0 : (std::fabs(double(x)) - n.below) / (n.above - n.below);
      EXPECT_NEAR(static_cast<double>(ups) / 65536.0, p, 1.0 / 65536.0);
    }
    // The sign is kept.
    EXPECT_EQ(std::signbit(bf16_value(float_to_bf16_bits_stochastic(x, 0x9999u))), std::signbit(x));
    EXPECT_EQ(std::signbit(f16_value(float_to_f16_bits_stochastic(x, 0x9999u))), std::signbit(x));
  }
}

TEST(HalfRounding, ExactValuesStayAndTheLargestFiniteValueDoesNotOverflow) {
  for (uint32_t r : {0u, 1u, 0x7fffffffu, 0xffffffffu}) {
    for (float exact : {0.0f, -0.0f, 1.0f, -2.5f, 0.15625f, 65504.0f})
      EXPECT_EQ(f16_value(float_to_f16_bits_stochastic(exact, r)), exact);
    for (float exact : {0.0f, 1.0f, -2.5f, 3.0f * 1024 * 1024})
      EXPECT_EQ(bf16_value(float_to_bf16_bits_stochastic(exact, r)), exact);
    // Above the largest finite value: held there rather than rounded up to infinity.
    EXPECT_EQ(f16_value(float_to_f16_bits_stochastic(65519.0f, r)), 65504.0f);
    EXPECT_EQ(f16_value(float_to_f16_bits_stochastic(-70000.0f, r)), -65504.0f);
    const float max_bf16 = bf16_value(0x7f7fu);
    EXPECT_EQ(bf16_value(float_to_bf16_bits_stochastic(std::nextafter(max_bf16, std::numeric_limits<float>::infinity()), r)), max_bf16);
    // Infinities and NaN pass through.
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(bf16_value(float_to_bf16_bits_stochastic(-inf, r)), -inf);
    EXPECT_EQ(f16_value(float_to_f16_bits_stochastic(inf, r)), inf);
    EXPECT_TRUE(std::isnan(bf16_value(float_to_bf16_bits_stochastic(std::nanf(""), r))));
    EXPECT_TRUE(std::isnan(f16_value(float_to_f16_bits_stochastic(std::nanf(""), r))));
  }
}


// A 16-bit table reads as its widened f32 values: embedding_bag and the weights gradient equal
// those of the widened f32 table bit for bit, and come out in f32.
TEST(HalfTables, EmbeddingBagSumsTheWidenedRowsInF32) {
  Generator gen(32);
  const int64_t rows = 150, n = 2500, bags = 180;
  const Tensor ids = random_ids({n}, rows, gen), offsets = bag_offsets(n, bags);
  const Tensor w = random_tensor({n}, gen, DType::f32, 0.1, 2.0);
  for (DType half : kHalves)
    for (int64_t dim : {8, 16, 37, 64}) {
      SCOPED_TRACE(::testing::Message() << dtype_name(half) << " dim " << dim);
      const Tensor table = random_tensor({rows, dim}, gen, DType::f32).to(half);
      const Tensor widened = table.to(DType::f32);
      for (DType idtype : {DType::i64, DType::i32}) {
        const Tensor i = ids.to(idtype), o = offsets.to(idtype);
        for (BagMode mode : {BagMode::sum, BagMode::mean}) {
          const Tensor out = ops::embedding_bag(table, i, o, mode);
          EXPECT_EQ(out.dtype(), DType::f32);
          EXPECT_TRUE(all_close(out, ops::embedding_bag(widened, i, o, mode), 0, 0));
        }
        EXPECT_TRUE(all_close(ops::embedding_bag(table, i, o, BagMode::sum, w),
                              ops::embedding_bag(widened, i, o, BagMode::sum, w), 0, 0));
      }
      const Tensor dy = random_tensor({bags, dim}, gen, DType::f32);
      const Tensor dw = ops::embedding_bag_weights_backward(table, ids, offsets, dy);
      EXPECT_EQ(dw.dtype(), DType::f32);
      EXPECT_TRUE(all_close(dw, ops::embedding_bag_weights_backward(widened, ids, offsets, dy), 0, 0));
    }
  // An independent value check: bf16 bags against double loops over the widened table.
  const Tensor table = random_tensor({rows, 5}, gen, DType::f32).to(DType::bf16);
  const std::vector<double> t = table.to_doubles();
  const std::vector<int64_t> id = ids.to_vector<int64_t>(), off = offsets.to_vector<int64_t>();
  std::vector<double> expected(static_cast<size_t>(bags * 5), 0.0);
  for (int64_t b = 0; b < bags; ++b)
    for (int64_t j = off[b]; j < off[b + 1]; ++j)
      for (int64_t c = 0; c < 5; ++c) expected[b * 5 + c] += t[id[j] * 5 + c];
  EXPECT_TRUE(all_close(ops::embedding_bag(table, ids, offsets, BagMode::sum).to(DType::f64),
                        Tensor::from_vector(expected, {bags, 5}), 1e-5, 1e-5));
}

TEST(HalfTables, WrongCompanionDtypesAreNamed) {
  Generator gen(33);
  const Tensor table = random_tensor({10, 4}, gen, DType::f32).to(DType::bf16);
  const Tensor ids = Tensor::from_vector<int64_t>({1, 2, 3}), off = Tensor::from_vector<int64_t>({0, 2, 3});
  std::string m = testing::error_message(
      [&] { ops::embedding_bag(table, ids, off, BagMode::sum, random_tensor({3}, gen, DType::f64)); });
  EXPECT_MESSAGE_HAS(m, "per_sample_weights");
  EXPECT_MESSAGE_HAS(m, "must have dtype f32, the compute dtype of table");
  m = testing::error_message(
      [&] { ops::embedding_bag_weights_backward(table, ids, off, random_tensor({2, 4}, gen, DType::f32).to(DType::bf16)); });
  EXPECT_MESSAGE_HAS(m, "embedding_bag_weights_backward: dy");
  m = testing::error_message([&] { ops::embedding_bag(table.to(DType::i32), ids, off, BagMode::sum); });
  EXPECT_MESSAGE_HAS(m, "must be f32, f64, bf16 or f16");
  // Autograd would hand a 16-bit parameter f32 gradient rows: refused, with the way out named.
  m = testing::error_message([&] { embedding_bag(Var(table, true), ids, off, BagMode::sum); });
  EXPECT_MESSAGE_HAS(m, "bf16 table cannot take autograd gradients");
  EXPECT_MESSAGE_HAS(m, "embedding_update.hpp");
  EXPECT_NO_THROW(embedding_bag(Var(table, false), ids, off, BagMode::sum));
}

using Table = testing::OptimizedTable;

// A 16-bit table with its f32 optimizer state.
Table half_table(int64_t rows, int64_t dim, DType half, Generator& gen) {
  return {random_tensor({rows, dim}, gen, DType::f32).to(half), random_tensor({rows}, gen, DType::f32, 0.0, 1.0),
          random_tensor({rows, dim}, gen, DType::f32, -0.1, 0.1), random_tensor({rows, dim}, gen, DType::f32, 0.0, 0.1)};
}

std::vector<BagGradient> gradients(int64_t rows, int64_t dim, Generator& gen) {
  const int64_t n = 3000, bags = 200;
  const Tensor offsets = bag_offsets(n, bags);
  const Tensor ids = random_ids({n}, rows, gen);
  const Tensor dy = random_tensor({bags, dim}, gen, DType::f32);
  return {{ids, offsets, dy, BagMode::sum, {}},
          {ids.to(DType::i32), offsets, dy, BagMode::mean, {}},
          {ids, offsets.to(DType::i32), dy, BagMode::sum, random_tensor({n}, gen, DType::f32, 0.1, 2.0)}};
}

void step_both(Table& t, const BagGradient& g, int step, const HalfRounding& rounding) {
  ops::embedding_bag_rowwise_adagrad_step(t.p, t.acc, g, {.lr = 0.05, .weight_decay = 0.01}, rounding);
  ops::embedding_bag_sparse_adam_step(t.p, t.m, t.v, g, {.lr = 0.01, .step = step}, rounding);
}


// Nearest-even: each step equals the f32 step on the widened table, then one rounding of the table.
TEST(HalfTables, NearestStepsEqualTheF32StepOnTheWidenedTableThenOneRounding) {
  Generator gen(34);
  for (DType half : kHalves)
    for (int64_t dim : {1, 16, 64, 300})
      for (const BagGradient& g : gradients(400, dim, gen)) {
        SCOPED_TRACE(::testing::Message() << dtype_name(half) << " dim " << dim << " " << ops::bag_mode_name(g.mode));
        const Table start = half_table(400, dim, half, gen);
        Table stored = start.clone(), reference = start.clone();
        for (int step = 1; step <= 3; ++step) {
          step_both(stored, g, step, {});
          // The same two steps in f32, the table rounded after each as the 16-bit table is.
          reference.p = reference.p.to(DType::f32);
          ops::embedding_bag_rowwise_adagrad_step(reference.p, reference.acc, g, {.lr = 0.05, .weight_decay = 0.01});
          reference.p = reference.p.to(half).to(DType::f32);
          ops::embedding_bag_sparse_adam_step(reference.p, reference.m, reference.v, g, {.lr = 0.01, .step = step});
          reference.p = reference.p.to(half);
        }
        EXPECT_EQ(stored.p.dtype(), half);
        EXPECT_TRUE(same_tables(stored, reference, 0, 0));
        EXPECT_FALSE(all_close(stored.p, start.p, 0, 0));
      }
}

// Stochastic rounding: a pure function of (seed, step, element), so the same at any thread count;
// another seed draws differently; every element lands on a neighbour of its f32 update.
TEST(HalfTables, StochasticRoundingIsSeededAndLandsOnANeighbour) {
  Generator gen(35);
  const int64_t rows = 3000, dim = 24;
  for (DType half : kHalves) {
    SCOPED_TRACE(dtype_name(half));
    const Table start = half_table(rows, dim, half, gen);
    const BagGradient g = gradients(rows, dim, gen)[1];
    const HalfRounding rounding{.stochastic = true, .seed = 99, .step = 7};
    std::vector<Table> runs;
    for (int threads : {1, 2, 3}) {
      Table t = start.clone();
      ASSERT_TRUE(testing::with_omp_threads(threads, [&] { step_both(t, g, 1, rounding); }));
      runs.push_back(t);
    }
    EXPECT_TRUE(same_tables(runs[1], runs[0], 0, 0));
    EXPECT_TRUE(same_tables(runs[2], runs[0], 0, 0));
    Table other = start.clone();
    step_both(other, g, 1, {.stochastic = true, .seed = 100, .step = 7});
    EXPECT_FALSE(all_close(other.p, runs[0].p, 0, 0));
    EXPECT_TRUE(all_close(other.m, runs[0].m, 0, 0));  // only the table's rounding draws

    // Row-wise Adagrad alone, against its f32 update on the widened table.
    Table sr = start.clone(), exact = start.clone();
    exact.p = exact.p.to(DType::f32);
    ops::embedding_bag_rowwise_adagrad_step(sr.p, sr.acc, g, {.lr = 0.05}, rounding);
    ops::embedding_bag_rowwise_adagrad_step(exact.p, exact.acc, g, {.lr = 0.05});
    const std::vector<float> got = sr.p.to(DType::f32).to_vector<float>(), want = exact.p.to_vector<float>();
    const std::vector<float> nearest = exact.p.to(half).to(DType::f32).to_vector<float>();
    int64_t off_nearest = 0;
    for (size_t e = 0; e < got.size(); ++e) {
      const uint16_t toward_zero = half == DType::bf16 ? float_to_bf16_bits_stochastic(want[e], 0xffffffffu)
                                                       : float_to_f16_bits_stochastic(want[e], 0xffffffffu);
      const float low = half == DType::bf16 ? bf16_value(toward_zero) : f16_value(toward_zero);
      const float high = half == DType::bf16 ? bf16_value(static_cast<uint16_t>(toward_zero + (low != want[e])))
                                             : f16_value(static_cast<uint16_t>(toward_zero + (low != want[e])));
      ASSERT_TRUE(got[e] == low || got[e] == high) << e << ": " << got[e] << " not next to " << want[e];
      off_nearest += got[e] != nearest[e] ? 1 : 0;
      if (e > 2000) break;
    }
    EXPECT_GT(off_nearest, 0);  // it is not nearest-even under another name
  }
}

// Why stochastic rounding exists: sparse Adam moves each element by about lr per step. At 1.0 with
// lr = 2e-4 that is a tenth of half a bf16 unit, so nearest-even never leaves 1.0, while
// stochastic rounding follows the f32 trajectory on average.
TEST(HalfTables, StochasticRoundingKeepsUpdatesThatNearestEvenLoses) {
  const int64_t rows = 128, dim = 32, steps = 400;
  const Tensor ones = Tensor::ones({rows, dim}, DType::f32);
  std::vector<int64_t> every_row(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) every_row[static_cast<size_t>(r)] = r;
  std::vector<int64_t> one_each(static_cast<size_t>(rows + 1));
  for (int64_t r = 0; r <= rows; ++r) one_each[static_cast<size_t>(r)] = r;
  const BagGradient g{Tensor::from_vector(every_row), Tensor::from_vector(one_each), ones, BagMode::sum, {}};
  auto train = [&](DType dtype, bool stochastic) {
    // clone(): to() into the same dtype returns the tensor itself, and `ones` is also dy.
    Tensor p = ones.clone().to(dtype), m = Tensor::zeros({rows, dim}, DType::f32), v = Tensor::zeros({rows, dim}, DType::f32);
    for (int step = 1; step <= steps; ++step)
      ops::embedding_bag_sparse_adam_step(p, m, v, g, {.lr = 2e-4, .step = step},
                                          {.stochastic = stochastic, .seed = 5, .step = static_cast<uint64_t>(step)});
    return p.to(DType::f64).to_vector<double>();
  };
  const std::vector<double> f32 = train(DType::f32, false), nearest = train(DType::bf16, false),
                            stochastic = train(DType::bf16, true);
  auto mean = [](const std::vector<double>& x) { return std::accumulate(x.begin(), x.end(), 0.0) / double(x.size()); };
  EXPECT_NEAR(mean(f32), 1.0 - steps * 2e-4, 1e-3);
  EXPECT_EQ(mean(nearest), 1.0);
  EXPECT_NEAR(mean(stochastic), mean(f32), 1e-3);
  // Each element is a random walk over bf16 steps of 2^-8 taken with probability ~0.05, so after
  // 400 steps they spread with a standard deviation of about 0.017 around the f32 value.
  double squares = 0;
  for (double x : stochastic) {
    ASSERT_NEAR(x, mean(f32), 0.1);
    squares += (x - mean(f32)) * (x - mean(f32));
  }
  EXPECT_LT(std::sqrt(squares / double(stochastic.size())), 0.025);
}

TEST(HalfTables, BadStepArgumentsAreNamedAndNothingIsWritten) {
  Generator gen(36);
  const Table start = half_table(10, 4, DType::bf16, gen);
  Table t = start.clone();
  const BagGradient good{Tensor::from_vector<int64_t>({1, 9, 1}), Tensor::from_vector<int64_t>({0, 2, 3}),
                         random_tensor({2, 4}, gen, DType::f32), BagMode::sum, {}};
  BagGradient bad = good;
  bad.dy = good.dy.to(DType::bf16);
  std::string m = testing::error_message([&] { ops::embedding_bag_rowwise_adagrad_step(t.p, t.acc, bad, {.lr = 0.1}); });
  EXPECT_MESSAGE_HAS(m, "embedding_bag_rowwise_adagrad_step: dy");
  EXPECT_MESSAGE_HAS(m, "compute dtype of table");
  Tensor acc16 = t.acc.to(DType::bf16);
  m = testing::error_message([&] { ops::embedding_bag_rowwise_adagrad_step(t.p, acc16, good, {.lr = 0.1}); });
  EXPECT_MESSAGE_HAS(m, "row_accumulator");
  Tensor m64 = t.m.to(DType::f64);
  m = testing::error_message([&] { ops::embedding_bag_sparse_adam_step(t.p, m64, t.v, good, {.lr = 0.1, .step = 1}); });
  EXPECT_MESSAGE_HAS(m, "exp_avg");
  EXPECT_MESSAGE_HAS(m, "must have dtype f32");
  EXPECT_TRUE(same_tables(t, start, 0, 0));
  EXPECT_NO_THROW(ops::embedding_bag_sparse_adam_step(t.p, t.m, t.v, good, {.lr = 0.1, .step = 1}));
}

// The CUDA twins: the forward pass (the vectorised 8-element path and the scalar one) bit for bit;
// the fused steps to one 16-bit unit (their f32 values agree to rounding, and a value next to a
// rounding boundary may go the other way).
TEST(HalfTablesCuda, MatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  const Device d = testing::gpu();
  for (DType half : kHalves)
    for (int64_t dim : {8, 37, 64, 128, 256, 300}) {
      SCOPED_TRACE(::testing::Message() << dtype_name(half) << " dim " << dim);
      const Tensor table = random_tensor({400, dim}, gen, DType::f32).to(half);
      for (const BagGradient& g : gradients(400, dim, gen)) {
        const BagGradient on_gpu{g.ids.to(d), g.offsets.to(d), g.dy.to(d), g.mode,
                                 g.per_sample_weights.defined() ? g.per_sample_weights.to(d) : Tensor()};
        EXPECT_TRUE(all_close(
            ops::embedding_bag(table.to(d), on_gpu.ids, on_gpu.offsets, g.mode, on_gpu.per_sample_weights),
            ops::embedding_bag(table, g.ids, g.offsets, g.mode, g.per_sample_weights), 0, 0));
        for (bool stochastic : {false, true}) {
          const Table start = half_table(400, dim, half, gen);
          Table cpu = start.clone(), gpu = start.to(d);
          for (int step = 1; step <= 3; ++step) {
            const HalfRounding r{.stochastic = stochastic, .seed = 3, .step = static_cast<uint64_t>(step)};
            step_both(cpu, g, step, r);
            step_both(gpu, on_gpu, step, r);
          }
          EXPECT_TRUE(same_tables(gpu.to(Device::cpu()), cpu, 1e-2, 1e-3)) << (stochastic ? "stochastic" : "nearest");
        }
      }
      // A table view one element off a 16-byte boundary takes the scalar path: the same sums.
      const Tensor shifted =
          random_tensor({400 * dim + 1}, gen, DType::f32).to(half).to(d).rows(1, 400 * dim + 1).reshape({400, dim});
      ASSERT_NE(reinterpret_cast<uintptr_t>(shifted.raw_data()) % 16, 0u);
      for (const BagGradient& g : gradients(400, dim, gen))
        EXPECT_TRUE(all_close(ops::embedding_bag(shifted, g.ids.to(d), g.offsets.to(d), g.mode,
                                                 g.per_sample_weights.defined() ? g.per_sample_weights.to(d) : Tensor()),
                              ops::embedding_bag(shifted.to(Device::cpu()), g.ids, g.offsets, g.mode, g.per_sample_weights),
                              0, 0));
      const Tensor bad = Tensor::from_vector<int64_t>({1, 400}, d);
      EXPECT_THROW(ops::embedding_bag(table.to(d), bad, Tensor::from_vector<int64_t>({0, 2}, d), BagMode::sum), Error);
    }
}

}  // namespace
}  // namespace aisle
