#include <string>

#include "aisle/aisle.hpp"
#include "aisle/autograd/matmul.hpp"
#include "aisle/ops/matmul.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_tensor;

const bool kFlags[] = {false, true};

// Stored shape of an operand: [rows, cols], swapped when it is read transposed.
Shape stored(int64_t rows, int64_t cols, bool trans) { return trans ? Shape{cols, rows} : Shape{rows, cols}; }
Shape stored(int64_t batch, int64_t rows, int64_t cols, bool trans) {
  return trans ? Shape{batch, cols, rows} : Shape{batch, rows, cols};
}

// op(A)·op(B) by the textbook triple loop in double, one matrix per batch entry.
Tensor naive_product(const Tensor& a, const Tensor& b, int64_t batch, int64_t m, int64_t n, int64_t k,
                     bool ta, bool tb) {
  const std::vector<double> av = a.to_doubles(), bv = b.to_doubles();
  std::vector<double> c(static_cast<size_t>(batch * m * n), 0.0);
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t l = 0; l < k; ++l) {
          const double x = av[static_cast<size_t>(p * m * k + (ta ? l * m + i : i * k + l))];
          const double y = bv[static_cast<size_t>(p * k * n + (tb ? j * k + l : l * n + j))];
          acc += x * y;
        }
        c[static_cast<size_t>((p * m + i) * n + j)] = acc;
      }
  return Tensor::from_vector(c, batch == 1 ? Shape{m, n} : Shape{batch, m, n});
}

struct Dims {
  int64_t m, n, k;
};
// Thin shapes, and shapes that cross the CPU kernel's 64 x 256 tiles unevenly.
const Dims kDims[] = {{3, 5, 4}, {1, 7, 3}, {6, 1, 5}, {4, 3, 1}, {1, 1, 1}, {70, 300, 9}, {129, 2, 33}};

TEST(Matmul, ForwardMatchesNaiveLoopsForAllFlags) {
  Generator gen(1);
  for (const Dims& s : kDims)
    for (bool ta : kFlags)
      for (bool tb : kFlags)
        for (DType dtype : {DType::f64, DType::f32}) {
          const Tensor a = random_tensor(stored(s.m, s.k, ta), gen, dtype);
          const Tensor b = random_tensor(stored(s.k, s.n, tb), gen, dtype);
          const Tensor c = ops::matmul(a, b, ta, tb);
          ASSERT_EQ(c.shape(), (Shape{s.m, s.n}));
          EXPECT_EQ(c.dtype(), dtype);
          const double tol = dtype == DType::f64 ? 1e-13 : 1e-5;
          EXPECT_TRUE(all_close(c, naive_product(a, b, 1, s.m, s.n, s.k, ta, tb), tol, tol))
              << "m=" << s.m << " n=" << s.n << " k=" << s.k << " ta=" << ta << " tb=" << tb;
        }
}

TEST(Matmul, HandComputedProduct) {
  const Tensor a = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = Tensor::from_vector<double>({7, 8, 9, 10, 11, 12}, {3, 2});
  EXPECT_EQ(ops::matmul(a, b).to_vector<double>(), (std::vector<double>{58, 64, 139, 154}));
  // A^T·A for A = [[1, 2, 3], [4, 5, 6]].
  EXPECT_EQ(ops::matmul(a, a, true, false).to_vector<double>(),
            (std::vector<double>{17, 22, 27, 22, 29, 36, 27, 36, 45}));
  // A·A^T.
  EXPECT_EQ(ops::matmul(a, a, false, true).to_vector<double>(), (std::vector<double>{14, 32, 32, 77}));
}

TEST(Matmul, LeadingAxesFlattenIntoRows) {
  Generator gen(2);
  const Tensor a = random_tensor({2, 3, 4}, gen);
  const Tensor b = random_tensor({4, 5}, gen);
  const Tensor c = ops::matmul(a, b);
  ASSERT_EQ(c.shape(), (Shape{2, 3, 5}));
  EXPECT_TRUE(all_close(c.reshape({6, 5}), naive_product(a, b, 1, 6, 5, 4, false, false), 1e-13, 1e-13));
  const Tensor bt = random_tensor({5, 4}, gen);
  EXPECT_TRUE(all_close(ops::matmul(a, bt, false, true).reshape({6, 5}),
                        naive_product(a, bt, 1, 6, 5, 4, false, true), 1e-13, 1e-13));
  // A vector is one row: [k]·[k, n] -> [n].
  const Tensor v = random_tensor({4}, gen);
  const Tensor vb = ops::matmul(v, b);
  ASSERT_EQ(vb.shape(), (Shape{5}));
  EXPECT_TRUE(all_close(vb.reshape({1, 5}), naive_product(v, b, 1, 1, 5, 4, false, false), 1e-13, 1e-13));
}

