#include <cmath>
#include <functional>
#include <memory>

#include "aisle/aisle.hpp"
#include "aisle/ops/optim.hpp"
#include "aisle/optim/adagrad.hpp"
#include "aisle/optim/adam.hpp"
#include "aisle/optim/rowwise_adagrad.hpp"
#include "aisle/optim/schedule.hpp"
#include "aisle/optim/sgd.hpp"
#include "aisle/optim/sparse_adam.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using optim::NamedTensors;
using optim::Optimizer;
using testing::all_close;
using testing::random_ids;
using testing::random_tensor;

// ---- helpers ---------------------------------------------------------------------------------

Var param_of(const std::vector<double>& values, const Shape& shape, DType dtype = DType::f64) {
  return Var::parameter(Tensor::from_vector(values, shape).to(dtype));
}

Var sparse_param(const Tensor& value) {
  Var p = Var::parameter(value.clone());
  p.set_sparse(true);
  return p;
}

// Appends one piece of row gradients, as an embedding backward would.
void add_rows(const Var& p, const std::vector<int64_t>& ids, const std::vector<double>& rows) {
  Shape shape = p.shape();
  shape[0] = static_cast<int64_t>(ids.size());
  p.impl()->sparse_grad.push_back({Tensor::from_vector(ids).to(p.device()),
                                   Tensor::from_vector(rows, shape).to(p.dtype()).to(p.device())});
}

void add_rows(const Var& p, const Tensor& ids, const Tensor& rows) {
  p.impl()->sparse_grad.push_back({ids.to(p.device()), rows.to(p.dtype()).to(p.device())});
}

Tensor state_of(const Optimizer& opt, const std::string& name) {
  for (const auto& [key, t] : opt.state())
    if (key == name) return t;
  ADD_FAILURE() << "no state entry " << name;
  return Tensor();
}

std::vector<double> values(const Var& v) { return v.value().to_doubles(); }

// Snapshot of every state tensor (the live ones change in place).
NamedTensors snapshot(const Optimizer& opt) {
  NamedTensors out;
  for (const auto& [key, t] : opt.state()) out.emplace_back(key, t.clone());
  return out;
}

// Asserts rows of `after` outside `touched` equal those of `before` bit for bit, and that at least
// one element of every touched row changed.
void expect_only_rows_changed(const Tensor& before, const Tensor& after, const std::vector<int64_t>& touched,
                              const std::string& what) {
  ASSERT_EQ(before.shape(), after.shape()) << what;
  for (int64_t r = 0; r < before.size(0); ++r) {
    const std::vector<double> b = before.rows(r, r + 1).to_doubles(), a = after.rows(r, r + 1).to_doubles();
    const bool is_touched = std::find(touched.begin(), touched.end(), r) != touched.end();
    if (is_touched) EXPECT_NE(a, b) << what << ": touched row " << r << " did not change";
    else EXPECT_EQ(a, b) << what << ": untouched row " << r << " changed";
  }
}


#define EXPECT_ERROR_HAS(stmt, ...)                                              \
  do {                                                                           \
    const std::string message_ = testing::error_message([&] { stmt; });          \
    for (const char* part_ : {__VA_ARGS__})                                      \
      EXPECT_NE(message_.find(part_), std::string::npos) << "'" << part_ << "' not in: " << message_; \
  } while (0)

// ---- one step against hand computations ------------------------------------------------------

