#include "aisle/autograd/loss.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/loss.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using ops::Reduction;
using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_tensor;

constexpr Reduction kReductions[] = {Reduction::none, Reduction::sum, Reduction::mean};

// ---- plain-loop references (long double, textbook formulas, no shared code with the kernels) ----

double ref_sigmoid(double x) {
  return static_cast<double>(1.0L / (1.0L + std::exp(-static_cast<long double>(x))));
}

std::vector<double> ref_mse(const std::vector<double>& p, const std::vector<double>& t) {
  std::vector<double> l;
  for (size_t i = 0; i < p.size(); ++i) l.push_back((p[i] - t[i]) * (p[i] - t[i]));
  return l;
}

// -(t log s + (1 - t) log(1 - s)), s = sigmoid(x): fine for moderate logits.
std::vector<double> ref_bce(const std::vector<double>& x, const std::vector<double>& t,
                            const std::vector<double>& w) {
  std::vector<double> l;
  for (size_t i = 0; i < x.size(); ++i) {
    const long double s = 1.0L / (1.0L + std::exp(-static_cast<long double>(x[i])));
    const long double v = -(t[i] * std::log(s) + (1 - t[i]) * std::log(1 - s));
    l.push_back(static_cast<double>(v) * (w.empty() ? 1.0 : w[i]));
  }
  return l;
}

std::vector<double> ref_bpr(const std::vector<double>& pos, const std::vector<double>& neg) {
  std::vector<double> l;
  for (size_t i = 0; i < pos.size(); ++i) l.push_back(-std::log(ref_sigmoid(pos[i] - neg[i])));
  return l;
}

std::vector<double> ref_huber(const std::vector<double>& p, const std::vector<double>& t, double delta) {
  std::vector<double> l;
  for (size_t i = 0; i < p.size(); ++i) {
    const double d = p[i] - t[i];
    l.push_back(std::fabs(d) <= delta ? 0.5 * d * d : delta * (std::fabs(d) - 0.5 * delta));
  }
  return l;
}

// -log softmax(x)[t] per row, 0 for ignored rows (direct exp sums in long double).
std::vector<double> ref_ce(const std::vector<double>& x, int64_t classes, const std::vector<int64_t>& t,
                           int64_t ignore_index) {
  std::vector<double> l;
  for (size_t r = 0; r < t.size(); ++r) {
    if (t[r] == ignore_index) {
      l.push_back(0.0);
      continue;
    }
    long double z = 0;
    for (int64_t k = 0; k < classes; ++k) z += std::exp(static_cast<long double>(x[r * classes + k]));
    l.push_back(static_cast<double>(std::log(z) - x[r * classes + t[r]]));
  }
  return l;
}

// The reduced reference: per-element values, their sum, or the sum over `count` (0/0 = NaN).
Tensor expected(const std::vector<double>& per, const Shape& shape, Reduction r, double count = -1) {
  if (r == Reduction::none) return Tensor::from_vector(per, shape);
  double s = 0;
  for (double v : per) s += v;
  if (count < 0) count = static_cast<double>(per.size());
  return Tensor::scalar(r == Reduction::sum ? s : s / count);
}


bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Tensor scalar_like(double v, const Tensor& x) { return Tensor::full({}, v, x.dtype(), x.device()); }

// ---- forward values ---------------------------------------------------------------------------

TEST(Loss, MseMatchesReferenceForEveryReductionAndShape) {
  Generator gen(1);
  for (const Shape& shape : {Shape{}, Shape{1}, Shape{7}, Shape{3, 4}, Shape{2, 1, 5}}) {
    const Tensor p = random_tensor(shape, gen, DType::f64, -3, 3),
                 t = random_tensor(shape, gen, DType::f64, -3, 3);
    const std::vector<double> ref = ref_mse(p.to_doubles(), t.to_doubles());
    for (Reduction r : kReductions) {
      EXPECT_TRUE(all_close(ops::mse_loss(p, t, r), expected(ref, shape, r), 1e-12, 1e-14))
          << shape_str(shape) << " " << ops::reduction_name(r);
      EXPECT_TRUE(all_close(ops::mse_loss(p.to(DType::f32), t.to(DType::f32), r), expected(ref, shape, r),
                            1e-5, 1e-6));
    }
  }
}

