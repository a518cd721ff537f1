#include <cmath>

#include "aisle/aisle.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_tensor;

TEST(Reduce, SumMeanMaxAlongEachAxis) {
  const Tensor x = Tensor::from_vector<double>({1, 5, 3, 4, 2, 6}, {2, 3});
  EXPECT_EQ(ops::sum(x, 0).to_vector<double>(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(ops::sum(x, 1).to_vector<double>(), (std::vector<double>{9, 12}));
  EXPECT_EQ(ops::sum(x, -1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(ops::mean(x, 1).to_vector<double>(), (std::vector<double>{3, 4}));
  const ops::MaxResult m = ops::max(x, 1);
  EXPECT_EQ(m.values.to_vector<double>(), (std::vector<double>{5, 6}));
  EXPECT_EQ(m.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ops::argmax(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(ops::sum_all(x).item<double>(), 21);
  EXPECT_EQ(ops::mean_all(x).item<double>(), 3.5);
}

// Sums and means along every axis of 3-D tensors whose inner extents are not multiples of the
// kernel's 16-column blocks, against a double loop in row order: bit for bit.
TEST(Reduce, AxisSumsMatchARowOrderLoop) {
  Generator gen(31);
  for (const Shape& shape : {Shape{3, 37, 21}, Shape{2, 500, 64}, Shape{1, 1000, 3}, Shape{4, 9, 1}}) {
    const Tensor x = random_tensor(shape, gen, DType::f32, -3, 3);
    const std::vector<float> v = x.to_vector<float>();
    for (int64_t axis = 0; axis < 3; ++axis) {
      int64_t outer = 1, inner = 1;
      for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
      for (int64_t d = axis + 1; d < 3; ++d) inner *= shape[static_cast<size_t>(d)];
      const int64_t len = shape[static_cast<size_t>(axis)];
      std::vector<float> want_sum, want_mean;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t c = 0; c < inner; ++c) {
          double acc = 0;
          for (int64_t k = 0; k < len; ++k) acc += static_cast<double>(v[static_cast<size_t>((o * len + k) * inner + c)]);
          want_sum.push_back(static_cast<float>(acc));
          want_mean.push_back(static_cast<float>(acc / static_cast<double>(len)));
        }
      EXPECT_EQ(ops::sum(x, axis).to_vector<float>(), want_sum) << shape_str(shape) << " axis " << axis;
      EXPECT_EQ(ops::mean(x, axis).to_vector<float>(), want_mean) << shape_str(shape) << " axis " << axis;
    }
  }
}

TEST(Reduce, TiesNanAndEmptyAxes) {
  const Tensor ties = Tensor::from_vector<float>({2, 7, 7, 1}, {1, 4});
  EXPECT_EQ(ops::argmax(ties).item<int64_t>(), 1);  // first maximum
  const Tensor nan = Tensor::from_vector<float>({1, NAN, 9}, {1, 3});
  EXPECT_TRUE(std::isnan(ops::max(nan, 1).values.item<float>()));
  EXPECT_EQ(ops::argmax(nan).item<int64_t>(), 1);
  const Tensor empty = Tensor::zeros({3, 0});
  EXPECT_EQ(ops::sum(empty, 1).to_vector<float>(), std::vector<float>(3, 0.0f));
  for (float v : ops::mean(empty, 1).to_vector<float>()) EXPECT_TRUE(std::isnan(v));
  EXPECT_THROW(ops::max(empty, 1), Error);
  EXPECT_THROW(ops::sum(empty, 2), Error);
}

TEST(Reduce, LongRowsSumExactlyAndDeterministically) {
  // 1e6 ones in f32 would lose count with a naive f32 accumulator; f64 accumulation is exact.
  const Tensor ones = Tensor::ones({1000001});
  EXPECT_EQ(ops::sum_all(ones).item<float>(), 1000001.0f);
  Generator gen(1);
  const Tensor x = random_tensor({3, 300000}, gen, DType::f32);
  EXPECT_EQ(ops::sum(x, 1).to_vector<float>(), ops::sum(x, 1).to_vector<float>());
}

TEST(Reduce, SumToUndoesBroadcasting) {
  Generator gen(2);
  const Tensor g = random_tensor({2, 3, 4}, gen);
  const Tensor r = ops::sum_to(g, {3, 1});
  EXPECT_EQ(r.shape(), (Shape{3, 1}));
  const std::vector<double> gv = g.to_vector<double>(), rv = r.to_vector<double>();
  for (int j = 0; j < 3; ++j) {
    double s = 0;
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 4; ++k) s += gv[static_cast<size_t>((i * 3 + j) * 4 + k)];
    EXPECT_NEAR(rv[static_cast<size_t>(j)], s, 1e-12);
  }
  EXPECT_EQ(ops::sum_to(g, {}).shape(), Shape{});
  EXPECT_THROW(ops::sum_to(g, {2, 4}), Error);
}

TEST(Reduce, GradientsMatchFiniteDifferences) {
  Generator gen(3);
  for (const Shape& shape : {Shape{1, 1}, Shape{4, 5}, Shape{2, 3, 4}}) {
    const Tensor x = random_tensor(shape, gen);
    for (int64_t axis = -1; axis < static_cast<int64_t>(shape.size()); ++axis) {
      for (bool keep : {false, true}) {
        EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return sum(v[0], axis, keep); }, {x}));
        EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return mean(v[0], axis, keep); }, {x}));
        EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return max(v[0], axis, keep); }, {x}));
      }
    }
    EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return sum_all(v[0]); }, {x}));
    EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return mean_all(v[0]); }, {x}));
  }
}

TEST(ReduceCuda, AllLaunchShapesMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  // Shapes that exercise thread-, warp- and block-per-output kernels.
  for (const Shape& shape : {Shape{7, 5}, Shape{3000, 100}, Shape{2, 100000}, Shape{64, 40, 8}, Shape{3, 50, 40}}) {
    const Tensor x = random_tensor(shape, gen, DType::f32);
    for (int64_t axis = 0; axis < static_cast<int64_t>(shape.size()); ++axis) {
      EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return sum(v[0], axis); }, {x}, 1e-5, 1e-5))
          << shape_str(shape) << " axis " << axis;
      EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return mean(v[0], axis); }, {x}, 1e-5, 1e-6));
      EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return max(v[0], axis); }, {x}, 0, 0));
    }
  }
  const Tensor big = random_tensor({1 << 20}, gen, DType::f32);
  EXPECT_TRUE(all_close(ops::sum_all(big.to(testing::gpu())), ops::sum_all(big), 1e-6, 1e-4));
  const Tensor nan = Tensor::from_vector<float>({1, NAN, 9, 9}, {1, 4});
  EXPECT_EQ(ops::argmax(nan.to(testing::gpu())).item<int64_t>(), 1);
}

}  // namespace
}  // namespace aisle
