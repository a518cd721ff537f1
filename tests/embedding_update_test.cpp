// The optimizer steps fused into the embedding-bag backward (aisle/ops/embedding_update.hpp)
// against the unfused three-op path, a plain double reference, and their CUDA twins.
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "aisle/aisle.hpp"
#include "src/ops/sorted_runs.hpp"
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

using Table = testing::OptimizedTable;

Table random_table(int64_t rows, int64_t dim, DType dtype, Generator& gen) {
  // Non-zero state, as after earlier steps.
  return {random_tensor({rows, dim}, gen, dtype), random_tensor({rows}, gen, dtype, 0.0, 1.0),
          random_tensor({rows, dim}, gen, dtype, -0.1, 0.1), random_tensor({rows, dim}, gen, dtype, 0.0, 0.1)};
}

// Ids drawn from a Zipf(1) law over `rows` (a few hot rows, many cold ones): the skew of real
// item popularity, and many duplicates within and across bags.
Tensor zipf_ids(int64_t n, int64_t rows, Generator& gen) {
  std::vector<double> cdf(static_cast<size_t>(rows));
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) cdf[static_cast<size_t>(r)] = total += 1.0 / static_cast<double>(r + 1);
  const std::vector<double> u = ops::uniform({n}, gen, 0.0, total, DType::f64).to_vector<double>();
  std::vector<int64_t> ids;
  for (double x : u)
    ids.push_back(std::min<int64_t>(rows - 1, std::lower_bound(cdf.begin(), cdf.end(), x) - cdf.begin()));
  return Tensor::from_vector(ids);
}


struct Case {
  BagGradient grad;
  std::string name;
};

std::vector<Case> cases(int64_t rows, int64_t dim, DType dtype, Generator& gen) {
  const int64_t n = 3000, bags = 200;
  const Tensor offsets = bag_offsets(n, bags);
  const Tensor dy = random_tensor({bags, dim}, gen, dtype);
  const Tensor weights = random_tensor({n}, gen, dtype, 0.1, 2.0);
  const Tensor uniform = random_ids({n}, rows, gen), zipf = zipf_ids(n, rows, gen);
  return {{{uniform, offsets, dy, BagMode::sum, {}}, "uniform sum"},
          {{zipf, offsets, dy, BagMode::mean, {}}, "zipf mean"},
          {{zipf.to(DType::i32), offsets.to(DType::i32), dy, BagMode::sum, weights}, "zipf weighted i32"}};
}

void unfused_rowwise(Table& t, const BagGradient& g, const ops::RowWiseAdagradHyper& h) {
  const ops::SparseRows rows = ops::embedding_bag_backward(g.ids, g.offsets, g.dy, g.mode, g.per_sample_weights);
  ops::rowwise_adagrad_update(t.p, ops::coalesce_rows(rows.indices, rows.rows), t.acc, h);
}

void unfused_adam(Table& t, const BagGradient& g, const ops::SparseAdamHyper& h) {
  const ops::SparseRows rows = ops::embedding_bag_backward(g.ids, g.offsets, g.dy, g.mode, g.per_sample_weights);
  ops::sparse_adam_update(t.p, ops::coalesce_rows(rows.indices, rows.rows), t.m, t.v, h);
}

void fused_rowwise(Table& t, const BagGradient& g, const ops::RowWiseAdagradHyper& h) {
  ops::embedding_bag_rowwise_adagrad_step(t.p, t.acc, g, h);
}

void fused_adam(Table& t, const BagGradient& g, const ops::SparseAdamHyper& h) {
  ops::embedding_bag_sparse_adam_step(t.p, t.m, t.v, g, h);
}