TEST(Loss, EmptyInputsGiveZeroSumNaNMeanAndEmptyNone) {
  const Tensor e = Tensor::zeros({0, 3}, DType::f64);
  for (int k = 0; k < 3; ++k) {
    auto loss = [&](Reduction r) {
      if (k == 0) return ops::mse_loss(e, e, r);
      if (k == 1) return ops::bpr_loss(e, e, r);
      return ops::huber_loss(e, e, 1.0, r);
    };
    EXPECT_EQ(loss(Reduction::none).shape(), (Shape{0, 3}));
    EXPECT_EQ(loss(Reduction::sum).item<double>(), 0.0);
    EXPECT_TRUE(std::isnan(loss(Reduction::mean).item<double>()));
  }
  const Tensor logits = Tensor::zeros({0, 4}, DType::f64);
  const Tensor targets = Tensor::zeros({0}, DType::i64);
  EXPECT_EQ(ops::cross_entropy(logits, targets, -100, Reduction::none).shape(), (Shape{0}));
  EXPECT_EQ(ops::cross_entropy(logits, targets, -100, Reduction::sum).item<double>(), 0.0);
  EXPECT_TRUE(std::isnan(ops::cross_entropy(logits, targets, -100, Reduction::mean).item<double>()));
}

TEST(Loss, BceWithLogitsMatchesReferenceWithWeightsAndSoftTargets) {
  Generator gen(2);
  const Shape shape{4, 5};
  const Tensor x = random_tensor(shape, gen, DType::f64, -6, 6);
  const Tensor hard =
      Tensor::from_vector<double>({1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0}, shape);
  const Tensor soft = random_tensor(shape, gen, DType::f64, 0, 1);
  const Tensor w = random_tensor(shape, gen, DType::f64, 0.2, 3);
  for (const Tensor& t : {hard, soft})
    for (Reduction r : kReductions) {
      const auto plain = ref_bce(x.to_doubles(), t.to_doubles(), {});
      const auto weighted = ref_bce(x.to_doubles(), t.to_doubles(), w.to_doubles());
      EXPECT_TRUE(all_close(ops::bce_with_logits(x, t, r), expected(plain, shape, r), 1e-11, 1e-13));
      // Weighted mean still divides by the element count (PyTorch).
      EXPECT_TRUE(all_close(ops::bce_with_logits(x, t, r, w), expected(weighted, shape, r), 1e-11, 1e-13));
      EXPECT_TRUE(all_close(ops::bce_with_logits(x.to(DType::f32), t.to(DType::f32), r, w.to(DType::f32)),
                            expected(weighted, shape, r), 2e-5, 1e-6));
    }
}

TEST(Loss, BceWithLogitsStaysFiniteForExtremeLogits) {
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor x = Tensor::from_vector<double>({1000, 1000, -1000, -1000, 80, -80}).to(dt);
    const Tensor t = Tensor::from_vector<double>({1, 0, 0, 1, 0.25, 0.5}).to(dt);
    // max(x,0) - x t + log1p(exp(-|x|)) by hand; 80 gives exp(-80) ~ 1.8e-35, below the last bit.
    EXPECT_TRUE(all_close(ops::bce_with_logits(x, t, Reduction::none),
                          Tensor::from_vector<double>({0, 1000, 0, 1000, 60, 40}), 1e-6, 1e-6));
    const Tensor g = ops::bce_with_logits_backward(x, t, Tensor::ones({6}, dt), Reduction::none);
    EXPECT_TRUE(all_close(g, Tensor::from_vector<double>({0, 1, 0, -1, 0.75, -0.5}), 1e-6, 1e-6));
  }
}

TEST(Loss, CrossEntropyMatchesReferenceWithIgnoredRows) {
  Generator gen(3);
  const int64_t n = 6, c = 5;
  const Tensor x = random_tensor({n, c}, gen, DType::f64, -4, 4);
  const std::vector<int64_t> t{3, -100, 0, 4, -100, 1};
  for (DType idt : {DType::i64, DType::i32}) {
    const Tensor targets = Tensor::from_vector(t).to(idt);
    const auto ref = ref_ce(x.to_doubles(), c, t, -100);
    for (Reduction r : kReductions) {
      EXPECT_TRUE(all_close(ops::cross_entropy(x, targets, -100, r), expected(ref, {n}, r, 4), 1e-12, 1e-13))
          << ops::reduction_name(r);
      EXPECT_TRUE(all_close(ops::cross_entropy(x.to(DType::f32), targets, -100, r), expected(ref, {n}, r, 4),
                            1e-5, 1e-6));
    }
  }
  // An ignore_index inside [0, C) ignores that class's rows.
  const std::vector<int64_t> t2{3, 2, 0, 4, 2, 1};
  const auto ref2 = ref_ce(x.to_doubles(), c, t2, 2);
  EXPECT_TRUE(all_close(ops::cross_entropy(x, Tensor::from_vector(t2), 2, Reduction::mean),
                        expected(ref2, {n}, Reduction::mean, 4), 1e-12, 1e-13));
  // No ignored rows: the mean is over all rows.
  const std::vector<int64_t> t3{0, 1, 2, 3, 4, 0};
  EXPECT_TRUE(all_close(ops::cross_entropy(x, Tensor::from_vector(t3)),
                        expected(ref_ce(x.to_doubles(), c, t3, -100), {n}, Reduction::mean), 1e-12, 1e-13));
}

