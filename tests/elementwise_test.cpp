#include <algorithm>
#include <cmath>

#include "aisle/aisle.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_tensor;

struct UnaryCase {
  const char* name;
  Var (*fn)(const Var&);
  double low, high;  // input range where the op is smooth / defined
};

Var leaky(const Var& x) { return leaky_relu(x, 0.2); }

const UnaryCase kUnary[] = {
    {"neg", neg, -2, 2},       {"exp", exp, -2, 2},         {"log", log, 0.2, 3},
    {"sqrt", sqrt, 0.2, 3},    {"abs", abs, -2, 2},         {"square", square, -2, 2},
    {"relu", relu, -2, 2},     {"leaky_relu", leaky, -2, 2}, {"sigmoid", sigmoid, -6, 6},
    {"tanh", tanh, -3, 3},     {"gelu", gelu, -3, 3},
};

TEST(Elementwise, UnaryForwardMatchesStdMath) {
  const std::vector<double> xs{-1.5, -0.25, 0.5, 2.0};
  const Tensor x = Tensor::from_vector(xs);
  auto check = [&](const Tensor& y, double (*ref)(double)) {
    const std::vector<double> v = y.to_vector<double>();
    for (size_t i = 0; i < xs.size(); ++i) EXPECT_NEAR(v[i], ref(xs[i]), 1e-15) << i;
  };
  check(ops::relu(x), [](double v) { return v > 0 ? v : 0.0; });
  check(ops::sigmoid(x), [](double v) { return 1 / (1 + std::exp(-v)); });
  check(ops::tanh(x), [](double v) { return std::tanh(v); });
  check(ops::gelu(x), [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); });
  check(ops::leaky_relu(x, 0.1), [](double v) { return v > 0 ? v : 0.1 * v; });
  check(ops::affine(x, 2, 1), [](double v) { return 2 * v + 1; });
  // Saturated sigmoid stays finite and exact at the ends.
  const std::vector<float> s = ops::sigmoid(Tensor::from_vector<float>({-200, 200})).to_vector<float>();
  EXPECT_EQ(s[0], 0.0f);
  EXPECT_EQ(s[1], 1.0f);
}

TEST(Elementwise, UnaryGradientsMatchFiniteDifferences) {
  Generator gen(1);
  for (const UnaryCase& c : kUnary) {
    for (const Shape& shape : {Shape{1}, Shape{3, 4}, Shape{2, 1, 5}}) {
      const Tensor x = random_tensor(shape, gen, DType::f64, c.low, c.high);
      EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return c.fn(v[0]); }, {x}))
          << c.name << " " << shape_str(shape);
    }
  }
}

TEST(Elementwise, BinaryBroadcastingGradients) {
  Generator gen(2);
  const std::vector<std::pair<Shape, Shape>> shapes{
      {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {3, 1}},
      {{5}, {}},        {{1}, {2, 3}}, {{4, 1, 3}, {1, 2, 1}}};
  for (const auto& [sa, sb] : shapes) {
    const Tensor a = random_tensor(sa, gen);
    const Tensor b = random_tensor(sb, gen, DType::f64, 0.5, 2.0);  // away from 0 for div
    EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return v[0] + v[1]; }, {a, b})) << "add";
    EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return v[0] - v[1]; }, {a, b})) << "sub";
    EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return v[0] * v[1]; }, {a, b})) << "mul";
    EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return v[0] / v[1]; }, {a, b}))
        << "div " << shape_str(sa) << " " << shape_str(sb);
  }
}