TEST(Optim, SgdStepsMatchHandComputation) {
  const std::vector<double> p0{1.0, -2.0, 0.5, 3.0}, g1{0.5, 0.25, -1.0, 2.0}, g2{-0.5, 1.0, 0.75, 0.0};
  {  // plain, with L2 weight decay: p -= lr * (g + wd p)
    Var p = param_of(p0, {2, 2});
    optim::SGD sgd({p}, {.lr = 0.1, .weight_decay = 0.01});
    p.set_grad(Tensor::from_vector(g1, {2, 2}));
    sgd.step();
    for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(values(p)[i], p0[i] - 0.1 * (g1[i] + 0.01 * p0[i]), 1e-15);
    EXPECT_TRUE(p.grad().defined());  // step leaves gradients for the caller to zero
    EXPECT_EQ(sgd.step_count(), 1);
  }
  {  // momentum over two steps: buf1 = g1, buf2 = 0.9 g1 + g2
    Var p = param_of(p0, {2, 2});
    optim::SGD sgd({p}, {.lr = 0.1, .momentum = 0.9});
    p.set_grad(Tensor::from_vector(g1, {2, 2}));
    sgd.step();
    p.set_grad(Tensor::from_vector(g2, {2, 2}));
    sgd.step();
    const std::vector<double> buf = state_of(sgd, "param0.momentum_buffer").to_doubles();
    for (size_t i = 0; i < 4; ++i) {
      const double b1 = g1[i], b2 = 0.9 * b1 + g2[i];
      EXPECT_NEAR(buf[i], b2, 1e-15);
      EXPECT_NEAR(values(p)[i], p0[i] - 0.1 * b1 - 0.1 * b2, 1e-14);
    }
  }
  {  // nesterov: step along g + momentum * buf
    Var p = param_of(p0, {2, 2});
    optim::SGD sgd({p}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
    p.set_grad(Tensor::from_vector(g1, {2, 2}));
    sgd.step();
    p.set_grad(Tensor::from_vector(g2, {2, 2}));
    sgd.step();
    for (size_t i = 0; i < 4; ++i) {
      const double b1 = g1[i], b2 = 0.9 * b1 + g2[i];
      const double p1 = p0[i] - 0.1 * (g1[i] + 0.9 * b1);
      EXPECT_NEAR(values(p)[i], p1 - 0.1 * (g2[i] + 0.9 * b2), 1e-14);
    }
  }
}

// Adam's first step: m = (1-b1) g, v = (1-b2) g^2, so m / (1-b1) = g and v / (1-b2) = g^2 and the
// step is lr * g / (|g| + eps): almost exactly lr * sign(g).
TEST(Optim, AdamTwoStepsMatchHandComputation) {
  const std::vector<double> p0{1.0, -2.0, 0.5}, g1{0.5, -0.25, 1e-9}, g2{-0.1, 0.4, 2.0};
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Var p = param_of(p0, {3});
  optim::Adam adam({p}, {.lr = lr});
  p.set_grad(Tensor::from_vector(g1, {3}));
  adam.step();
  std::vector<double> m(3), v(3), expect(3);
  for (size_t i = 0; i < 3; ++i) {
    m[i] = (1 - b1) * g1[i];
    v[i] = (1 - b2) * g1[i] * g1[i];
    const double m_hat = m[i] / (1 - b1), v_hat = v[i] / (1 - b2);
    expect[i] = p0[i] - lr * m_hat / (std::sqrt(v_hat) + eps);
    EXPECT_NEAR(values(p)[i], expect[i], 1e-15);
  }
  EXPECT_NEAR(values(p)[0], p0[0] - lr, 1e-9);  // ~ lr * sign(g)
  EXPECT_NEAR(values(p)[1], p0[1] + lr, 1e-9);
  EXPECT_NEAR(values(p)[2], p0[2] - lr * 1e-9 / (1e-9 + eps), 1e-15);  // eps matters for tiny g

  p.set_grad(Tensor::from_vector(g2, {3}));
  adam.step();
  for (size_t i = 0; i < 3; ++i) {
    m[i] = b1 * m[i] + (1 - b1) * g2[i];
    v[i] = b2 * v[i] + (1 - b2) * g2[i] * g2[i];
    const double m_hat = m[i] / (1 - b1 * b1), v_hat = v[i] / (1 - b2 * b2);
    expect[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    EXPECT_NEAR(values(p)[i], expect[i], 1e-14);
  }
  EXPECT_TRUE(all_close(state_of(adam, "param0.exp_avg"), Tensor::from_vector(m, {3}), 1e-14, 1e-17));
  EXPECT_TRUE(all_close(state_of(adam, "param0.exp_avg_sq"), Tensor::from_vector(v, {3}), 1e-14, 1e-20));
  EXPECT_EQ(state_of(adam, "param0.step").item<int64_t>(), 2);
}

TEST(Optim, AdamWeightDecayIsL2AndAdamWDecouplesIt) {
  const std::vector<double> p0{1.0, -2.0}, g{0.5, 0.3};
  const double lr = 0.1, wd = 0.05, eps = 1e-8;
  Var pa = param_of(p0, {2}), pw = param_of(p0, {2});
  optim::Adam adam({pa}, {.lr = lr, .weight_decay = wd});
  optim::AdamW adamw({pw}, {.lr = lr, .weight_decay = wd});
  pa.set_grad(Tensor::from_vector(g, {2}));
  pw.set_grad(Tensor::from_vector(g, {2}));
  adam.step();
  adamw.step();
  for (size_t i = 0; i < 2; ++i) {
    const double gl2 = g[i] + wd * p0[i];  // first step: m_hat = g, v_hat = g^2
    EXPECT_NEAR(values(pa)[i], p0[i] - lr * gl2 / (std::fabs(gl2) + eps), 1e-15);
    EXPECT_NEAR(values(pw)[i], p0[i] * (1 - lr * wd) - lr * g[i] / (std::fabs(g[i]) + eps), 1e-15);
  }
  EXPECT_EQ(optim::AdamWOptions{}.weight_decay, 1e-2);
}

TEST(Optim, AdagradDenseTwoStepsWithInitialAccumulatorAndWeightDecay) {
  const std::vector<double> p0{1.0, -2.0, 0.5}, g1{0.5, -0.25, 0.0}, g2{-0.1, 0.4, 2.0};
  const double lr = 0.1, eps = 1e-10, init = 0.1, wd = 0.01;
  Var p = param_of(p0, {3});
  optim::Adagrad adagrad({p}, {.lr = lr, .initial_accumulator_value = init, .weight_decay = wd});
  std::vector<double> expect = p0, sum(3, init);
  for (const auto& g : {g1, g2}) {
    p.set_grad(Tensor::from_vector(g, {3}));
    adagrad.step();
    for (size_t i = 0; i < 3; ++i) {
      const double gi = g[i] + wd * expect[i];
      sum[i] += gi * gi;
      expect[i] -= lr * gi / (std::sqrt(sum[i]) + eps);
    }
  }
  EXPECT_TRUE(all_close(p.value(), Tensor::from_vector(expect, {3}), 1e-14, 1e-15));
  EXPECT_TRUE(all_close(state_of(adagrad, "param0.sum"), Tensor::from_vector(sum, {3}), 1e-14, 1e-15));
}

// FBGEMM row-wise Adagrad: acc[r] += mean_j g[r, j]^2; p[r] -= lr g[r] / (sqrt(acc[r]) + eps).
TEST(Optim, RowWiseAdagradMatchesHandComputationWithDuplicateIds) {
  const std::vector<double> p0{1, 2, 3, 4, 5, 6};  // [3, 2]
  const double lr = 0.5, eps = 1e-8, wd = 0.1;
  Var p = sparse_param(Tensor::from_vector(p0, {3, 2}));
  optim::RowWiseAdagrad opt({p}, {.lr = lr, .weight_decay = wd});
  add_rows(p, {2, 0}, {0.5, -1.0, 0.25, 0.25});
  add_rows(p, {2}, {1.0, 1.0});  // row 2 again, in another piece
  opt.step();
  // row 0: g = (0.25, 0.25) + wd * (1, 2); row 2: g = (1.5, 0.0) + wd * (5, 6)
  const double g00 = 0.25 + wd * 1, g01 = 0.25 + wd * 2, g20 = 1.5 + wd * 5, g21 = 0.0 + wd * 6;
  const double acc0 = (g00 * g00 + g01 * g01) / 2, acc2 = (g20 * g20 + g21 * g21) / 2;
  const std::vector<double> expect{1 - lr * g00 / (std::sqrt(acc0) + eps), 2 - lr * g01 / (std::sqrt(acc0) + eps),
                                   3, 4,
                                   5 - lr * g20 / (std::sqrt(acc2) + eps), 6 - lr * g21 / (std::sqrt(acc2) + eps)};
  EXPECT_TRUE(all_close(p.value(), Tensor::from_vector(expect, {3, 2}), 1e-14, 1e-15));
  EXPECT_TRUE(all_close(state_of(opt, "param0.row_sum"), Tensor::from_vector<double>({acc0, 0, acc2}), 1e-14, 0));
  EXPECT_EQ(values(p)[2], 3.0);  // untouched row: exactly as before
  EXPECT_EQ(values(p)[3], 4.0);
}

// PyTorch SparseAdam: m += (1-b1)(g - m); v += (1-b2)(g^2 - v);
// p -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), touched rows only.
TEST(Optim, SparseAdamMatchesHandComputationOnTouchedRows) {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Var p = sparse_param(Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2}));
  optim::SparseAdam opt({p}, {.lr = lr});
  std::vector<double> expect{1, 2, 3, 4, 5, 6}, m(6, 0.0), v(6, 0.0);
  auto apply = [&](int64_t row, double g0, double g1, int64_t t) {
    const double step_size = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    const double g[2] = {g0, g1};
    for (int j = 0; j < 2; ++j) {
      const size_t e = static_cast<size_t>(row * 2 + j);
      m[e] += (1 - b1) * (g[j] - m[e]);
      v[e] += (1 - b2) * (g[j] * g[j] - v[e]);
      expect[e] -= step_size * m[e] / (std::sqrt(v[e]) + eps);
    }
  };
  add_rows(p, {1, 1}, {0.5, -1.0, 0.25, 0.5});  // duplicates: row 1 gets (0.75, -0.5)
  opt.step();
  apply(1, 0.75, -0.5, 1);
  p.zero_grad();
  add_rows(p, {0, 1}, {2.0, 0.0, -0.5, 0.1});
  opt.step();
  apply(0, 2.0, 0.0, 2);
  apply(1, -0.5, 0.1, 2);
  EXPECT_TRUE(all_close(p.value(), Tensor::from_vector(expect, {3, 2}), 1e-14, 1e-15));
  EXPECT_TRUE(all_close(state_of(opt, "param0.exp_avg"), Tensor::from_vector(m, {3, 2}), 1e-14, 0));
  EXPECT_TRUE(all_close(state_of(opt, "param0.exp_avg_sq"), Tensor::from_vector(v, {3, 2}), 1e-14, 0));
  EXPECT_EQ(values(p)[4], 5.0);
  EXPECT_EQ(values(p)[5], 6.0);
}