TEST(Loss, CrossEntropyAllIgnoredIsNaNMeanZeroSumAndZeroGradient) {
  const Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor t = Tensor::from_vector<int64_t>({-1, -1});
  EXPECT_TRUE(std::isnan(ops::cross_entropy(x, t, -1, Reduction::mean).item<double>()));
  EXPECT_EQ(ops::cross_entropy(x, t, -1, Reduction::sum).item<double>(), 0.0);
  EXPECT_EQ(ops::cross_entropy(x, t, -1, Reduction::none).to_vector<double>(), (std::vector<double>{0, 0}));
  for (Reduction r : kReductions) {
    const Tensor dy = r == Reduction::none ? Tensor::ones({2}, DType::f64) : scalar_like(1.0, x);
    EXPECT_EQ(ops::cross_entropy_backward(x, t, dy, -1, r).to_vector<double>(), std::vector<double>(6, 0.0));
  }
}

TEST(Loss, CrossEntropyStaysFiniteForExtremeLogits) {
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor x =
        Tensor::from_vector<double>({1000, 0, -1000, -1000, -1000, -1000, 1000, 1000, -1000}, {3, 3}).to(dt);
    const Tensor t = Tensor::from_vector<int64_t>({2, 1, 0});
    EXPECT_TRUE(all_close(ops::cross_entropy(x, t, -100, Reduction::none),
                          Tensor::from_vector<double>({2000, std::log(3.0), std::log(2.0)}), 1e-6, 1e-6));
    const Tensor g = ops::cross_entropy_backward(x, t, Tensor::ones({3}, dt), -100, Reduction::none);
    EXPECT_TRUE(all_close(
        g, Tensor::from_vector<double>({1, 0, -1, 1.0 / 3, -2.0 / 3, 1.0 / 3, -0.5, 0.5, 0}, {3, 3}), 1e-6,
        1e-6));
  }
}

TEST(Loss, BprMatchesReferenceAndIsStable) {
  Generator gen(4);
  for (const Shape& shape : {Shape{1}, Shape{9}, Shape{3, 4}}) {
    const Tensor pos = random_tensor(shape, gen, DType::f64, -5, 5),
                 neg = random_tensor(shape, gen, DType::f64, -5, 5);
    const auto ref = ref_bpr(pos.to_doubles(), neg.to_doubles());
    for (Reduction r : kReductions) {
      EXPECT_TRUE(all_close(ops::bpr_loss(pos, neg, r), expected(ref, shape, r), 1e-11, 1e-13));
      EXPECT_TRUE(all_close(ops::bpr_loss(pos.to(DType::f32), neg.to(DType::f32), r), expected(ref, shape, r),
                            1e-5, 1e-6));
    }
  }
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor pos = Tensor::from_vector<double>({1000, -1000, 0}).to(dt);
    const Tensor neg = Tensor::from_vector<double>({0, 0, 0}).to(dt);
    EXPECT_TRUE(all_close(ops::bpr_loss(pos, neg, Reduction::none),
                          Tensor::from_vector<double>({0, 1000, std::log(2.0)}), 1e-6, 1e-6));
    const ops::BprGrads g = ops::bpr_loss_backward(pos, neg, Tensor::ones({3}, dt), Reduction::none);
    EXPECT_TRUE(all_close(g.dpos, Tensor::from_vector<double>({0, -1, -0.5}), 1e-6, 1e-7));
    EXPECT_TRUE(all_close(g.dneg, Tensor::from_vector<double>({0, 1, 0.5}), 1e-6, 1e-7));
  }
}

