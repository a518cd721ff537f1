#include <cmath>
#include <limits>
#include <string>

#include "aisle/aisle.hpp"
#include "aisle/autograd/softmax.hpp"
#include "aisle/ops/softmax.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_tensor;

constexpr double kInf = std::numeric_limits<double>::infinity();

// softmax / log_softmax over the last axis, written out from the definition in long double.
Tensor naive_softmax(const Tensor& x, bool log) {
  const std::vector<double> v = x.to_doubles();
  const int64_t d = x.size(-1), rows = x.numel() / d;
  std::vector<double> out(v.size());
  for (int64_t r = 0; r < rows; ++r) {
    long double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < d; ++j) mx = std::max<long double>(mx, v[static_cast<size_t>(r * d + j)]);
    for (int64_t j = 0; j < d; ++j) sum += std::exp(v[static_cast<size_t>(r * d + j)] - mx);
    for (int64_t j = 0; j < d; ++j) {
      const long double z = v[static_cast<size_t>(r * d + j)] - mx;
      out[static_cast<size_t>(r * d + j)] = static_cast<double>(log ? z - std::log(sum) : std::exp(z) / sum);
    }
  }
  return Tensor::from_vector(out, x.shape()).to(x.dtype());
}

TEST(Softmax, ValuesMatchNaiveReference) {
  Generator gen(1);
  for (const Shape& shape : {Shape{1}, Shape{4, 1}, Shape{3, 7}, Shape{2, 3, 5}, Shape{2, 1500}}) {
    for (DType dtype : {DType::f64, DType::f32}) {
      const Tensor x = random_tensor(shape, gen, dtype, -5, 5);
      const double tol = dtype == DType::f64 ? 1e-14 : 1e-6;
      EXPECT_TRUE(all_close(ops::softmax(x), naive_softmax(x, false), tol, tol)) << shape_str(shape);
      EXPECT_TRUE(all_close(ops::log_softmax(x), naive_softmax(x, true), tol, tol)) << shape_str(shape);
    }
  }
  const std::vector<double> y = ops::softmax(Tensor::from_vector<double>({0, std::log(3.0)})).to_vector<double>();
  EXPECT_NEAR(y[0], 0.25, 1e-15);
  EXPECT_NEAR(y[1], 0.75, 1e-15);
}

TEST(Softmax, RowsSumToOneAndLargeLogitsStayFinite) {
  Generator gen(2);
  const Tensor x = random_tensor({6, 33}, gen, DType::f32, -20, 20);
  const std::vector<float> p = ops::softmax(x).to_vector<float>();
  for (int r = 0; r < 6; ++r) {
    double s = 0;
    for (int j = 0; j < 33; ++j) s += p[static_cast<size_t>(r * 33 + j)];
    EXPECT_NEAR(s, 1.0, 1e-5) << r;
  }
  // exp(1000) overflows; shifting by the row max must not.
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor big = Tensor::from_vector<double>({1000, -1000, 1000, 999, -1000, -1000}, {2, 3}).to(dtype);
    const std::vector<double> q = ops::softmax(big).to_doubles();
    EXPECT_NEAR(q[0], 0.5, 1e-6);
    EXPECT_EQ(q[1], 0.0);
    EXPECT_NEAR(q[2], 0.5, 1e-6);
    EXPECT_NEAR(q[3], 1.0, 1e-6);
    EXPECT_EQ(q[4], 0.0);
    const std::vector<double> l = ops::log_softmax(big).to_doubles();
    for (double v : l) EXPECT_TRUE(std::isfinite(v)) << v;
    EXPECT_NEAR(l[0], -std::log(2.0), 1e-6);
    EXPECT_NEAR(l[1], -2000 - std::log(2.0), 1e-3);
  }
}

// Masked attention: -inf entries get probability 0; a fully masked row is NaN, like PyTorch.
TEST(Softmax, MinusInfinityMasking) {
  const Tensor x = Tensor::from_vector<double>({1, -kInf, 1, -kInf,  //
                                                -kInf, -kInf, -kInf, -kInf,  //
                                                2, 0, -kInf, 0},
                                               {3, 4});
  const std::vector<double> p = ops::softmax(x).to_vector<double>();
  EXPECT_EQ(p[0], 0.5);
  EXPECT_EQ(p[1], 0.0);
  EXPECT_EQ(p[2], 0.5);
  EXPECT_EQ(p[3], 0.0);
  for (int j = 4; j < 8; ++j) EXPECT_TRUE(std::isnan(p[static_cast<size_t>(j)])) << j;
  EXPECT_EQ(p[10], 0.0);
  EXPECT_NEAR(p[8] + p[9] + p[11], 1.0, 1e-15);
  const std::vector<double> l = ops::log_softmax(x).to_vector<double>();
  EXPECT_EQ(l[0], -std::log(2.0));
  EXPECT_EQ(l[1], -kInf);
  for (int j = 4; j < 8; ++j) EXPECT_TRUE(std::isnan(l[static_cast<size_t>(j)])) << j;
  // Gradients through a partly masked row are finite; none flows to the masked softmax entries.
  Var v(x.rows(0, 1).clone(), true);
  Var y = softmax(v);
  y.backward(Tensor::from_vector<double>({1, 2, 3, 4}, {1, 4}));
  const std::vector<double> g = v.grad().to_vector<double>();
  EXPECT_NEAR(g[0], -0.5, 1e-15);  // 0.5 * (1 - (0.5 * 1 + 0.5 * 3))
  EXPECT_EQ(g[1], 0.0);
  EXPECT_NEAR(g[2], 0.5, 1e-15);
  EXPECT_EQ(g[3], 0.0);
}