TEST(Optim, Float32UpdatesMatchTheFloat64Formula) {
  const std::vector<double> p0{1.0, -2.0, 0.5}, g{0.5, -0.25, 0.125};
  Var p = param_of(p0, {3}, DType::f32);
  optim::Adam adam({p}, {.lr = 0.1});
  p.set_grad(Tensor::from_vector(g, {3}).to(DType::f32));
  adam.step();
  EXPECT_EQ(p.dtype(), DType::f32);
  EXPECT_EQ(state_of(adam, "param0.exp_avg").dtype(), DType::f32);
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(values(p)[i], p0[i] - 0.1 * (g[i] > 0 ? 1 : -1), 1e-6);
}

// ---- sparse semantics ------------------------------------------------------------------------

struct SparseBatch {
  std::vector<std::pair<std::vector<int64_t>, Tensor>> pieces;  // ids with duplicates, rows
  std::vector<int64_t> touched;
  Tensor dense;  // the summed gradient, added in order of appearance by a plain loop
};

SparseBatch make_batch(int64_t rows, int64_t cols, Generator& gen) {
  SparseBatch b;
  b.pieces.push_back({{4, 1, 4, 0}, random_tensor({4, cols}, gen)});
  b.pieces.push_back({{1, 6, 4}, random_tensor({3, cols}, gen)});
  b.touched = {0, 1, 4, 6};
  std::vector<double> dense(static_cast<size_t>(rows * cols), 0.0);
  for (const auto& [ids, r] : b.pieces) {
    const std::vector<double> v = r.to_doubles();
    for (size_t i = 0; i < ids.size(); ++i)
      for (int64_t c = 0; c < cols; ++c) dense[static_cast<size_t>(ids[i] * cols + c)] += v[i * static_cast<size_t>(cols) + static_cast<size_t>(c)];
  }
  b.dense = Tensor::from_vector(dense, {rows, cols});
  return b;
}

void give(const Var& p, const SparseBatch& b) {
  for (const auto& [ids, r] : b.pieces) add_rows(p, Tensor::from_vector(ids), r);
}

// Sparse SGD and sparse Adagrad coincide with their dense forms on the summed gradient (a zero
// gradient leaves a row where it is), so the results must agree bit for bit.
TEST(Optim, SparseSgdAndAdagradEqualDenseOnTheSummedGradient) {
  Generator gen(3);
  const Tensor init = random_tensor({8, 3}, gen);
  const SparseBatch batch = make_batch(8, 3, gen);
  for (int which = 0; which < 2; ++which) {
    Var sparse = sparse_param(init), dense = Var::parameter(init.clone());
    std::unique_ptr<Optimizer> os, od;
    if (which == 0) {
      os = std::make_unique<optim::SGD>(std::vector<Var>{sparse}, optim::SGDOptions{.lr = 0.3});
      od = std::make_unique<optim::SGD>(std::vector<Var>{dense}, optim::SGDOptions{.lr = 0.3});
    } else {
      os = std::make_unique<optim::Adagrad>(std::vector<Var>{sparse}, optim::AdagradOptions{.lr = 0.3});
      od = std::make_unique<optim::Adagrad>(std::vector<Var>{dense}, optim::AdagradOptions{.lr = 0.3});
    }
    for (int step = 0; step < 2; ++step) {
      give(sparse, batch);
      dense.set_grad(batch.dense.clone());
      os->step();
      od->step();
      sparse.zero_grad();
      dense.zero_grad();
    }
    EXPECT_TRUE(all_close(sparse.value(), dense.value(), 0, 0)) << os->name();
    const NamedTensors ss = os->state(), sd = od->state();
    ASSERT_EQ(ss.size(), sd.size());
    for (size_t k = 0; k < ss.size(); ++k) EXPECT_TRUE(all_close(ss[k].second, sd[k].second, 0, 0)) << ss[k].first;
    expect_only_rows_changed(init, sparse.value(), batch.touched, os->name());
  }
}

// Every sparse-capable optimizer, after a warm-up that makes all its state non-zero, leaves the
// rows a batch does not touch bit-identical in the parameter and in every state tensor.
TEST(Optim, SparseUpdatesLeaveUntouchedRowsOfParamAndStateBitIdentical) {
  Generator gen(4);
  const Tensor init = random_tensor({8, 3}, gen);
  const SparseBatch batch = make_batch(8, 3, gen);
  std::vector<std::function<std::unique_ptr<Optimizer>(Var)>> makers = {
      [](Var p) { return std::make_unique<optim::SGD>(std::vector<Var>{p}, optim::SGDOptions{.lr = 0.1}); },
      [](Var p) { return std::make_unique<optim::Adagrad>(std::vector<Var>{p}, optim::AdagradOptions{.initial_accumulator_value = 0.5}); },
      [](Var p) { return std::make_unique<optim::SparseAdam>(std::vector<Var>{p}); },
      [](Var p) { return std::make_unique<optim::RowWiseAdagrad>(std::vector<Var>{p}, optim::RowWiseAdagradOptions{.weight_decay = 0.1}); },
  };
  for (const auto& make : makers) {
    Var p = sparse_param(init);
    std::unique_ptr<Optimizer> opt = make(p);
    p.set_grad(random_tensor({8, 3}, gen));  // warm-up: a dense gradient touches every row
    opt->step();
    p.zero_grad();
    const Tensor before = p.value().clone();
    const NamedTensors state_before = snapshot(*opt);
    give(p, batch);
    opt->step();
    expect_only_rows_changed(before, p.value(), batch.touched, opt->name() + " param");
    const NamedTensors state_after = opt->state();
    for (size_t k = 0; k < state_after.size(); ++k) {
      const std::string& key = state_after[k].first;
      if (key == "step" || key == "lr" || key.ends_with(".step")) continue;
      expect_only_rows_changed(state_before[k].second, state_after[k].second, batch.touched, opt->name() + " " + key);
    }
  }
}