TEST(Loss, HuberMatchesReferenceOnBothSidesOfDelta) {
  const Tensor t = Tensor::zeros({8}, DType::f64);
  for (double delta : {0.5, 1.0, 2.5}) {
    std::vector<double> d;
    for (double k : {-3.0, -1.0, -0.6, 0.0, 0.4, 1.0, 1.7, 4.0}) d.push_back(k * delta);
    const Tensor p = Tensor::from_vector(d);
    const auto ref = ref_huber(d, t.to_doubles(), delta);
    for (Reduction r : kReductions)
      EXPECT_TRUE(all_close(ops::huber_loss(p, t, delta, r), expected(ref, {8}, r), 1e-13, 1e-15)) << delta;
    // Gradient: d inside the band, +-delta outside (the band's edge belongs to the quadratic).
    std::vector<double> g;
    for (double v : d) g.push_back(std::clamp(v, -delta, delta));
    EXPECT_TRUE(
        all_close(ops::huber_loss_backward(p, t, Tensor::ones({8}, DType::f64), delta, Reduction::none),
                  Tensor::from_vector(g), 1e-14, 0));
  }
  // Huber with delta 1 at |d| = 2 is 1.5; at 0.5 it is 0.125.
  EXPECT_DOUBLE_EQ(ops::huber_loss(Tensor::from_vector<double>({2.0, 0.5}), Tensor::zeros({2}, DType::f64),
                                   1.0, Reduction::sum)
                       .item<double>(),
                   1.625);
}

TEST(Loss, BackwardScalesByReduction) {
  Generator gen(5);
  const Tensor p = random_tensor({3, 4}, gen), t = random_tensor({3, 4}, gen);
  const Tensor none = ops::mse_loss_backward(p, t, Tensor::ones({3, 4}, DType::f64), Reduction::none);
  const std::vector<double> pv = p.to_doubles(), tv = t.to_doubles(), nv = none.to_doubles();
  for (size_t i = 0; i < pv.size(); ++i) EXPECT_NEAR(nv[i], 2 * (pv[i] - tv[i]), 1e-15);
  const Tensor sum = ops::mse_loss_backward(p, t, scalar_like(3.0, p), Reduction::sum);
  const Tensor mean = ops::mse_loss_backward(p, t, scalar_like(3.0, p), Reduction::mean);
  const std::vector<double> sv = sum.to_doubles(), mv = mean.to_doubles();
  for (size_t i = 0; i < pv.size(); ++i) {
    EXPECT_NEAR(sv[i], 3 * nv[i], 1e-14);
    EXPECT_NEAR(mv[i], 3 * nv[i] / 12, 1e-14);
  }
  // Cross-entropy mean divides by the non-ignored rows only.
  const Tensor x = random_tensor({4, 3}, gen);
  const Tensor tg = Tensor::from_vector<int64_t>({0, -100, 2, 1});
  const std::vector<double> gs =
      ops::cross_entropy_backward(x, tg, scalar_like(1.0, x), -100, Reduction::sum).to_doubles();
  const std::vector<double> gm =
      ops::cross_entropy_backward(x, tg, scalar_like(1.0, x), -100, Reduction::mean).to_doubles();
  for (size_t i = 0; i < gs.size(); ++i) EXPECT_NEAR(gm[i], gs[i] / 3, 1e-15);
  for (size_t i = 3; i < 6; ++i) EXPECT_EQ(gs[i], 0.0);
}

TEST(Loss, LargeInputsAreDeterministicAndMatchReference) {
  Generator gen(6);
  const int64_t n = 3001, c = 37;
  const Tensor x = random_tensor({n, c}, gen, DType::f32, -3, 3);
  const Tensor t = testing::random_ids({n}, c, gen);
  const Tensor a = ops::cross_entropy(x, t), b = ops::cross_entropy(x, t);
  EXPECT_EQ(a.item<float>(), b.item<float>());
  const auto ref = ref_ce(x.to_doubles(), c, t.to_vector<int64_t>(), -100);
  EXPECT_TRUE(all_close(a, expected(ref, {n}, Reduction::mean), 1e-5, 1e-6));
  const Tensor p = random_tensor({200003}, gen, DType::f32), q = random_tensor({200003}, gen, DType::f32);
  EXPECT_EQ(ops::mse_loss(p, q).item<float>(), ops::mse_loss(p, q).item<float>());
  EXPECT_TRUE(all_close(ops::mse_loss(p, q),
                        expected(ref_mse(p.to_doubles(), q.to_doubles()), {200003}, Reduction::mean), 1e-6,
                        0));
  const Tensor g1 = ops::cross_entropy_backward(x, t, Tensor::scalar(1.0f)),
               g2 = ops::cross_entropy_backward(x, t, Tensor::scalar(1.0f));
  EXPECT_EQ(g1.to_vector<float>(), g2.to_vector<float>());
}

