#include <cmath>
#include <string>

#include "aisle/aisle.hpp"
#include "aisle/autograd/layer_norm.hpp"
#include "aisle/ops/layer_norm.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_tensor;

Var ln_affine(const std::vector<Var>& v) { return layer_norm(v[0], v[1], v[2]); }
Var ln_plain(const std::vector<Var>& v) { return layer_norm(v[0], Var(), Var()); }
Var l2_fused(const std::vector<Var>& v) { return l2_normalize_rows(v[0]); }
// What NGCF and GraphSAGE computed before the fused op: five elementwise ops.
Var l2_composite(const std::vector<Var>& v) { return v[0] / sqrt(sum(square(v[0]), 1, /*keepdim=*/true) + 1e-12); }

TEST(LayerNorm, ValuesMatchNaiveReference) {
  Generator gen(1);
  const int64_t rows = 5, d = 7;
  const Tensor x = random_tensor({rows, d}, gen, DType::f64, -3, 3);
  const Tensor gamma = random_tensor({d}, gen, DType::f64, 0.5, 2);
  const Tensor beta = random_tensor({d}, gen);
  const double eps = 1e-3;
  const ops::LayerNormResult r = ops::layer_norm(x, gamma, beta, eps);
  ASSERT_EQ(r.y.shape(), x.shape());
  ASSERT_EQ(r.mean.shape(), (Shape{rows}));
  ASSERT_EQ(r.rstd.shape(), (Shape{rows}));
  const std::vector<double> xv = x.to_vector<double>(), g = gamma.to_vector<double>(), b = beta.to_vector<double>();
  std::vector<double> y(xv.size()), mean(rows), rstd(rows);
  for (int64_t i = 0; i < rows; ++i) {
    double s = 0, sq = 0;
    for (int64_t j = 0; j < d; ++j) s += xv[static_cast<size_t>(i * d + j)];
    mean[static_cast<size_t>(i)] = s / d;
    for (int64_t j = 0; j < d; ++j) sq += std::pow(xv[static_cast<size_t>(i * d + j)] - s / d, 2);
    rstd[static_cast<size_t>(i)] = 1 / std::sqrt(sq / d + eps);  // biased variance, like PyTorch
    for (int64_t j = 0; j < d; ++j) {
      const size_t k = static_cast<size_t>(i * d + j);
      y[k] = (xv[k] - mean[static_cast<size_t>(i)]) * rstd[static_cast<size_t>(i)] * g[static_cast<size_t>(j)] +
             b[static_cast<size_t>(j)];
    }
  }
  EXPECT_TRUE(all_close(r.y, Tensor::from_vector(y, x.shape()), 1e-13, 1e-13));
  EXPECT_TRUE(all_close(r.mean, Tensor::from_vector(mean), 1e-13, 1e-14));
  EXPECT_TRUE(all_close(r.rstd, Tensor::from_vector(rstd), 1e-13, 1e-14));
}

TEST(LayerNorm, RowsWithoutAffineHaveMeanZeroVarianceOne) {
  Generator gen(2);
  for (DType dtype : {DType::f64, DType::f32}) {
    const Tensor x = random_tensor({4, 3, 50}, gen, dtype, -10, 30);
    const std::vector<double> y = ops::layer_norm(x, Tensor(), Tensor(), 0.0).y.to_doubles();
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-5;
    for (int r = 0; r < 12; ++r) {
      double s = 0, sq = 0;
      for (int j = 0; j < 50; ++j) s += y[static_cast<size_t>(r * 50 + j)];
      for (int j = 0; j < 50; ++j) sq += std::pow(y[static_cast<size_t>(r * 50 + j)] - s / 50, 2);
      EXPECT_NEAR(s / 50, 0.0, tol) << r;
      EXPECT_NEAR(sq / 50, 1.0, 10 * tol) << r;
    }
  }
}

TEST(LayerNorm, GradientsMatchFiniteDifferences) {
  Generator gen(3);
  for (const Shape& shape : {Shape{1, 6}, Shape{4, 5}, Shape{2, 3, 4}, Shape{3, 2}}) {
    const int64_t d = shape.back();
    const Tensor x = random_tensor(shape, gen, DType::f64, -2, 2);
    const Tensor gamma = random_tensor({d}, gen, DType::f64, 0.5, 1.5);
    const Tensor beta = random_tensor({d}, gen);
    EXPECT_TRUE(gradients_match(ln_affine, {x, gamma, beta})) << shape_str(shape);
    EXPECT_TRUE(gradients_match(ln_plain, {x})) << shape_str(shape);
  }
  // Only x differentiable, affine parameters constant.
  testing::GradcheckOptions only_x;
  only_x.differentiable = {true, false, false};
  EXPECT_TRUE(gradients_match(ln_affine, {random_tensor({3, 4}, gen), random_tensor({4}, gen), random_tensor({4}, gen)},
                              only_x));
}