TEST(Matmul, EmptyDimensions) {
  // k = 0: an empty sum, so exact zeros (outputs start as NaN poison in tests).
  for (bool ta : kFlags)
    for (bool tb : kFlags) {
      const Tensor c = ops::matmul(Tensor::zeros(stored(3, 0, ta)), Tensor::zeros(stored(0, 4, tb)), ta, tb);
      ASSERT_EQ(c.shape(), (Shape{3, 4}));
      EXPECT_EQ(c.to_vector<float>(), std::vector<float>(12, 0.0f));
    }
  EXPECT_EQ(ops::matmul(Tensor::zeros({0, 3}), Tensor::zeros({3, 4})).shape(), (Shape{0, 4}));
  EXPECT_EQ(ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({3, 0})).shape(), (Shape{2, 0}));
  EXPECT_EQ(ops::matmul(Tensor::zeros({2, 0, 3}), Tensor::zeros({3, 4})).shape(), (Shape{2, 0, 4}));
  EXPECT_EQ(ops::bmm(Tensor::zeros({0, 2, 3}), Tensor::zeros({0, 3, 4})).shape(), (Shape{0, 2, 4}));
  EXPECT_EQ(ops::bmm(Tensor::zeros({2, 2, 0}, DType::f64), Tensor::zeros({2, 0, 3}, DType::f64)).to_vector<double>(),
            std::vector<double>(12, 0.0));
}

TEST(Matmul, GradientsForAllFlagCombinations) {
  Generator gen(3);
  for (const Dims& s : {Dims{3, 5, 4}, Dims{1, 4, 3}, Dims{4, 1, 3}, Dims{3, 4, 1}, Dims{1, 1, 1}})
    for (bool ta : kFlags)
      for (bool tb : kFlags) {
        const Tensor a = random_tensor(stored(s.m, s.k, ta), gen);
        const Tensor b = random_tensor(stored(s.k, s.n, tb), gen);
        EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return matmul(v[0], v[1], ta, tb); }, {a, b}))
            << "m=" << s.m << " n=" << s.n << " k=" << s.k << " ta=" << ta << " tb=" << tb;
      }
}

TEST(Matmul, GradientsWithLeadingAxesAndSharedOperands) {
  Generator gen(4);
  const Tensor a = random_tensor({2, 3, 4}, gen);
  for (bool tb : kFlags) {
    const Tensor b = random_tensor(stored(4, 5, tb), gen);
    EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return matmul(v[0], v[1], false, tb); }, {a, b}))
        << "tb=" << tb;
  }
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return matmul(v[0], v[1]); },
                              {random_tensor({4}, gen), random_tensor({4, 3}, gen)}));
  // The same Var on both sides: A^T·A gathers both gradient contributions.
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return matmul(v[0], v[0], true, false); },
                              {random_tensor({3, 4}, gen)}));
}

TEST(Matmul, GradientsWithEmptyDimensions) {
  for (const auto& [sa, sb] : std::vector<std::pair<Shape, Shape>>{{{3, 0}, {0, 4}}, {{0, 3}, {3, 4}}, {{2, 3}, {3, 0}}}) {
    const Tensor a = Tensor::zeros(sa, DType::f64), b = Tensor::ones(sb, DType::f64);
    Var va(a, true), vb(b, true);
    Var c = matmul(va, vb);
    c.backward(Tensor::ones(c.shape(), DType::f64));
    ASSERT_EQ(va.grad().shape(), sa);
    ASSERT_EQ(vb.grad().shape(), sb);
    // Sums over an empty axis (e.g. dB = A^T·dC with m = 0) are zeros, not poison.
    for (double g : va.grad().to_vector<double>()) EXPECT_EQ(g, 0.0);
    for (double g : vb.grad().to_vector<double>()) EXPECT_EQ(g, 0.0);
    EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return matmul(v[0], v[1]); }, {a, b}))
        << shape_str(sa) << " " << shape_str(sb);
  }
}

TEST(Bmm, ForwardMatchesNaiveLoopsForAllFlags) {
  Generator gen(5);
  for (int64_t batch : {1, 3, 40})
    for (bool ta : kFlags)
      for (bool tb : kFlags) {
        const int64_t m = 5, n = 70, k = 6;
        const Tensor a = random_tensor(stored(batch, m, k, ta), gen);
        const Tensor b = random_tensor(stored(batch, k, n, tb), gen);
        const Tensor c = ops::bmm(a, b, ta, tb);
        ASSERT_EQ(c.shape(), (Shape{batch, m, n}));
        EXPECT_TRUE(all_close(c.reshape({batch, m, n}),
                              naive_product(a, b, batch, m, n, k, ta, tb).reshape({batch, m, n}), 1e-13, 1e-13))
            << "batch=" << batch << " ta=" << ta << " tb=" << tb;
      }
}