// ---- gradients --------------------------------------------------------------------------------

const std::vector<Shape> kGradShapes{Shape{}, Shape{1}, Shape{5}, Shape{3, 4}, Shape{2, 1, 3}};

TEST(LossGrad, MseBothInputs) {
  Generator gen(10);
  for (const Shape& shape : kGradShapes)
    for (Reduction r : kReductions)
      EXPECT_TRUE(gradients_match([r](const std::vector<Var>& v) { return mse_loss(v[0], v[1], r); },
                                  {random_tensor(shape, gen), random_tensor(shape, gen)}))
          << shape_str(shape) << " " << ops::reduction_name(r);
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return mse_loss(v[0], v[1], Reduction::sum); },
                              {Tensor::zeros({0, 3}, DType::f64), Tensor::zeros({0, 3}, DType::f64)}));
}

TEST(LossGrad, BceLogitsWithHardSoftTargetsAndWeights) {
  Generator gen(11);
  for (const Shape& shape : kGradShapes) {
    const Tensor x = random_tensor(shape, gen, DType::f64, -4, 4);
    std::vector<double> h = random_tensor(shape, gen).to_doubles();
    for (double& v : h) v = v > 0 ? 1.0 : 0.0;
    const Tensor hard01 = Tensor::from_vector(h, shape);
    const Tensor soft = random_tensor(shape, gen, DType::f64, 0, 1);
    const Tensor w = random_tensor(shape, gen, DType::f64, 0.5, 2);
    for (Reduction r : kReductions)
      for (const Tensor& t : {hard01, soft}) {
        EXPECT_TRUE(
            gradients_match([&](const std::vector<Var>& v) { return bce_with_logits(v[0], t, r); }, {x}))
            << shape_str(shape) << " " << ops::reduction_name(r);
        EXPECT_TRUE(
            gradients_match([&](const std::vector<Var>& v) { return bce_with_logits(v[0], t, r, w); }, {x}));
      }
  }
}

TEST(LossGrad, CrossEntropyLogits) {
  Generator gen(12);
  struct Case {
    int64_t n, c;
    std::vector<int64_t> targets;
    int64_t ignore;
  };
  const std::vector<Case> cases{
      {1, 1, {0}, -100},  // one element
      {1, 5, {3}, -100},  // one row
      {4, 3, {2, 0, 1, 1}, -100},
      {6, 7, {6, -100, 0, 3, -100, 5}, -100},
      {5, 4, {1, 3, 3, 0, 2}, 3},       // ignore_index is a real class
      {3, 1200, {1199, 0, 600}, -100},  // wide rows
  };
  for (const Case& k : cases) {
    const Tensor x = random_tensor({k.n, k.c}, gen, DType::f64, -2, 2);
    for (DType idt : {DType::i64, DType::i32}) {
      const Tensor t = Tensor::from_vector(k.targets).to(idt);
      for (Reduction r : kReductions) {
        if (k.c > 100 && idt == DType::i32) continue;  // the wide case is slow to difference
        EXPECT_TRUE(gradients_match(
            [&](const std::vector<Var>& v) { return cross_entropy(v[0], t, k.ignore, r); }, {x}))
            << k.n << "x" << k.c << " " << ops::reduction_name(r);
      }
    }
  }
}

TEST(LossGrad, BprBothInputs) {
  Generator gen(13);
  for (const Shape& shape : kGradShapes)
    for (Reduction r : kReductions)
      EXPECT_TRUE(gradients_match(
          [r](const std::vector<Var>& v) { return bpr_loss(v[0], v[1], r); },
          {random_tensor(shape, gen, DType::f64, -3, 3), random_tensor(shape, gen, DType::f64, -3, 3)}))
          << shape_str(shape) << " " << ops::reduction_name(r);
}