// D = 1: each row is its own mean, so it normalises to 0 and y = beta; x gets exactly 0 gradient.
TEST(LayerNorm, SingleFeatureRowsNormaliseToZero) {
  Generator gen(4);
  const Tensor x = random_tensor({5, 1}, gen);
  const Tensor gamma = random_tensor({1}, gen), beta = random_tensor({1}, gen);
  const ops::LayerNormResult r = ops::layer_norm(x, gamma, beta);
  for (double v : r.y.to_vector<double>()) EXPECT_EQ(v, beta.item<double>());
  EXPECT_EQ(r.mean.to_vector<double>(), x.reshape({5}).to_vector<double>());
  const ops::LayerNormGrads g = ops::layer_norm_backward(x, gamma, r.mean, r.rstd, Tensor::ones({5, 1}, DType::f64));
  for (double v : g.dx.to_vector<double>()) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(g.dgamma.to_vector<double>(), std::vector<double>{0.0});
  EXPECT_EQ(g.dbeta.to_vector<double>(), std::vector<double>{5.0});
  EXPECT_TRUE(gradients_match(ln_affine, {x, gamma, beta}));
}

TEST(LayerNorm, ParameterGradientsAreRowSums) {
  // Enough rows for several reduction chunks; compared with plain sums of dy * xhat and dy.
  Generator gen(5);
  const int64_t rows = 1000, d = 3;
  const Tensor x = random_tensor({rows, d}, gen, DType::f64, -2, 2);
  const Tensor dy = random_tensor({rows, d}, gen);
  const Tensor gamma = random_tensor({d}, gen), beta = random_tensor({d}, gen);
  const ops::LayerNormResult r = ops::layer_norm(x, gamma, beta);
  const ops::LayerNormGrads g = ops::layer_norm_backward(x, gamma, r.mean, r.rstd, dy);
  const std::vector<double> xv = x.to_vector<double>(), dv = dy.to_vector<double>();
  const std::vector<double> mv = r.mean.to_vector<double>(), rv = r.rstd.to_vector<double>();
  std::vector<double> dgamma(d, 0.0), dbeta(d, 0.0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < d; ++j) {
      const size_t k = static_cast<size_t>(i * d + j);
      dgamma[static_cast<size_t>(j)] += dv[k] * (xv[k] - mv[static_cast<size_t>(i)]) * rv[static_cast<size_t>(i)];
      dbeta[static_cast<size_t>(j)] += dv[k];
    }
  EXPECT_TRUE(all_close(g.dgamma, Tensor::from_vector(dgamma), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(g.dbeta, Tensor::from_vector(dbeta), 1e-12, 1e-12));
  const ops::LayerNormGrads plain = ops::layer_norm_backward(x, Tensor(), r.mean, r.rstd, dy);
  EXPECT_FALSE(plain.dgamma.defined());
  EXPECT_FALSE(plain.dbeta.defined());
}

TEST(LayerNorm, EmptyBatch) {
  const Tensor x = Tensor::zeros({0, 4}, DType::f64);
  const Tensor gamma = Tensor::ones({4}, DType::f64), beta = Tensor::zeros({4}, DType::f64);
  const ops::LayerNormResult r = ops::layer_norm(x, gamma, beta);
  EXPECT_EQ(r.y.shape(), (Shape{0, 4}));
  EXPECT_EQ(r.mean.shape(), (Shape{0}));
  const ops::LayerNormGrads g = ops::layer_norm_backward(x, gamma, r.mean, r.rstd, x);
  EXPECT_EQ(g.dx.shape(), (Shape{0, 4}));
  EXPECT_EQ(g.dgamma.to_vector<double>(), std::vector<double>(4, 0.0));
  EXPECT_EQ(g.dbeta.to_vector<double>(), std::vector<double>(4, 0.0));
}


TEST(LayerNorm, BadInputsNameTheOpAndShapes) {
  const Tensor x = Tensor::zeros({2, 3});
  const std::string m = testing::error_message([&] { ops::layer_norm(x, Tensor::ones({4}), Tensor::zeros({4})); });
  EXPECT_NE(m.find("layer_norm"), std::string::npos) << m;
  EXPECT_NE(m.find("gamma [4]"), std::string::npos) << m;
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  const std::string half = testing::error_message([&] { ops::layer_norm(x, Tensor::ones({3}), Tensor()); });
  EXPECT_NE(half.find("together"), std::string::npos) << half;
  EXPECT_THROW(ops::layer_norm(x, Tensor::ones({3}, DType::f64), Tensor::zeros({3}, DType::f64)), Error);
  EXPECT_THROW(ops::layer_norm(Tensor::zeros({2, 3}, DType::i64), Tensor(), Tensor()), Error);
  EXPECT_THROW(ops::layer_norm(Tensor::zeros({2, 0}), Tensor(), Tensor()), Error);
  EXPECT_THROW(ops::layer_norm(Tensor::zeros({}), Tensor(), Tensor()), Error);
  EXPECT_THROW(ops::layer_norm(x, Tensor(), Tensor(), -1.0), Error);
  const ops::LayerNormResult r = ops::layer_norm(x, Tensor(), Tensor());
  const std::string b = testing::error_message([&] { ops::layer_norm_backward(x, Tensor(), r.mean.reshape({1, 2}), r.rstd, x); });
  EXPECT_NE(b.find("layer_norm_backward: mean [1, 2]"), std::string::npos) << b;
  EXPECT_THROW(ops::layer_norm_backward(x, Tensor(), r.mean, r.rstd, Tensor::zeros({3, 2})), Error);
}

// The fused row L2 normalisation gives the composite's values bit for bit on the CPU (f32 and
// f64, a zero row included), unit rows, gradients that pass a finite-difference check and agree
// with the composite's to rounding, and its row norms.
TEST(L2NormalizeRows, MatchesTheCompositeAndItsGradients) {
  Generator gen(12);
  for (const DType dtype : {DType::f32, DType::f64}) {
    for (const Shape& shape : {Shape{1, 1}, Shape{37, 64}, Shape{5, 3}, Shape{300, 129}}) {
      Tensor x = random_tensor(shape, gen, dtype, -3, 3);
      if (shape[0] > 2) x.rows(2, 3).fill_(0.0);  // a zero row: eps keeps it finite (all zeros)
      const std::string what = shape_str(shape) + " " + dtype_name(dtype);
      const ops::L2NormalizeResult r = ops::l2_normalize_rows(x);
      const Tensor want = l2_composite({Var(x)}).value();
      EXPECT_EQ(r.y.to(DType::f64).to_vector<double>(), want.to(DType::f64).to_vector<double>()) << what;
      const std::vector<double> xs = x.to(DType::f64).to_vector<double>(), norms = r.norm.to(DType::f64).to_vector<double>();
      ASSERT_EQ(static_cast<int64_t>(norms.size()), shape[0]);
      for (int64_t i = 0; i < shape[0]; ++i) {
        double sq = 0;
        for (int64_t j = 0; j < shape[1]; ++j) sq += xs[static_cast<size_t>(i * shape[1] + j)] * xs[static_cast<size_t>(i * shape[1] + j)];
        EXPECT_NEAR(norms[static_cast<size_t>(i)], std::sqrt(sq + 1e-12), 1e-5 * std::sqrt(sq) + 1e-7) << what;
      }
      const std::vector<Tensor> fused = testing::value_and_grads(l2_fused, {x}, Device::cpu(), 5);
      const std::vector<Tensor> composite = testing::value_and_grads(l2_composite, {x}, Device::cpu(), 5);
      const double tol = dtype == DType::f32 ? 1e-5 : 1e-12;
      EXPECT_TRUE(all_close(fused[1], composite[1], tol, tol)) << what;
    }
  }
  // Away from zero rows, where the normalisation is smooth.
  EXPECT_TRUE(gradients_match(l2_fused, {random_tensor({6, 5}, gen, DType::f64, 0.5, 2)}));
  EXPECT_TRUE(gradients_match(l2_fused, {random_tensor({3, 1}, gen, DType::f64, 0.5, 2)}));
  EXPECT_TRUE(ops::l2_normalize_rows(Tensor::zeros({0, 4})).y.shape() == (Shape{0, 4}));
}

TEST(L2NormalizeRows, BadInputsNameTheOpAndShapes) {
  const std::string flat = testing::error_message([] { ops::l2_normalize_rows(Tensor::zeros({6})); });
  EXPECT_NE(flat.find("l2_normalize_rows: x must be [rows, d]"), std::string::npos) << flat;
  EXPECT_THROW(ops::l2_normalize_rows(Tensor::zeros({2, 0})), Error);
  EXPECT_THROW(ops::l2_normalize_rows(Tensor::zeros({2, 3}, DType::i64)), Error);
  EXPECT_THROW(ops::l2_normalize_rows(Tensor::zeros({2, 3}), -1.0), Error);
  const ops::L2NormalizeResult r = ops::l2_normalize_rows(Tensor::ones({2, 3}));
  const std::string b = testing::error_message([&] { ops::l2_normalize_rows_backward(r.y, r.norm.reshape({1, 2}), r.y); });
  EXPECT_NE(b.find("l2_normalize_rows_backward: norm [1, 2]"), std::string::npos) << b;
  EXPECT_THROW(ops::l2_normalize_rows_backward(r.y, r.norm, Tensor::zeros({3, 2})), Error);
}

TEST(L2NormalizeRowsCuda, ForwardAndBackwardMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  // Short rows take a warp each, long ones a block.
  for (const Shape& shape : {Shape{1, 1}, Shape{37, 64}, Shape{5, 1024}, Shape{6, 1025}, Shape{3000, 16}}) {
    const Tensor x = random_tensor(shape, gen, DType::f32, -3, 3);
    EXPECT_TRUE(cuda_matches_cpu(l2_fused, {x}, 1e-5, 1e-6)) << shape_str(shape);
    const ops::L2NormalizeResult cpu = ops::l2_normalize_rows(x);
    const ops::L2NormalizeResult gpu = ops::l2_normalize_rows(x.to(testing::gpu()));
    EXPECT_TRUE(all_close(gpu.norm, cpu.norm, 1e-5, 1e-6)) << shape_str(shape);
  }
}

TEST(LayerNormCuda, ForwardAndBackwardMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  // Short rows take a warp each, long ones a block; many rows give many dgamma/dbeta chunks.
  for (const Shape& shape : {Shape{1, 1}, Shape{1, 7}, Shape{37, 33}, Shape{5, 1024}, Shape{6, 1025},
                             Shape{3, 4000}, Shape{2, 3, 40}, Shape{3000, 16}}) {
    const int64_t d = shape.back();
    const Tensor x = random_tensor(shape, gen, DType::f32, -3, 5);
    const Tensor gamma = random_tensor({d}, gen, DType::f32, 0.5, 1.5);
    const Tensor beta = random_tensor({d}, gen, DType::f32);
    EXPECT_TRUE(cuda_matches_cpu(ln_affine, {x, gamma, beta}, 1e-5, 1e-5)) << shape_str(shape);
    EXPECT_TRUE(cuda_matches_cpu(ln_plain, {x}, 1e-5, 1e-5)) << shape_str(shape);
    // The saved statistics are outputs too.
    const ops::LayerNormResult cpu = ops::layer_norm(x, gamma, beta);
    const ops::LayerNormResult gpu = ops::layer_norm(x.to(testing::gpu()), gamma.to(testing::gpu()),
                                                     beta.to(testing::gpu()));
    EXPECT_TRUE(all_close(gpu.mean, cpu.mean, 1e-5, 1e-6)) << shape_str(shape);
    EXPECT_TRUE(all_close(gpu.rstd, cpu.rstd, 1e-5, 1e-6)) << shape_str(shape);
  }
  // Deterministic parameter gradients: two runs agree bit for bit.
  const Tensor x = random_tensor({5000, 24}, gen, DType::f32).to(testing::gpu());
  const Tensor dy = random_tensor({5000, 24}, gen, DType::f32).to(testing::gpu());
  const Tensor gamma = Tensor::ones({24}, DType::f32, testing::gpu());
  const ops::LayerNormResult r = ops::layer_norm(x, gamma, Tensor::zeros({24}, DType::f32, testing::gpu()));
  const ops::LayerNormGrads g1 = ops::layer_norm_backward(x, gamma, r.mean, r.rstd, dy);
  const ops::LayerNormGrads g2 = ops::layer_norm_backward(x, gamma, r.mean, r.rstd, dy);
  EXPECT_TRUE(all_close(g1.dgamma, g2.dgamma, 0, 0));
  EXPECT_TRUE(all_close(g1.dbeta, g2.dbeta, 0, 0));
  EXPECT_TRUE(all_close(g1.dx, g2.dx, 0, 0));
}

}  // namespace
}  // namespace aisle