// For the non-linear sparse optimizers, summing duplicates before the update is not the same as
// updating once per occurrence: a batch with repeated ids must equal one coalesced row per id.
TEST(Optim, DuplicateIdsAreSummedBeforeTheUpdate) {
  Generator gen(5);
  const Tensor init = random_tensor({8, 3}, gen);
  const SparseBatch batch = make_batch(8, 3, gen);
  const ops::SparseRows summed = ops::coalesce_rows(Tensor::from_vector<int64_t>({0, 1, 4, 6}),
                                                    ops::gather_rows(batch.dense, Tensor::from_vector<int64_t>({0, 1, 4, 6})));
  for (int which = 0; which < 3; ++which) {
    Var a = sparse_param(init), b = sparse_param(init);
    auto make = [&](Var p) -> std::unique_ptr<Optimizer> {
      if (which == 0) return std::make_unique<optim::SparseAdam>(std::vector<Var>{p});
      if (which == 1) return std::make_unique<optim::RowWiseAdagrad>(std::vector<Var>{p});
      return std::make_unique<optim::Adagrad>(std::vector<Var>{p});
    };
    auto oa = make(a), ob = make(b);
    give(a, batch);
    add_rows(b, summed.indices, summed.rows);
    oa->step();
    ob->step();
    EXPECT_TRUE(all_close(a.value(), b.value(), 0, 0)) << oa->name();
  }
}

TEST(Optim, SparseGradientsFromAnEmbeddingBackward) {
  Generator gen(6);
  Var table = sparse_param(random_tensor({10, 4}, gen));
  const Tensor before = table.value().clone();
  optim::RowWiseAdagrad opt({table}, {.lr = 0.1});
  const Tensor ids = Tensor::from_vector<int64_t>({3, 7, 3, 9}, {2, 2});
  sum_all(square(embedding(table, ids))).backward();
  ASSERT_FALSE(table.sparse_grad().empty());
  opt.step();
  expect_only_rows_changed(before, table.value(), {3, 7, 9}, "embedding table");
}

// Parameters without a gradient are skipped: no value, state or step counter moves.
TEST(Optim, ParametersWithoutGradientsAreSkipped) {
  Var a = param_of({1.0, 2.0}, {2}), b = param_of({3.0, 4.0}, {2});
  optim::Adam adam({a, b}, {.lr = 0.1});
  a.set_grad(Tensor::from_vector<double>({1.0, 1.0}));
  adam.step();
  adam.step();
  EXPECT_EQ(values(b), (std::vector<double>{3.0, 4.0}));
  EXPECT_EQ(state_of(adam, "param0.step").item<int64_t>(), 2);
  EXPECT_EQ(state_of(adam, "param1.step").item<int64_t>(), 0);
  EXPECT_EQ(state_of(adam, "param1.exp_avg").to_doubles(), (std::vector<double>{0.0, 0.0}));
  // b's first update is bias-corrected for its own first step: a move of ~lr.
  b.set_grad(Tensor::from_vector<double>({1.0, -1.0}));
  adam.step();
  EXPECT_NEAR(values(b)[0], 2.9, 1e-7);
  EXPECT_NEAR(values(b)[1], 4.1, 1e-7);
  EXPECT_EQ(adam.step_count(), 3);
  adam.zero_grad();
  EXPECT_FALSE(a.has_grad());
  EXPECT_FALSE(b.has_grad());
}

// A parameter holding dense and sparse gradients at once gets their sum.
TEST(Optim, DenseAndSparseGradientsOfOneParameterAreSummed) {
  Generator gen(7);
  const Tensor init = random_tensor({8, 3}, gen);
  const SparseBatch batch = make_batch(8, 3, gen);
  const Tensor extra = random_tensor({8, 3}, gen);
  Var mixed = sparse_param(init), dense = Var::parameter(init.clone());
  optim::SparseAdam om({mixed}), od({dense});
  give(mixed, batch);
  mixed.set_grad(extra.clone());
  dense.set_grad(ops::add(extra, batch.dense));
  om.step();
  od.step();
  EXPECT_TRUE(all_close(mixed.value(), dense.value(), 1e-13, 1e-13));
}

// ---- checkpoints ---------------------------------------------------------------------------------

struct OptimCase {
  const char* name;
  std::function<std::unique_ptr<Optimizer>(std::vector<Var>)> make;
  bool sparse;  // feed the second parameter sparse rows
};

const std::vector<OptimCase>& all_cases() {
  static const std::vector<OptimCase> cases = {
      {"SGD+nesterov", [](std::vector<Var> p) { return std::make_unique<optim::SGD>(std::move(p), optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true}); }, false},
      {"SGD sparse", [](std::vector<Var> p) { return std::make_unique<optim::SGD>(std::move(p), optim::SGDOptions{.lr = 0.05}); }, true},
      {"Adam", [](std::vector<Var> p) { return std::make_unique<optim::Adam>(std::move(p), optim::AdamOptions{.lr = 0.01, .weight_decay = 0.01}); }, false},
      {"AdamW", [](std::vector<Var> p) { return std::make_unique<optim::AdamW>(std::move(p), optim::AdamWOptions{.lr = 0.01}); }, false},
      {"Adagrad", [](std::vector<Var> p) { return std::make_unique<optim::Adagrad>(std::move(p), optim::AdagradOptions{.lr = 0.1, .initial_accumulator_value = 0.1}); }, true},
      {"SparseAdam", [](std::vector<Var> p) { return std::make_unique<optim::SparseAdam>(std::move(p), optim::SparseAdamOptions{.lr = 0.01}); }, true},
      {"RowWiseAdagrad", [](std::vector<Var> p) { return std::make_unique<optim::RowWiseAdagrad>(std::move(p), optim::RowWiseAdagradOptions{.lr = 0.1, .weight_decay = 0.01}); }, true},
  };
  return cases;
}

// Gradients of step k, the same for every run.
void give_step_grads(std::vector<Var> params, int k, bool sparse) {
  Generator gen(100 + static_cast<uint64_t>(k));
  params[0].set_grad(random_tensor(params[0].shape(), gen).to(params[0].dtype()));
  if (sparse) {
    add_rows(params[1], random_ids({5}, params[1].size(0), gen), random_tensor({5, params[1].size(1)}, gen));
    add_rows(params[1], random_ids({3}, params[1].size(0), gen), random_tensor({3, params[1].size(1)}, gen));
  } else {
    params[1].set_grad(random_tensor(params[1].shape(), gen).to(params[1].dtype()));
  }
}