TEST(LossGrad, HuberBothInputsOnBothSidesOfDelta) {
  Generator gen(14);
  for (double delta : {0.5, 1.0, 2.0}) {
    // Differences well away from +-delta, where the loss has no second derivative.
    std::vector<double> d;
    for (double k : {-3.0, -1.5, -0.7, -0.2, 0.0, 0.3, 0.9, 1.2, 2.5, 6.0}) d.push_back(k * delta);
    const Tensor target = random_tensor({2, 5}, gen);
    const Tensor pred = ops::add(target, Tensor::from_vector(d, {2, 5}));
    for (Reduction r : kReductions)
      EXPECT_TRUE(gradients_match(
          [delta, r](const std::vector<Var>& v) { return huber_loss(v[0], v[1], delta, r); }, {pred, target}))
          << delta << " " << ops::reduction_name(r);
  }
  for (const Shape& shape : kGradShapes)
    EXPECT_TRUE(gradients_match(
        [](const std::vector<Var>& v) { return huber_loss(v[0], v[1]); },
        {random_tensor(shape, gen, DType::f64, -0.9, 0.9), Tensor::zeros(shape, DType::f64)}));
}

TEST(LossGrad, OnlyRequestedInputsReceiveGradients) {
  const Var pred = Var::parameter(Tensor::from_vector<double>({1, 2}));
  const Var target(Tensor::from_vector<double>({0, 0}));
  mse_loss(pred, target, Reduction::sum).backward();
  EXPECT_EQ(pred.grad().to_vector<double>(), (std::vector<double>{2, 4}));
  EXPECT_FALSE(target.grad().defined());
  const Var neg = Var::parameter(Tensor::from_vector<double>({0, 0}));
  bpr_loss(Var(Tensor::from_vector<double>({0, 0})), neg, Reduction::sum).backward();
  EXPECT_EQ(neg.grad().to_vector<double>(), (std::vector<double>{0.5, 0.5}));
}

// ---- bad input --------------------------------------------------------------------------------

TEST(Loss, ShapeDtypeMismatchesNameBothTensors) {
  const Tensor a = Tensor::zeros({2, 3}, DType::f64), b = Tensor::zeros({3, 2}, DType::f64);
  for (const std::string& m :
       {testing::error_message([&] { ops::mse_loss(a, b); }), testing::error_message([&] { ops::bce_with_logits(a, b); }),
        testing::error_message([&] { ops::bpr_loss(a, b); }), testing::error_message([&] { ops::huber_loss(a, b); }),
        testing::error_message([&] { ops::mse_loss_backward(a, b, Tensor::scalar(1.0)); })}) {
    EXPECT_TRUE(contains(m, "[2, 3]") && contains(m, "[3, 2]")) << m;
    EXPECT_TRUE(contains(m, "loss") || contains(m, "bce_with_logits")) << m;
  }
  const std::string dt = testing::error_message([&] { ops::mse_loss(a, a.to(DType::f32)); });
  EXPECT_TRUE(contains(dt, "mse_loss") && contains(dt, "f32") && contains(dt, "f64")) << dt;
  const std::string w =
      testing::error_message([&] { ops::bce_with_logits(a, a, Reduction::mean, Tensor::ones({3}, DType::f64)); });
  EXPECT_TRUE(contains(w, "weights") && contains(w, "[3]") && contains(w, "[2, 3]")) << w;
  const std::string ints =
      testing::error_message([&] { ops::mse_loss(Tensor::zeros({2}, DType::i64), Tensor::zeros({2}, DType::i64)); });
  EXPECT_TRUE(contains(ints, "mse_loss") && contains(ints, "f32 or f64")) << ints;
  const std::string delta = testing::error_message([&] { ops::huber_loss(a, a, 0.0); });
  EXPECT_TRUE(contains(delta, "huber_loss") && contains(delta, "delta")) << delta;
  const std::string dy = testing::error_message([&] {
    ops::huber_loss_backward(a, a, Tensor::ones({2, 3}, DType::f64), 1.0, Reduction::mean);
  });
  EXPECT_TRUE(contains(dy, "dy") && contains(dy, "[2, 3]") && contains(dy, "mean")) << dy;
  const std::string dy2 =
      testing::error_message([&] { ops::bpr_loss_backward(a, a, Tensor::scalar(1.0), Reduction::none); });
  EXPECT_TRUE(contains(dy2, "bpr_loss_backward") && contains(dy2, "none")) << dy2;
}