TEST(SortedRuns, OrderIsTheStableSortAndRunsGroupEqualIds) {
  Generator gen(5);
  std::vector<std::vector<int64_t>> inputs = {{}, {4}, {3, 1, 3, 0, 1, 3}};
  for (int64_t n : {100, 255, 256, 5000}) inputs.push_back(random_ids({n}, 37, gen).to_vector<int64_t>());
  // Negative ids and a range wider than 32 bits take several radix passes.
  std::vector<int64_t> wide = random_ids({4000}, 1'000'000, gen).to_vector<int64_t>();
  for (size_t i = 0; i < wide.size(); ++i) wide[i] = (wide[i] - 500'000) * (int64_t{1} << 22) + static_cast<int64_t>(i % 3);
  inputs.push_back(wide);
  for (const std::vector<int64_t>& ids : inputs) {
    const int64_t n = static_cast<int64_t>(ids.size());
    std::vector<int64_t> expected(ids.size());
    std::iota(expected.begin(), expected.end(), 0);
    std::stable_sort(expected.begin(), expected.end(), [&](int64_t a, int64_t b) { return ids[a] < ids[b]; });
    const detail::SortedRuns runs = detail::sorted_runs(ids.data(), n);
    ASSERT_EQ(runs.pos, expected) << "n " << n;
    ASSERT_EQ(runs.run_start.front(), 0);
    ASSERT_EQ(runs.run_start.back(), n);
    std::vector<int64_t> distinct = ids;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    ASSERT_EQ(runs.runs(), static_cast<int64_t>(distinct.size()));
    for (int64_t r = 0; r < runs.runs(); ++r)
      for (int64_t j = runs.run_start[r]; j < runs.run_start[r + 1]; ++j) ASSERT_EQ(ids[runs.pos[j]], distinct[r]);
  }
}

// The fused steps equal the unfused path bit for bit, over several steps (so the state they read
// is their own), in both dtypes, every bag mode, i32 and i64 ids, uniform and skewed ids.
TEST(EmbeddingUpdate, FusedStepsEqualTheUnfusedPathBitForBit) {
  Generator gen(11);
  for (DType dtype : {DType::f32, DType::f64})
    for (int64_t dim : {1, 16, 64, 300}) {
      const Table start = random_table(500, dim, dtype, gen);
      for (const Case& c : cases(500, dim, dtype, gen)) {
        SCOPED_TRACE(c.name + " " + dtype_name(dtype) + " dim " + std::to_string(dim));
        Table fused = start.clone(), unfused = start.clone();
        for (int step = 1; step <= 3; ++step) {
          fused_rowwise(fused, c.grad, {.lr = 0.05, .weight_decay = 0.01});
          unfused_rowwise(unfused, c.grad, {.lr = 0.05, .weight_decay = 0.01});
          fused_adam(fused, c.grad, {.lr = 0.01, .step = step});
          unfused_adam(unfused, c.grad, {.lr = 0.01, .step = step});
        }
        EXPECT_TRUE(same_tables(fused, unfused, 0, 0));
        EXPECT_FALSE(all_close(fused.p, start.p, 0, 0));
      }
    }
}

// An independent reference: each row's gradient summed from dy with plain loops in double, then
// the row-wise Adagrad and sparse Adam formulas written out.
TEST(EmbeddingUpdate, StepsMatchAPlainDoubleReference) {
  Generator gen(12);
  const int64_t rows = 60, dim = 5;
  const Table start = random_table(rows, dim, DType::f64, gen);
  for (const Case& c : cases(rows, dim, DType::f64, gen)) {
    SCOPED_TRACE(c.name);
    const std::vector<int64_t> ids = c.grad.ids.to(DType::i64).to_vector<int64_t>();
    const std::vector<int64_t> off = c.grad.offsets.to(DType::i64).to_vector<int64_t>();
    const std::vector<double> dy = c.grad.dy.to_doubles();
    const std::vector<double> w = c.grad.per_sample_weights.defined() ? c.grad.per_sample_weights.to_doubles()
                                                                      : std::vector<double>();
    std::vector<double> g(static_cast<size_t>(rows * dim), 0.0);
    std::vector<bool> touched(static_cast<size_t>(rows), false);
    for (size_t b = 0; b + 1 < off.size(); ++b)
      for (int64_t j = off[b]; j < off[b + 1]; ++j) {
        const double scale = !w.empty() ? w[j] : c.grad.mode == BagMode::mean ? 1.0 / double(off[b + 1] - off[b]) : 1.0;
        touched[ids[j]] = true;
        for (int64_t k = 0; k < dim; ++k) g[ids[j] * dim + k] += scale * dy[b * dim + k];
      }
    const double lr = 0.05, wd = 0.01, eps = 1e-8;
    std::vector<double> p = start.p.to_doubles(), acc = start.acc.to_doubles();
    std::vector<double> p_adam = start.p.to_doubles(), m = start.m.to_doubles(), v = start.v.to_doubles();
    const double step_size = 0.01 * std::sqrt(1 - 0.999) / (1 - 0.9);  // step 1
    for (int64_t r = 0; r < rows; ++r) {
      if (!touched[r]) continue;
      double squares = 0;
      for (int64_t k = 0; k < dim; ++k) squares += std::pow(g[r * dim + k] + wd * p[r * dim + k], 2);
      acc[r] += squares / dim;
      for (int64_t k = 0; k < dim; ++k) {
        const size_t e = static_cast<size_t>(r * dim + k);
        p[e] -= lr * (g[e] + wd * p[e]) / (std::sqrt(acc[r]) + eps);
        m[e] += 0.1 * (g[e] - m[e]);
        v[e] += 0.001 * (g[e] * g[e] - v[e]);
        p_adam[e] -= step_size * m[e] / (std::sqrt(v[e]) + eps);
      }
    }
    Table t = start.clone(), a = start.clone();
    fused_rowwise(t, c.grad, {.lr = lr, .eps = eps, .weight_decay = wd});
    fused_adam(a, c.grad, {.lr = 0.01, .eps = eps, .step = 1});
    EXPECT_TRUE(all_close(t.p, Tensor::from_vector(p, {rows, dim}), 1e-12, 1e-13));
    EXPECT_TRUE(all_close(t.acc, Tensor::from_vector(acc, {rows}), 1e-12, 1e-13));
    EXPECT_TRUE(all_close(a.p, Tensor::from_vector(p_adam, {rows, dim}), 1e-12, 1e-13));
    EXPECT_TRUE(all_close(a.m, Tensor::from_vector(m, {rows, dim}), 1e-12, 1e-13));
    EXPECT_TRUE(all_close(a.v, Tensor::from_vector(v, {rows, dim}), 1e-12, 1e-13));
  }
}

TEST(EmbeddingUpdate, ResultsDoNotDependOnTheThreadCount) {
  Generator gen(13);
  const Table start = random_table(20000, 32, DType::f32, gen);
  const int64_t n = 60000, bags = 4000;
  const BagGradient g{zipf_ids(n, 20000, gen), bag_offsets(n, bags), random_tensor({bags, 32}, gen, DType::f32),
                      BagMode::mean, {}};
  std::vector<Table> results;
  for (int threads : {1, 2, 3}) {
    Table t = start.clone();
    ASSERT_TRUE(testing::with_omp_threads(threads, [&] {
      fused_rowwise(t, g, {.lr = 0.1});
      fused_adam(t, g, {.lr = 0.01, .step = 1});
    }));
    results.push_back(t);
  }
  EXPECT_TRUE(same_tables(results[1], results[0], 0, 0));
  EXPECT_TRUE(same_tables(results[2], results[0], 0, 0));
}

TEST(EmbeddingUpdate, NoIdsOrEmptyBagsChangeNothing) {
  Generator gen(14);
  const Table start = random_table(10, 4, DType::f32, gen);
  Table t = start.clone();
  const BagGradient none{Tensor::zeros({0}, DType::i64), Tensor::zeros({4}, DType::i64),
                         random_tensor({3, 4}, gen, DType::f32), BagMode::mean, {}};
  fused_rowwise(t, none, {.lr = 0.1});
  fused_adam(t, none, {.lr = 0.1, .step = 1});
  EXPECT_TRUE(same_tables(t, start, 0, 0));
}

TEST(EmbeddingUpdate, BadArgumentsAreNamedAndNothingIsWritten) {
  Generator gen(15);
  const Table start = random_table(10, 4, DType::f32, gen);
  Table t = start.clone();
  const Tensor dy = random_tensor({2, 4}, gen, DType::f32);
  const Tensor off = Tensor::from_vector<int64_t>({0, 2, 3});
  const BagGradient good{Tensor::from_vector<int64_t>({1, 9, 1}), off, dy, BagMode::sum, {}};
  auto expect_error = [&](const std::function<void()>& f, std::vector<std::string> parts) {
    const std::string message = testing::error_message(f);
    for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << part << " not in: " << message;
    EXPECT_TRUE(same_tables(t, start, 0, 0)) << message;
  };
  BagGradient bad = good;
  bad.ids = Tensor::from_vector<int64_t>({1, 10, 1});  // the last bag's id is past the table
  expect_error([&] { fused_rowwise(t, bad, {.lr = 0.1}); }, {"embedding_bag_rowwise_adagrad_step", "index 10", "[0, 10)"});
  expect_error([&] { fused_adam(t, bad, {.lr = 0.1, .step = 1}); }, {"embedding_bag_sparse_adam_step", "index 10"});
  bad = good;
  bad.offsets = Tensor::from_vector<int64_t>({0, 3, 2});
  expect_error([&] { fused_rowwise(t, bad, {.lr = 0.1}); }, {"embedding_bag_rowwise_adagrad_step", "last offset"});
  bad = good;
  bad.dy = random_tensor({2, 5}, gen, DType::f32);
  expect_error([&] { fused_adam(t, bad, {.lr = 0.1, .step = 1}); }, {"different embedding widths"});
  bad = good;
  bad.dy = random_tensor({3, 4}, gen, DType::f32);
  expect_error([&] { fused_adam(t, bad, {.lr = 0.1, .step = 1}); }, {"one row per bag", "2 bags"});
  bad = good;
  bad.dy = dy.to(DType::f64);
  expect_error([&] { fused_rowwise(t, bad, {.lr = 0.1}); }, {"dy", "dtype"});
  bad = good;
  bad.mode = BagMode::mean;
  bad.per_sample_weights = random_tensor({3}, gen, DType::f32);
  expect_error([&] { fused_rowwise(t, bad, {.lr = 0.1}); }, {"per_sample_weights", "sum mode"});
  Tensor short_acc = Tensor::zeros({9}, DType::f32);
  expect_error([&] { ops::embedding_bag_rowwise_adagrad_step(t.p, short_acc, good, {.lr = 0.1}); },
               {"row_accumulator", "[9]"});
  expect_error([&] { fused_adam(t, good, {.lr = 0.1, .step = 0}); }, {"step"});
  expect_error([&] { fused_rowwise(t, good, {.lr = -1}); }, {"lr"});
  EXPECT_NO_THROW(fused_rowwise(t, good, {.lr = 0.1}));
}

// The CUDA twin against the CPU: sums in the same order, so the sparse Adam step and the row
// gradients agree to rounding; row-wise Adagrad adds each row's squares in a tree. Rows wider
// than 256 (300 here) compute their gradient twice on the device instead of holding it in registers.
TEST(EmbeddingUpdateCuda, MatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  const Device g = testing::gpu();
  for (DType dtype : {DType::f32, DType::f64})
    for (int64_t dim : {1, 16, 64, 128, 256, 300}) {
      const Table start = random_table(500, dim, dtype, gen);
      for (const Case& c : cases(500, dim, dtype, gen)) {
        SCOPED_TRACE(c.name + " " + dtype_name(dtype) + " dim " + std::to_string(dim));
        const BagGradient on_gpu{c.grad.ids.to(g), c.grad.offsets.to(g), c.grad.dy.to(g), c.grad.mode,
                                 c.grad.per_sample_weights.defined() ? c.grad.per_sample_weights.to(g) : Tensor()};
        Table cpu = start.clone(), gpu = start.to(g);
        for (int step = 1; step <= 3; ++step) {
          fused_rowwise(cpu, c.grad, {.lr = 0.05, .weight_decay = 0.01});
          fused_rowwise(gpu, on_gpu, {.lr = 0.05, .weight_decay = 0.01});
          fused_adam(cpu, c.grad, {.lr = 0.01, .step = step});
          fused_adam(gpu, on_gpu, {.lr = 0.01, .step = step});
        }
        EXPECT_TRUE(same_tables(gpu.to(Device::cpu()), cpu, 1e-5, 1e-6));
      }
    }
  // A bad id throws before the device table is written.
  Table t = random_table(10, 8, DType::f32, gen).to(g);
  const Table before = t.clone();
  const BagGradient bad{Tensor::from_vector<int64_t>({1, 10}, g), Tensor::from_vector<int64_t>({0, 1, 2}, g),
                        Tensor::ones({2, 8}, DType::f32, g), BagMode::sum, {}};
  EXPECT_THROW(fused_rowwise(t, bad, {.lr = 0.1}), Error);
  EXPECT_THROW(fused_adam(t, bad, {.lr = 0.1, .step = 1}), Error);
  EXPECT_TRUE(same_tables(t.to(Device::cpu()), before.to(Device::cpu()), 0, 0));
}

}  // namespace
}  // namespace aisle