void run_steps(Optimizer& opt, int from, int to, bool sparse) {
  for (int k = from; k < to; ++k) {
    give_step_grads(opt.params(), k, sparse);
    opt.step();
    opt.zero_grad();
  }
}

std::vector<Var> make_params(const std::vector<Tensor>& values, bool sparse) {
  std::vector<Var> p{Var::parameter(values[0].clone()), Var::parameter(values[1].clone())};
  p[1].set_sparse(sparse);
  return p;
}

TEST(Optim, StateRoundTripContinuesExactly) {
  Generator gen(8);
  const std::vector<Tensor> init{random_tensor({3, 2}, gen), random_tensor({6, 4}, gen)};
  for (const OptimCase& c : all_cases()) {
    std::unique_ptr<Optimizer> original = c.make(make_params(init, c.sparse));
    run_steps(*original, 0, 3, c.sparse);
    original->set_lr(original->lr() * 0.5);  // as a schedule would
    const NamedTensors saved = snapshot(*original);

    std::vector<Var> resumed_params = make_params({original->params()[0].value(), original->params()[1].value()}, c.sparse);
    std::unique_ptr<Optimizer> resumed = c.make(resumed_params);
    resumed->load_state(saved);
    EXPECT_EQ(resumed->step_count(), 3) << c.name;
    EXPECT_EQ(resumed->lr(), original->lr()) << c.name;

    run_steps(*original, 3, 6, c.sparse);
    run_steps(*resumed, 3, 6, c.sparse);
    for (size_t i = 0; i < 2; ++i)
      EXPECT_TRUE(all_close(resumed->params()[i].value(), original->params()[i].value(), 0, 0)) << c.name << " param " << i;
    const NamedTensors a = original->state(), b = resumed->state();
    ASSERT_EQ(a.size(), b.size()) << c.name;
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k].first, b[k].first);
      EXPECT_TRUE(all_close(b[k].second, a[k].second, 0, 0)) << c.name << " " << a[k].first;
    }
  }
}