TEST(Elementwise, BroadcastForwardValues) {
  const Tensor a = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor row = Tensor::from_vector<double>({10, 20, 30}, {3});
  const Tensor col = Tensor::from_vector<double>({100, 200}, {2, 1});
  EXPECT_EQ(ops::add(a, row).to_vector<double>(), (std::vector<double>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(ops::add(a, col).to_vector<double>(), (std::vector<double>{101, 102, 103, 204, 205, 206}));
  EXPECT_EQ(ops::mul(col, row).shape(), (Shape{2, 3}));
  EXPECT_EQ(ops::mul(col, row).to_vector<double>(), (std::vector<double>{1000, 2000, 3000, 2000, 4000, 6000}));
  EXPECT_EQ(ops::broadcast_to(row, {2, 3}).to_vector<double>(), (std::vector<double>{10, 20, 30, 10, 20, 30}));
  EXPECT_EQ(ops::sub(Tensor::scalar<double>(1), a).shape(), (Shape{2, 3}));
}

// Every broadcasting pattern against a loop over the full index (coordinates -> both inputs),
// bit for bit: the kernels walk runs of the innermost axis with strides 1/0 (row bias, per-row
// scale, outer products, scalars, middle axes) and must land on the same elements.
TEST(Elementwise, BroadcastRunsMatchAnIndexLoop) {
  struct Case {
    Shape a, b;
  };
  const Case cases[] = {{{37, 21}, {21}},       {{37, 21}, {37, 1}},    {{37, 1}, {1, 21}},   {{1, 21}, {37, 21}},
                        {{4, 3, 5}, {4, 1, 5}}, {{4, 1, 5}, {1, 3, 1}}, {{2, 3, 4, 5}, {3, 1, 5}}, {{5}, {}},
                        {{}, {6, 7}},           {{1, 1}, {1, 1}},       {{3, 1, 1}, {1, 1, 70}}};
  Generator gen(90);
  for (const Case& c : cases) {
    const Tensor a = random_tensor(c.a, gen, DType::f32, -2, 2);
    const Tensor b = random_tensor(c.b, gen, DType::f32, 0.5, 2);
    Shape out(std::max(c.a.size(), c.b.size()), 1);  // NumPy's rule, aligned at the last axis
    for (const Shape* s : {&c.a, &c.b})
      for (size_t d = 0; d < s->size(); ++d)
        out[out.size() - s->size() + d] = std::max(out[out.size() - s->size() + d], (*s)[d]);
    const std::vector<float> va = a.to_vector<float>(), vb = b.to_vector<float>();
    auto at = [&](const std::vector<float>& v, const Shape& s, const std::vector<int64_t>& coord) {
      int64_t off = 0;
      for (size_t d = 0; d < s.size(); ++d) {
        const int64_t x = coord[coord.size() - s.size() + d];
        off = off * s[d] + (s[d] == 1 ? 0 : x);
      }
      return v[static_cast<size_t>(off)];
    };
    int64_t numel = 1;
    for (const int64_t d : out) numel *= d;
    std::vector<float> want_add, want_div, want_to;
    for (int64_t i = 0; i < numel; ++i) {
      std::vector<int64_t> coord(out.size());
      for (int64_t d = static_cast<int64_t>(out.size()) - 1, r = i; d >= 0; --d) {
        coord[static_cast<size_t>(d)] = r % out[static_cast<size_t>(d)];
        r /= out[static_cast<size_t>(d)];
      }
      want_add.push_back(at(va, c.a, coord) + at(vb, c.b, coord));
      want_div.push_back(at(va, c.a, coord) / at(vb, c.b, coord));
      want_to.push_back(at(va, c.a, coord));
    }
    const std::string what = shape_str(c.a) + " with " + shape_str(c.b);
    EXPECT_EQ(ops::add(a, b).shape(), out) << what;
    EXPECT_EQ(ops::add(a, b).to_vector<float>(), want_add) << what;
    EXPECT_EQ(ops::div(a, b).to_vector<float>(), want_div) << what;
    EXPECT_EQ(ops::broadcast_to(a, out).to_vector<float>(), want_to) << what;
  }
}

TEST(Elementwise, ScalarOperatorsAndComposition) {
  Generator gen(3);
  const Tensor x = random_tensor({4, 3}, gen, DType::f64, 0.5, 2);
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return (v[0] * 3.0 + 1.0) / 2.0 - 0.5; }, {x}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return 2.0 / v[0] + (1.0 - v[0]); }, {x}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return -v[0] * v[0]; }, {x}));
}