TEST(Bmm, GradientsForAllFlagCombinations) {
  Generator gen(6);
  for (const Dims& s : {Dims{3, 4, 2}, Dims{1, 3, 1}, Dims{2, 1, 3}})
    for (bool ta : kFlags)
      for (bool tb : kFlags) {
        const Tensor a = random_tensor(stored(2, s.m, s.k, ta), gen);
        const Tensor b = random_tensor(stored(2, s.k, s.n, tb), gen);
        EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return bmm(v[0], v[1], ta, tb); }, {a, b}))
            << "m=" << s.m << " n=" << s.n << " k=" << s.k << " ta=" << ta << " tb=" << tb;
      }
}


TEST(Matmul, BadInputsNameTheOpAndShapes) {
  const std::string m = testing::error_message([] { ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5})); });
  EXPECT_NE(m.find("matmul"), std::string::npos) << m;
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4, 5]"), std::string::npos) << m;
  const std::string t = testing::error_message([] { ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}), true, true); });
  EXPECT_NE(t.find("trans_a = true"), std::string::npos) << t;
  const std::string b = testing::error_message([] { ops::bmm(Tensor::zeros({2, 2, 3}), Tensor::zeros({3, 3, 4})); });
  EXPECT_NE(b.find("bmm"), std::string::npos) << b;
  EXPECT_NE(b.find("[2, 2, 3]"), std::string::npos) << b;
  EXPECT_NE(b.find("[3, 3, 4]"), std::string::npos) << b;
  const std::string bk = testing::error_message([] { ops::bmm(Tensor::zeros({2, 2, 3}), Tensor::zeros({2, 4, 4})); });
  EXPECT_NE(bk.find("inner dimensions"), std::string::npos) << bk;
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({3, 4}, DType::f64)), Error);
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3}, DType::i64), Tensor::zeros({3, 4}, DType::i64)), Error);
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({3})), Error);         // b must be 2-D
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({2, 3, 4})), Error);
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4}), true), Error);  // trans_a needs 2-D
  EXPECT_THROW(ops::matmul(Tensor::zeros({}), Tensor::zeros({1, 4})), Error);
  EXPECT_THROW(ops::matmul(Tensor(), Tensor::zeros({1, 4})), Error);
  EXPECT_THROW(ops::bmm(Tensor::zeros({2, 3}), Tensor::zeros({3, 4})), Error);
}

TEST(MatmulCuda, ForwardAndBackwardMatchCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  for (const Dims& s : {Dims{33, 17, 24}, Dims{1, 40, 8}, Dims{40, 1, 8}, Dims{7, 9, 1}, Dims{130, 300, 20}})
    for (bool ta : kFlags)
      for (bool tb : kFlags) {
        const Tensor a = random_tensor(stored(s.m, s.k, ta), gen, DType::f32);
        const Tensor b = random_tensor(stored(s.k, s.n, tb), gen, DType::f32);
        EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return matmul(v[0], v[1], ta, tb); },
                                     {a, b}, 1e-5, 1e-5))
            << "m=" << s.m << " n=" << s.n << " k=" << s.k << " ta=" << ta << " tb=" << tb;
        const Tensor ba = random_tensor(stored(5, s.m, s.k, ta), gen, DType::f32);
        const Tensor bb = random_tensor(stored(5, s.k, s.n, tb), gen, DType::f32);
        EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return bmm(v[0], v[1], ta, tb); },
                                     {ba, bb}, 1e-5, 1e-5))
            << "bmm m=" << s.m << " n=" << s.n << " k=" << s.k << " ta=" << ta << " tb=" << tb;
      }
  const Tensor a3 = random_tensor({3, 5, 16}, gen, DType::f32), b3 = random_tensor({16, 6}, gen, DType::f32);
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return matmul(v[0], v[1]); }, {a3, b3}, 1e-5, 1e-5));
  // Empty inner dimension on the GPU: zeros, written without cuBLAS.
  const Tensor z = ops::matmul(Tensor::zeros({3, 0}, DType::f32, testing::gpu()),
                               Tensor::zeros({0, 4}, DType::f32, testing::gpu()));
  EXPECT_EQ(z.to(Device::cpu()).to_vector<float>(), std::vector<float>(12, 0.0f));
  EXPECT_EQ(ops::bmm(Tensor::zeros({0, 2, 3}, DType::f32, testing::gpu()),
                     Tensor::zeros({0, 3, 4}, DType::f32, testing::gpu())).shape(), (Shape{0, 2, 4}));
  // Device mismatch names both tensors.
  const std::string m = testing::error_message([&] { ops::matmul(Tensor::zeros({2, 3}, DType::f32, testing::gpu()), Tensor::zeros({3, 4})); });
  EXPECT_NE(m.find("different devices"), std::string::npos) << m;
}

}  // namespace
}  // namespace aisle