TEST(Optim, LoadStateRejectsMismatchedStateAndChangesNothing) {
  Var p = param_of({1.0, 2.0, 3.0}, {3});
  optim::Adam adam({p});
  const NamedTensors good = snapshot(adam);
  auto with = [&](const std::string& name, Tensor t) {
    NamedTensors s = good;
    for (auto& [key, value] : s)
      if (key == name) value = std::move(t);
    return s;
  };
  EXPECT_ERROR_HAS(adam.load_state(with("param0.exp_avg", Tensor::zeros({4}, DType::f64))), "Adam", "load_state",
                   "param0.exp_avg", "[4] f64");
  EXPECT_ERROR_HAS(adam.load_state(with("param0.exp_avg_sq", Tensor::ones({3}, DType::f32))), "param0.exp_avg_sq", "f32");
  NamedTensors missing = good;
  missing.pop_back();
  EXPECT_ERROR_HAS(adam.load_state(missing), "missing entry", "param0.step");
  NamedTensors extra = good;
  extra.emplace_back("param1.exp_avg", Tensor::zeros({3}, DType::f64));
  EXPECT_ERROR_HAS(adam.load_state(extra), "unexpected entry", "param1.exp_avg");
  NamedTensors twice = good;
  twice.push_back(good[2]);
  EXPECT_ERROR_HAS(adam.load_state(twice), "appears twice");
  // A valid entry before the bad one was not copied in.
  NamedTensors partly = with("param0.exp_avg_sq", Tensor::zeros({2}, DType::f64));
  partly[2].second = Tensor::ones({3}, DType::f64);  // param0.exp_avg
  partly[0].second = Tensor::scalar<int64_t>(7);
  EXPECT_THROW(adam.load_state(partly), Error);
  EXPECT_EQ(state_of(adam, "param0.exp_avg").to_doubles(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(adam.step_count(), 0);
  // A SGD checkpoint does not load into Adam.
  Var q = param_of({1.0, 2.0, 3.0}, {3});
  optim::SGD sgd({q}, {.lr = 0.1, .momentum = 0.9});
  EXPECT_ERROR_HAS(adam.load_state(sgd.state()), "Adam", "param0.momentum_buffer");
}

// ---- errors --------------------------------------------------------------------------------------

TEST(Optim, SparseGradientsWithUnsupportedOptionsAreErrorsNamingParameterAndOption) {
  Var dense = param_of({1.0, 2.0}, {2});
  Var table = sparse_param(Tensor::zeros({4, 2}, DType::f64));
  table.set_name("item_emb");
  auto arm = [&] {
    dense.set_grad(Tensor::ones({2}, DType::f64));
    table.zero_grad();
    add_rows(table, {1}, {1.0, 1.0});
  };
  {
    optim::SGD sgd({dense, table}, {.lr = 0.1, .momentum = 0.9});
    arm();
    EXPECT_ERROR_HAS(sgd.step(), "SGD", "parameter 1", "item_emb", "momentum");
    // Checked before anything moved: the dense parameter is untouched, no step counted.
    EXPECT_EQ(values(dense), (std::vector<double>{1.0, 2.0}));
    EXPECT_EQ(sgd.step_count(), 0);
  }
  {
    optim::SGD sgd({table}, {.lr = 0.1, .weight_decay = 0.01});
    arm();
    EXPECT_ERROR_HAS(sgd.step(), "SGD", "parameter 0", "item_emb", "weight_decay");
  }
  {
    optim::Adam adam({table});
    arm();
    EXPECT_ERROR_HAS(adam.step(), "Adam", "parameter 0", "item_emb", "sparse gradient", "SparseAdam");
    optim::AdamW adamw({table});
    EXPECT_ERROR_HAS(adamw.step(), "AdamW", "item_emb", "SparseAdam");
  }
  {
    optim::Adagrad adagrad({table}, {.weight_decay = 0.1});
    arm();
    EXPECT_ERROR_HAS(adagrad.step(), "Adagrad", "item_emb", "weight_decay");
  }
  {  // a dense gradient of the wrong dtype is caught by the update kernel
    Var p = param_of({1.0, 2.0}, {2});
    optim::SGD sgd({p}, {.lr = 0.1});
    p.set_grad(Tensor::ones({2}, DType::f32));
    EXPECT_ERROR_HAS(sgd.step(), "sgd_update", "f32", "f64");
  }
}

TEST(Optim, ConstructorsRejectBadArguments) {
  Var p = param_of({1.0, 2.0}, {2});
  EXPECT_ERROR_HAS(optim::SGD({}, {.lr = 0.1}), "SGD", "empty parameter list");
  EXPECT_ERROR_HAS(optim::SGD({p}, {}), "SGD", "lr has no default");
  EXPECT_ERROR_HAS(optim::SGD({p, p}, {.lr = 0.1}), "parameter 1", "more than once");
  EXPECT_ERROR_HAS(optim::SGD({Var(Tensor::zeros({2}))}, {.lr = 0.1}), "parameter 0", "requires a gradient");
  EXPECT_ERROR_HAS(optim::SGD({p * 2.0}, {.lr = 0.1}), "leaf");
  EXPECT_ERROR_HAS(optim::SGD({p}, {.lr = -1}), "SGD", "lr", "-1");
  EXPECT_ERROR_HAS(optim::SGD({p}, {.lr = 0.1, .nesterov = true}), "nesterov", "momentum");
  EXPECT_ERROR_HAS(optim::Adam({p}, {.beta1 = 1.0}), "Adam", "beta1", "[0, 1)");
  EXPECT_ERROR_HAS(optim::AdamW({p}, {.beta2 = -0.1}), "AdamW", "beta2");
  EXPECT_ERROR_HAS(optim::Adam({p}, {.eps = std::nan("")}), "Adam", "eps");
  EXPECT_ERROR_HAS(optim::Adagrad({p}, {.initial_accumulator_value = -1}), "Adagrad", "initial_accumulator_value");
  EXPECT_ERROR_HAS(optim::RowWiseAdagrad({Var::parameter(Tensor::scalar(1.0))}), "RowWiseAdagrad", "at least one axis");
  EXPECT_ERROR_HAS(optim::SparseAdam({p}, {.lr = INFINITY}), "SparseAdam", "lr");
  optim::SGD sgd({p}, {.lr = 0.1});
  EXPECT_ERROR_HAS(sgd.set_lr(-0.5), "SGD", "lr");
  EXPECT_EQ(sgd.lr(), 0.1);
}

TEST(OptimOps, KernelsCheckTheirArguments) {
  Tensor p = Tensor::zeros({4, 2}, DType::f64);
  Tensor m = Tensor::zeros({4, 2}, DType::f64), v = Tensor::zeros({4, 2}, DType::f64);
  Tensor acc = Tensor::zeros({4}, DType::f64);
  const Tensor rows = Tensor::ones({2, 2}, DType::f64);
  auto grad = [&](std::vector<int64_t> ids) { return ops::SparseRows{Tensor::from_vector(ids), rows}; };
  // Ids out of range or not coalesced: an error naming the op and the id, and nothing written.
  EXPECT_ERROR_HAS(ops::sparse_sgd_update(p, grad({1, 4}), 0.1), "sparse_sgd_update", "index 4", "[0, 4)");
  EXPECT_ERROR_HAS(ops::sparse_adam_update(p, grad({-1, 2}), m, v, {}), "sparse_adam_update", "index -1");
  EXPECT_ERROR_HAS(ops::rowwise_adagrad_update(p, grad({2, 2}), acc, {}), "rowwise_adagrad_update", "coalesced",
                   "indices[1] = 2 follows 2");
  EXPECT_ERROR_HAS(ops::sparse_adagrad_update(p, grad({3, 1}), m, {}), "sparse_adagrad_update", "coalesced");
  EXPECT_EQ(p.to_doubles(), std::vector<double>(8, 0.0));
  EXPECT_EQ(acc.to_doubles(), std::vector<double>(4, 0.0));
  // Shapes, dtypes and devices of every tensor.
  EXPECT_ERROR_HAS(ops::sparse_sgd_update(p, ops::SparseRows{Tensor::from_vector<int64_t>({0, 1}), Tensor::ones({2, 3}, DType::f64)}, 0.1),
                   "sparse_sgd_update", "[2, 3] f64", "[4, 2] f64");
  EXPECT_ERROR_HAS(ops::sparse_sgd_update(p, ops::SparseRows{Tensor::from_vector<int32_t>({0, 1}), rows}, 0.1),
                   "sparse_sgd_update", "i64", "i32");
  EXPECT_ERROR_HAS(ops::sparse_sgd_update(p, ops::SparseRows{Tensor::from_vector<int64_t>({0}), rows}, 0.1),
                   "sparse_sgd_update", "one row of param");
  EXPECT_ERROR_HAS(ops::sparse_sgd_update(p, ops::SparseRows{Tensor::from_vector<int64_t>({0, 1}), rows.to(DType::f32)}, 0.1),
                   "different dtypes");
  EXPECT_ERROR_HAS(ops::rowwise_adagrad_update(p, grad({0, 1}), m, {}), "row_accumulator", "[4, 2]");
  EXPECT_ERROR_HAS(ops::adam_update(p, Tensor::zeros({4, 2}, DType::f64), m, acc, {}), "adam_update", "exp_avg_sq",
                   "different shapes");
  EXPECT_ERROR_HAS(ops::adam_update(p, Tensor::zeros({4, 2}, DType::f64), m, v, {.step = 0}), "adam_update", "step");
  Tensor none;
  EXPECT_ERROR_HAS(ops::sgd_update(p, Tensor::zeros({4, 2}, DType::f64), none, {.lr = 0.1, .momentum = 0.9}),
                   "sgd_update", "momentum_buf");
  EXPECT_ERROR_HAS(ops::sparse_adagrad_update(p, grad({0, 1}), m, {.weight_decay = 0.1}), "sparse_adagrad_update",
                   "weight_decay");
  Tensor ints = Tensor::zeros({4, 2}, DType::i32);
  EXPECT_ERROR_HAS(ops::sgd_update(ints, ints, none, {.lr = 0.1}), "sgd_update", "f32 or f64");
  // Empty batches and empty parameters are no-ops.
  EXPECT_NO_THROW(ops::sparse_adam_update(p, ops::SparseRows{Tensor::zeros({0}, DType::i64), Tensor::zeros({0, 2}, DType::f64)}, m, v, {}));
  Tensor empty = Tensor::zeros({0, 2}, DType::f64);
  EXPECT_NO_THROW(ops::adagrad_update(empty, empty, empty, {}));
}

TEST(OptimOps, CoalesceRowPiecesConcatenatesAndSums) {
  const Tensor p = Tensor::zeros({5, 2}, DType::f64);
  const ops::SparseRows merged = ops::coalesce_row_pieces(
      p, {{Tensor::from_vector<int64_t>({3, 1}), Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2})},
          {Tensor::zeros({0}, DType::i64), Tensor::zeros({0, 2}, DType::f64)},
          {Tensor::from_vector<int64_t>({3}), Tensor::from_vector<double>({10, 20}, {1, 2})}});
  EXPECT_EQ(merged.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(merged.rows.to_vector<double>(), (std::vector<double>{3, 4, 11, 22}));
  EXPECT_ERROR_HAS(ops::coalesce_row_pieces(p, {{Tensor::from_vector<int64_t>({0}), Tensor::ones({1, 2}, DType::f32)}}),
                   "coalesce_row_pieces", "pieces[0]", "different dtypes");
  EXPECT_ERROR_HAS(ops::coalesce_row_pieces(p, {}), "coalesce_row_pieces", "no gradient pieces");
}

// ---- end to end: convex problems ------------------------------------------------------------------

// Least squares: minimise mean((X w - y)^2) with y = X w_true, from ops (broadcast mul + row sum).
double least_squares(Optimizer& opt, const Var& w, const Tensor& x, const Tensor& y, int steps,
                     const optim::LRSchedule* schedule = nullptr) {
  double loss = 0;
  for (int k = 0; k < steps; ++k) {
    if (schedule) opt.set_lr(schedule->lr_at(opt.step_count()));
    Var pred = sum(mul(Var(x), w), 1);
    Var l = mean_all(square(sub(pred, Var(y))));
    loss = l.value().item<double>();
    l.backward();
    opt.step();
    opt.zero_grad();
  }
  return loss;
}

TEST(Optim, DenseOptimizersSolveLeastSquares) {
  Generator gen(9);
  const Tensor x = random_tensor({32, 4}, gen);
  const std::vector<double> w_true{0.5, -1.0, 2.0, 0.25};
  std::vector<double> yv(32);
  const std::vector<double> xv = x.to_doubles();
  for (size_t i = 0; i < 32; ++i)
    for (size_t j = 0; j < 4; ++j) yv[i] += xv[i * 4 + j] * w_true[j];
  const Tensor y = Tensor::from_vector(yv);
  const auto cosine = std::make_shared<optim::CosineLR>(0.1, 1500, 1e-4);
  const optim::LinearWarmup warm_cosine(20, cosine);
  struct Run {
    const char* name;
    std::function<std::unique_ptr<Optimizer>(Var)> make;
    const optim::LRSchedule* schedule;
  };
  const std::vector<Run> runs = {
      {"SGD", [](Var w) { return std::make_unique<optim::SGD>(std::vector<Var>{w}, optim::SGDOptions{.lr = 0.3}); }, nullptr},
      {"SGD momentum", [](Var w) { return std::make_unique<optim::SGD>(std::vector<Var>{w}, optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true}); }, nullptr},
      {"Adam", [](Var w) { return std::make_unique<optim::Adam>(std::vector<Var>{w}); }, &warm_cosine},
      {"AdamW", [](Var w) { return std::make_unique<optim::AdamW>(std::vector<Var>{w}, optim::AdamWOptions{.weight_decay = 0}); }, &warm_cosine},
      {"Adagrad", [](Var w) { return std::make_unique<optim::Adagrad>(std::vector<Var>{w}, optim::AdagradOptions{.lr = 0.5}); }, nullptr},
      {"SparseAdam (dense grads)", [](Var w) { return std::make_unique<optim::SparseAdam>(std::vector<Var>{w}); }, &warm_cosine},
      {"RowWiseAdagrad (dense grads)", [](Var w) { return std::make_unique<optim::RowWiseAdagrad>(std::vector<Var>{w}, optim::RowWiseAdagradOptions{.lr = 0.5}); }, nullptr},
  };
  for (const Run& run : runs) {
    // w is [1, 4] (broadcast over the rows of x); row-wise Adagrad then has one row to adapt.
    Var w = Var::parameter(Tensor::zeros({1, 4}, DType::f64));
    std::unique_ptr<Optimizer> opt = run.make(w);
    const double first = least_squares(*opt, w, x, y, 1, run.schedule);
    const double last = least_squares(*opt, w, x, y, 1499, run.schedule);
    EXPECT_LT(last, 1e-12 * first) << run.name << ": " << first << " -> " << last;
    EXPECT_TRUE(all_close(w.value(), Tensor::from_vector(w_true, {1, 4}), 0, 1e-6)) << run.name;
  }
}