TEST(Elementwise, MaskedFillForwardAndGradient) {
  Generator gen(4);
  const Tensor x = random_tensor({2, 3, 4}, gen);
  const Tensor mask = Tensor::from_vector<uint8_t>({1, 0, 0, 1}, {4});  // broadcast over rows
  const std::vector<double> y = ops::masked_fill(x, mask, -1e9).to_vector<double>();
  const std::vector<double> xv = x.to_vector<double>();
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], (i % 4 == 0 || i % 4 == 3) ? -1e9 : xv[i]);
  EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return masked_fill(v[0], mask, 0.5); }, {x}));
  EXPECT_THROW(ops::masked_fill(x, Tensor::zeros({4}, DType::f32), 0), Error);
  EXPECT_THROW(ops::masked_fill(x, Tensor::zeros({5}, DType::u8), 0), Error);
}

TEST(Elementwise, BroadcastToGradientSumsBack) {
  Generator gen(5);
  const Tensor x = random_tensor({3, 1}, gen);
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return broadcast_to(v[0], {2, 3, 4}); }, {x}));
  EXPECT_THROW(ops::broadcast_to(x, {2, 4}), Error);
}

TEST(Elementwise, DropoutScalesKeptUnitsAndIsIdentityInEval) {
  Generator gen(6);
  const Tensor x = random_tensor({50, 40}, gen);
  Generator g1(77);
  const Var y = dropout(Var(x), 0.25, g1, true);
  const std::vector<double> yv = y.value().to_vector<double>(), xv = x.to_vector<double>();
  int dropped = 0;
  for (size_t i = 0; i < yv.size(); ++i) {
    if (yv[i] == 0) ++dropped;
    else EXPECT_NEAR(yv[i], xv[i] / 0.75, 1e-12);
  }
  EXPECT_NEAR(dropped / 2000.0, 0.25, 0.04);
  Generator g2(77);
  EXPECT_TRUE(all_close(dropout(Var(x), 0.25, g2, false).value(), x, 0, 0));
  EXPECT_TRUE(gradients_match(
      [](const std::vector<Var>& v) {
        Generator g(5);  // same mask on every evaluation
        return dropout(v[0], 0.5, g);
      },
      {random_tensor({6, 5}, gen)}));
}

TEST(Elementwise, EmptyTensorsAndMismatchesAreHandled) {
  const Tensor e = Tensor::zeros({0, 3});
  EXPECT_EQ(ops::relu(e).shape(), (Shape{0, 3}));
  EXPECT_EQ(ops::add(e, Tensor::zeros({3})).shape(), (Shape{0, 3}));
  try {
    ops::add(Tensor::zeros({2, 3}), Tensor::zeros({4, 3}));
    FAIL();
  } catch (const Error& err) {
    const std::string m = err.what();
    EXPECT_NE(m.find("add"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4, 3]"), std::string::npos) << m;
  }
  EXPECT_THROW(ops::mul(Tensor::zeros({2}), Tensor::zeros({2}, DType::f64)), Error);
  EXPECT_THROW(ops::relu(Tensor::zeros({2}, DType::i64)), Error);
}

TEST(ElementwiseCuda, ForwardAndBackwardMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  for (const UnaryCase& c : kUnary) {
    const Tensor x = random_tensor({33, 17}, gen, DType::f32, c.low, c.high);
    EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return c.fn(v[0]); }, {x})) << c.name;
  }
  const Tensor a = random_tensor({4, 33, 5}, gen, DType::f32), b = random_tensor({33, 1}, gen, DType::f32, 0.5, 2);
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return v[0] + v[1]; }, {a, b}));
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return v[0] - v[1]; }, {a, b}));
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return v[0] * v[1]; }, {a, b}));
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return v[0] / v[1]; }, {a, b}));
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return affine(v[0], 0.5, 2.0); }, {a}));
  const Tensor mask = testing::random_ids({33, 5}, 2, gen).to(DType::u8);
  EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return masked_fill(v[0], mask.to(v[0].device()), -3); }, {a}));
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return broadcast_to(v[0], {3, 33, 1}); }, {b}));
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) {
    Generator g(9);
    return dropout(v[0], 0.3, g);
  }, {a}));
}

}  // namespace
}  // namespace aisle