TEST(Softmax, NaNInputPropagatesToItsRow) {
  const Tensor x = Tensor::from_vector<double>({1, std::nan(""), 2, 1, 2, 3}, {2, 3});
  const std::vector<double> p = ops::softmax(x).to_vector<double>();
  for (int j = 0; j < 3; ++j) EXPECT_TRUE(std::isnan(p[static_cast<size_t>(j)])) << j;
  for (int j = 3; j < 6; ++j) EXPECT_TRUE(std::isfinite(p[static_cast<size_t>(j)])) << j;
}

TEST(Softmax, GradientsMatchFiniteDifferences) {
  Generator gen(3);
  for (const Shape& shape : {Shape{1}, Shape{5, 1}, Shape{1, 6}, Shape{3, 4}, Shape{2, 3, 5}}) {
    const Tensor x = random_tensor(shape, gen, DType::f64, -3, 3);
    EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return softmax(v[0]); }, {x})) << shape_str(shape);
    EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return log_softmax(v[0]); }, {x})) << shape_str(shape);
  }
}

TEST(Softmax, BackwardMatchesHandDerivation) {
  // Straight from the formulas, independent of the kernels' row reductions.
  Generator gen(4);
  const Tensor x = random_tensor({3, 4}, gen);
  const Tensor dy = random_tensor({3, 4}, gen);
  const Tensor y = ops::softmax(x), ly = ops::log_softmax(x);
  const std::vector<double> yv = y.to_vector<double>(), lv = ly.to_vector<double>(), g = dy.to_vector<double>();
  std::vector<double> dx(12), ldx(12);
  for (int r = 0; r < 3; ++r) {
    double dot = 0, sum = 0;
    for (int j = 0; j < 4; ++j) {
      dot += g[static_cast<size_t>(r * 4 + j)] * yv[static_cast<size_t>(r * 4 + j)];
      sum += g[static_cast<size_t>(r * 4 + j)];
    }
    for (int j = 0; j < 4; ++j) {
      const size_t i = static_cast<size_t>(r * 4 + j);
      dx[i] = yv[i] * (g[i] - dot);
      ldx[i] = g[i] - std::exp(lv[i]) * sum;
    }
  }
  EXPECT_TRUE(all_close(ops::softmax_backward(y, dy), Tensor::from_vector(dx, {3, 4}), 1e-13, 1e-15));
  EXPECT_TRUE(all_close(ops::log_softmax_backward(ly, dy), Tensor::from_vector(ldx, {3, 4}), 1e-13, 1e-15));
}

TEST(Softmax, EmptyAndBadInputs) {
  EXPECT_EQ(ops::softmax(Tensor::zeros({0, 3})).shape(), (Shape{0, 3}));
  EXPECT_EQ(ops::log_softmax(Tensor::zeros({2, 0})).shape(), (Shape{2, 0}));
  EXPECT_THROW(ops::softmax(Tensor::zeros({3}, DType::i32)), Error);
  EXPECT_THROW(ops::softmax(Tensor::zeros({})), Error);
  try {
    ops::softmax_backward(Tensor::zeros({2, 3}), Tensor::zeros({3, 2}));
    FAIL() << "mismatched dy accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("softmax_backward"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[3, 2]"), std::string::npos) << m;
  }
  EXPECT_THROW(ops::log_softmax_backward(Tensor::zeros({2, 3}), Tensor::zeros({2, 3}, DType::f64)), Error);
}

TEST(SoftmaxCuda, ForwardAndBackwardMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  // Short rows take a warp each, long ones a block; both must write every element.
  for (const Shape& shape : {Shape{1, 1}, Shape{37, 5}, Shape{3, 31}, Shape{10, 1024}, Shape{9, 1025},
                             Shape{4, 5000}, Shape{2, 3, 70}, Shape{3000, 16}}) {
    const Tensor x = random_tensor(shape, gen, DType::f32, -8, 8);
    EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return softmax(v[0]); }, {x}, 1e-5, 1e-6))
        << shape_str(shape);
    EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return log_softmax(v[0]); }, {x}, 1e-5, 1e-5))
        << shape_str(shape);
  }
  // Masked rows, short and long: zeros where masked, NaN for the fully masked row, on both.
  for (int64_t d : {8, 2000}) {
    std::vector<float> v(static_cast<size_t>(3 * d), 1.5f);
    for (int64_t j = 0; j < d; j += 2) v[static_cast<size_t>(j)] = -INFINITY;
    for (int64_t j = d; j < 2 * d; ++j) v[static_cast<size_t>(j)] = -INFINITY;
    v[static_cast<size_t>(2 * d)] = 1000.0f;
    const Tensor x = Tensor::from_vector(v, {3, d});
    EXPECT_TRUE(all_close(ops::softmax(x.to(testing::gpu())), ops::softmax(x), 1e-5, 1e-6)) << d;
    EXPECT_TRUE(all_close(ops::log_softmax(x.to(testing::gpu())), ops::log_softmax(x), 1e-5, 1e-5)) << d;
  }
}

}  // namespace
}  // namespace aisle