TEST(Loss, CrossEntropyRejectsBadTargets) {
  const Tensor x = Tensor::zeros({4, 5}, DType::f64);
  for (int64_t bad : {5, -1, 1000}) {
    const std::string m = testing::error_message([&] {
      ops::cross_entropy(x, Tensor::from_vector<int64_t>({0, 4, bad, 1}));
    });
    EXPECT_TRUE(contains(m, "cross_entropy") && contains(m, "target " + std::to_string(bad)) &&
                contains(m, "row 2") && contains(m, "C = 5"))
        << m;
    const std::string mb = testing::error_message([&] {
      ops::cross_entropy_backward(x, Tensor::from_vector<int32_t>({0, 4, static_cast<int32_t>(bad), 1}),
                                  Tensor::scalar(1.0));
    });
    EXPECT_TRUE(contains(mb, "target " + std::to_string(bad)) && contains(mb, "row 2")) << mb;
  }
  const std::string fl = testing::error_message([&] { ops::cross_entropy(x, Tensor::zeros({4}, DType::f32)); });
  EXPECT_TRUE(contains(fl, "cross_entropy") && contains(fl, "targets") && contains(fl, "i32 or i64")) << fl;
  const std::string len = testing::error_message([&] { ops::cross_entropy(x, Tensor::zeros({3}, DType::i64)); });
  EXPECT_TRUE(contains(len, "[3] i64") && contains(len, "[4, 5] f64")) << len;
  const std::string dim =
      testing::error_message([&] { ops::cross_entropy(Tensor::zeros({5}, DType::f64), Tensor::zeros({5}, DType::i64)); });
  EXPECT_TRUE(contains(dim, "2-D") && contains(dim, "[5] f64")) << dim;
  const std::string ign = testing::error_message([&] {
    ops::cross_entropy(x, Tensor::from_vector<int64_t>({0, -100, 1, 2}), -1);
  });
  EXPECT_TRUE(contains(ign, "target -100") && contains(ign, "row 1")) << ign;
}

// ---- CUDA parity --------------------------------------------------------------------------------

TEST(LossCuda, PointLossesMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  for (const Shape& shape : {Shape{}, Shape{1}, Shape{33}, Shape{64, 129}}) {
    const Tensor a = random_tensor(shape, gen, DType::f32, -3, 3),
                 b = random_tensor(shape, gen, DType::f32, -3, 3);
    const Tensor soft = random_tensor(shape, gen, DType::f32, 0, 1),
                 w = random_tensor(shape, gen, DType::f32, 0.5, 2);
    for (Reduction r : kReductions) {
      EXPECT_TRUE(
          cuda_matches_cpu([r](const std::vector<Var>& v) { return mse_loss(v[0], v[1], r); }, {a, b}));
      EXPECT_TRUE(
          cuda_matches_cpu([r](const std::vector<Var>& v) { return bpr_loss(v[0], v[1], r); }, {a, b}));
      for (double delta : {0.5, 1.0})
        EXPECT_TRUE(cuda_matches_cpu(
            [r, delta](const std::vector<Var>& v) { return huber_loss(v[0], v[1], delta, r); }, {a, b}));
      EXPECT_TRUE(cuda_matches_cpu(
          [r](const std::vector<Var>& v) { return bce_with_logits(v[0], v[1].value(), r); }, {a, soft}));
      EXPECT_TRUE(cuda_matches_cpu(
          [r](const std::vector<Var>& v) { return bce_with_logits(v[0], v[1].value(), r, v[2].value()); },
          {a, soft, w}));
    }
  }
  const Tensor extreme = Tensor::from_vector<float>({1000, -1000, 1000, -1000});
  const Tensor zero_one = Tensor::from_vector<float>({1, 0, 0, 1});
  EXPECT_TRUE(cuda_matches_cpu(
      [](const std::vector<Var>& v) { return bce_with_logits(v[0], v[1].value(), Reduction::none); },
      {extreme, zero_one}));
  EXPECT_TRUE(cuda_matches_cpu(
      [](const std::vector<Var>& v) { return bpr_loss(v[0], v[1], Reduction::none); }, {extreme, zero_one}));
  const Tensor empty = Tensor::zeros({0, 4});
  for (Reduction r : kReductions)
    EXPECT_TRUE(
        cuda_matches_cpu([r](const std::vector<Var>& v) { return mse_loss(v[0], v[1], r); }, {empty, empty}));
}