// Sparse: fit an embedding table to target rows, one random batch of ids (with repeats) per step.
TEST(Optim, SparseOptimizersFitAnEmbeddingTable) {
  Generator gen(10);
  const Tensor target = random_tensor({12, 4}, gen);
  struct Run {
    const char* name;
    std::function<std::unique_ptr<Optimizer>(Var)> make;
  };
  const std::vector<Run> runs = {
      {"SGD", [](Var t) { return std::make_unique<optim::SGD>(std::vector<Var>{t}, optim::SGDOptions{.lr = 2.0}); }},
      {"Adagrad", [](Var t) { return std::make_unique<optim::Adagrad>(std::vector<Var>{t}, optim::AdagradOptions{.lr = 0.5}); }},
      {"SparseAdam", [](Var t) { return std::make_unique<optim::SparseAdam>(std::vector<Var>{t}, optim::SparseAdamOptions{.lr = 0.05}); }},
      {"RowWiseAdagrad", [](Var t) { return std::make_unique<optim::RowWiseAdagrad>(std::vector<Var>{t}, optim::RowWiseAdagradOptions{.lr = 0.5}); }},
  };
  for (const Run& run : runs) {
    Var table = sparse_param(Tensor::zeros({12, 4}, DType::f64));
    std::unique_ptr<Optimizer> opt = run.make(table);
    const optim::CosineLR schedule(opt->lr(), 600, opt->lr() * 1e-3);
    Generator batches(11);
    for (int k = 0; k < 600; ++k) {
      opt->set_lr(schedule.lr_at(opt->step_count()));
      const Tensor ids = random_ids({16}, 12, batches);
      Var diff = sub(embedding(table, ids), Var(ops::gather_rows(target, ids)));
      Var loss = sum_all(square(diff)) / 16.0;
      loss.backward();
      ASSERT_TRUE(table.sparse_grad().size() == 1 && !table.grad().defined()) << run.name;
      opt->step();
      opt->zero_grad();
    }
    EXPECT_TRUE(all_close(table.value(), target, 0, 1e-6)) << run.name;
  }
}

// ---- CUDA parity ------------------------------------------------------------------------------------

struct Inputs {
  Tensor p, g, s1, s2, acc;
};

Inputs random_inputs(const Shape& shape, DType dtype, Generator& gen) {
  return {random_tensor(shape, gen, dtype), random_tensor(shape, gen, dtype),
          random_tensor(shape, gen, dtype, -0.5, 0.5), random_tensor(shape, gen, dtype, 0.0, 0.5),
          random_tensor({shape[0]}, gen, dtype, 0.0, 1.0)};
}

Inputs on(const Inputs& in, Device d) {
  return {in.p.to(d).clone(), in.g.to(d).clone(), in.s1.to(d).clone(), in.s2.to(d).clone(), in.acc.to(d).clone()};
}

