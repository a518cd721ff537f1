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