TEST(LossCuda, CrossEntropyMatchesCpuOnWarpAndBlockRows) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  struct Case {
    int64_t n, c;
  };
  // Warp per row (C <= 1024) and block per row (wider), few and many rows.
  for (const Case k :
       {Case{1, 1}, Case{3, 7}, Case{2000, 33}, Case{5, 1024}, Case{4, 1025}, Case{300, 5000}}) {
    const Tensor x = random_tensor({k.n, k.c}, gen, DType::f32, -5, 5);
    std::vector<int64_t> t = testing::random_ids({k.n}, k.c, gen).to_vector<int64_t>();
    for (size_t i = 1; i < t.size(); i += 3) t[i] = -100;
    for (DType idt : {DType::i64, DType::i32})
      for (Reduction r : kReductions)
        EXPECT_TRUE(cuda_matches_cpu(
            [r](const std::vector<Var>& v) { return cross_entropy(v[0], v[1].value(), -100, r); },
            {x, Tensor::from_vector(t).to(idt)}))
            << k.n << "x" << k.c << " " << ops::reduction_name(r);
  }
  // Extreme logits and a fully ignored batch (NaN mean, zero gradient) behave as on the CPU.
  const Tensor ext = Tensor::from_vector<float>({1000, 0, -1000, -1000, -1000, -1000}, {2, 3});
  for (Reduction r : kReductions) {
    EXPECT_TRUE(cuda_matches_cpu(
        [r](const std::vector<Var>& v) { return cross_entropy(v[0], v[1].value(), -100, r); },
        {ext, Tensor::from_vector<int64_t>({2, 1})}));
    EXPECT_TRUE(
        cuda_matches_cpu([r](const std::vector<Var>& v) { return cross_entropy(v[0], v[1].value(), 7, r); },
                         {ext, Tensor::from_vector<int64_t>({7, 7})}));
  }
}

TEST(LossCuda, CrossEntropyReportsBadTargetsWithRow) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Tensor x = Tensor::zeros({4, 5}, DType::f32, testing::gpu());
  const Tensor t = Tensor::from_vector<int64_t>({0, 4, 9, 1}, testing::gpu());
  const std::string m = testing::error_message([&] { ops::cross_entropy(x, t); });
  EXPECT_TRUE(contains(m, "target 9") && contains(m, "row 2") && contains(m, "C = 5")) << m;
  const std::string mb = testing::error_message(
      [&] { ops::cross_entropy_backward(x, t, Tensor::full({}, 1.0, DType::f32, testing::gpu())); });
  EXPECT_TRUE(contains(mb, "target 9") && contains(mb, "row 2")) << mb;
  // The device error slot is cleared: a valid call afterwards succeeds.
  EXPECT_NO_THROW(ops::cross_entropy(x, Tensor::from_vector<int64_t>({0, 4, 3, 1}, testing::gpu())));
  const std::string dev = testing::error_message([&] {
    ops::cross_entropy(x, Tensor::from_vector<int64_t>({0, 4, 3, 1}));
  });
  EXPECT_TRUE(contains(dev, "different devices")) << dev;
  const std::string dev2 = testing::error_message([&] { ops::mse_loss(x, Tensor::zeros({4, 5})); });
  EXPECT_TRUE(contains(dev2, "mse_loss") && contains(dev2, "cuda:0") && contains(dev2, "cpu")) << dev2;
}

TEST(LossCuda, BackwardFunctionsMatchCpuDirectly) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  const Tensor a = random_tensor({17, 3}, gen, DType::f32, -3, 3),
               b = random_tensor({17, 3}, gen, DType::f32, -3, 3);
  const Tensor dy = random_tensor({17, 3}, gen, DType::f32);
  const ops::BprGrads c = ops::bpr_loss_backward(a, b, dy, Reduction::none);
  const ops::BprGrads g = ops::bpr_loss_backward(a.to(testing::gpu()), b.to(testing::gpu()),
                                                 dy.to(testing::gpu()), Reduction::none);
  EXPECT_TRUE(all_close(g.dpos, c.dpos, 1e-5, 1e-6));
  EXPECT_TRUE(all_close(g.dneg, c.dneg, 1e-5, 1e-6));
  const Tensor s = Tensor::scalar(0.7f);
  EXPECT_TRUE(all_close(ops::huber_loss_backward(a.to(testing::gpu()), b.to(testing::gpu()),
                                                 s.to(testing::gpu()), 0.8, Reduction::mean),
                        ops::huber_loss_backward(a, b, s, 0.8, Reduction::mean), 1e-5, 1e-7));
}

}  // namespace
}  // namespace aisle