::testing::AssertionResult same(const Inputs& gpu, const Inputs& cpu) {
  const Tensor Inputs::*fields[] = {&Inputs::p, &Inputs::s1, &Inputs::s2, &Inputs::acc};
  for (auto f : fields) {
    auto r = all_close(gpu.*f, cpu.*f, 1e-6, 1e-6);
    if (!r) return r;
  }
  return ::testing::AssertionSuccess();
}

TEST(OptimCuda, DenseKernelsMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const Shape& shape : {Shape{1}, Shape{1000, 37}, Shape{3, 5, 7}}) {
      const Inputs in = random_inputs(shape, dtype, gen);
      std::vector<std::function<void(Inputs&)>> updates = {
          [](Inputs& t) { Tensor none; ops::sgd_update(t.p, t.g, none, {.lr = 0.1, .weight_decay = 0.01}); },
          [](Inputs& t) { ops::sgd_update(t.p, t.g, t.s1, {.lr = 0.1, .momentum = 0.9, .nesterov = true}); },
          [](Inputs& t) { ops::adam_update(t.p, t.g, t.s1, t.s2, {.lr = 0.01, .weight_decay = 0.1, .step = 3}); },
          [](Inputs& t) { ops::adam_update(t.p, t.g, t.s1, t.s2, {.lr = 0.01, .weight_decay = 0.1, .decoupled_weight_decay = true, .step = 1}); },
          [](Inputs& t) { ops::adagrad_update(t.p, t.g, t.s2, {.lr = 0.1, .weight_decay = 0.01}); },
      };
      for (size_t u = 0; u < updates.size(); ++u) {
        Inputs cpu = on(in, Device::cpu()), gpu = on(in, testing::gpu());
        updates[u](cpu);
        updates[u](gpu);
        EXPECT_TRUE(same(gpu, cpu)) << "update " << u << " " << dtype_name(dtype) << " " << shape_str(shape);
      }
    }
  }
}

TEST(OptimCuda, SparseKernelsMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  for (DType dtype : {DType::f32, DType::f64}) {
    for (int64_t cols : {1, 16, 300}) {
      const Inputs in = random_inputs({500, cols}, dtype, gen);
      // Duplicates: 2000 ids over 500 rows; coalesced on each device.
      const Tensor ids = random_ids({2000}, 450, gen);
      const Tensor rows = random_tensor({2000, cols}, gen, dtype);
      const ops::SparseRows cpu_grad = ops::coalesce_rows(ids, rows);
      const ops::SparseRows gpu_grad = ops::coalesce_rows(ids.to(testing::gpu()), rows.to(testing::gpu()));
      EXPECT_TRUE(all_close(gpu_grad.rows, cpu_grad.rows, 0, 0));
      std::vector<std::function<void(Inputs&, const ops::SparseRows&)>> updates = {
          [](Inputs& t, const ops::SparseRows& g) { ops::sparse_sgd_update(t.p, g, 0.1); },
          [](Inputs& t, const ops::SparseRows& g) { ops::sparse_adam_update(t.p, g, t.s1, t.s2, {.lr = 0.01, .step = 4}); },
          [](Inputs& t, const ops::SparseRows& g) { ops::sparse_adagrad_update(t.p, g, t.s2, {.lr = 0.1}); },
          [](Inputs& t, const ops::SparseRows& g) { ops::rowwise_adagrad_update(t.p, g, t.acc, {.lr = 0.1, .weight_decay = 0.01}); },
      };
      for (size_t u = 0; u < updates.size(); ++u) {
        Inputs cpu = on(in, Device::cpu()), gpu = on(in, testing::gpu());
        updates[u](cpu, cpu_grad);
        updates[u](gpu, gpu_grad);
        EXPECT_TRUE(same(gpu, cpu)) << "update " << u << " " << dtype_name(dtype) << " cols " << cols;
        // Rows 450..499 are never touched: bit-identical on the GPU too.
        EXPECT_TRUE(all_close(gpu.p.rows(450, 500), in.p.rows(450, 500), 0, 0)) << "update " << u;
      }
    }
  }
}

TEST(OptimCuda, SparseKernelsRejectBadIdsOnTheDevice) {
  AISLE_SKIP_WITHOUT_CUDA();
  Tensor p = Tensor::zeros({4, 2}, DType::f32, testing::gpu());
  Tensor acc = Tensor::zeros({4}, DType::f32, testing::gpu());
  const Tensor rows = Tensor::ones({2, 2}, DType::f32, testing::gpu());
  auto grad = [&](std::vector<int64_t> ids) { return ops::SparseRows{Tensor::from_vector(ids, testing::gpu()), rows}; };
  EXPECT_ERROR_HAS(ops::sparse_sgd_update(p, grad({1, 4}), 0.1), "sparse_sgd_update", "index 4", "[0, 4)");
  EXPECT_ERROR_HAS(ops::rowwise_adagrad_update(p, grad({3, 1}), acc, {}), "rowwise_adagrad_update", "coalesced",
                   "indices[1] = 1 follows 3");
  EXPECT_EQ(p.to_doubles(), std::vector<double>(8, 0.0));
  EXPECT_NO_THROW(ops::sparse_sgd_update(p, grad({0, 3}), 0.1));  // the error flag was cleared
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{-0.1f, -0.1f, 0, 0, 0, 0, -0.1f, -0.1f}));
}

TEST(OptimCuda, OptimizersMatchCpuOnEmbeddingTraining) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  const Tensor init = random_tensor({50, 8}, gen, DType::f32);
  const Tensor dense_init = random_tensor({8, 1}, gen, DType::f32);
  for (const OptimCase& c : all_cases()) {
    std::vector<Tensor> results;
    for (Device d : {Device::cpu(), testing::gpu()}) {
      Var table = Var::parameter(init.to(d).clone()), w = Var::parameter(dense_init.to(d).clone());
      table.set_sparse(c.sparse);
      std::unique_ptr<Optimizer> opt = c.make({w, table});
      Generator batches(23);
      for (int k = 0; k < 5; ++k) {
        const Tensor ids = random_ids({64}, 50, batches).to(d);
        Var out = sum(mul(embedding(table, ids), reshape(w, {1, 8})), 1);
        mean_all(square(out)).backward();
        opt->step();
        opt->zero_grad();
      }
      results.push_back(table.value());
      results.push_back(w.value());
    }
    EXPECT_TRUE(all_close(results[2], results[0], 1e-5, 1e-6)) << c.name;
    EXPECT_TRUE(all_close(results[3], results[1], 1e-5, 1e-6)) << c.name;
  }
}

}  // namespace
}  // namespace aisle
