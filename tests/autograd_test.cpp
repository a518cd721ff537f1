#include <cmath>

#include "aisle/aisle.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

Tensor scalar(double v) { return Tensor::full({}, v, DType::f64); }

TEST(Autograd, ChainRuleOnAScalarExpression) {
  // f(a, b) = (a*b + a)^2 at a=2, b=3: df/da = 2(ab+a)(b+1) = 2*8*4, df/db = 2(ab+a)a = 2*8*2.
  Var a = Var::parameter(scalar(2)), b = Var::parameter(scalar(3));
  Var f = square(a * b + a);
  EXPECT_EQ(f.value().item<double>(), 64);
  f.backward();
  EXPECT_EQ(a.grad().item<double>(), 64);
  EXPECT_EQ(b.grad().item<double>(), 32);
}

TEST(Autograd, DiamondGraphVisitsSharedNodeOnce) {
  // x feeds y twice through different paths; the gradient must add both paths exactly once.
  Var x = Var::parameter(scalar(1.5));
  Var y = exp(x);
  Var z = y * y + y;  // dz/dx = (2y + 1) y
  z.backward();
  const double yv = std::exp(1.5);
  EXPECT_NEAR(x.grad().item<double>(), (2 * yv + 1) * yv, 1e-12);
}

TEST(Autograd, GradientsAccumulateUntilZeroed) {
  Var w = Var::parameter(scalar(2));
  (w * 3.0).backward();
  (w * 4.0).backward();
  EXPECT_EQ(w.grad().item<double>(), 7);
  w.zero_grad();
  EXPECT_FALSE(w.has_grad());
  (w * 5.0).backward();
  EXPECT_EQ(w.grad().item<double>(), 5);
}

TEST(Autograd, NoGradAndDetachStopTheGraph) {
  Var w = Var::parameter(scalar(2));
  {
    NoGradGuard guard;
    Var y = w * 3.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_FALSE(grad_enabled());
  }
  EXPECT_TRUE(grad_enabled());
  Var d = (w * 3.0).detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  Var mixed = w * d;  // d acts as a constant
  mixed.backward();
  EXPECT_EQ(w.grad().item<double>(), 6);
  EXPECT_THROW(d.backward(), Error);
}

TEST(Autograd, IntermediateGradsAreFreedUnlessRetained) {
  Var x = Var::parameter(scalar(3));
  Var h = x * 2.0, k = x * 5.0;
  k.retain_grad();
  Var y = h * k;
  y.backward();
  EXPECT_FALSE(h.grad().defined());
  EXPECT_EQ(k.grad().item<double>(), 6);  // dy/dk = h
  EXPECT_EQ(x.grad().item<double>(), 2 * 15 + 5 * 6);
}

TEST(Autograd, SecondBackwardThroughASpentGraphIsAnError) {
  Var x = Var::parameter(scalar(1));
  Var y = x * x;
  y.backward();
  try {
    y.backward();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already used"), std::string::npos) << e.what();
  }
}

TEST(Autograd, NonScalarBackwardNeedsASeed) {
  Var x = Var::parameter(Tensor::ones({3}, DType::f64));
  Var y = x * 2.0;
  EXPECT_THROW(y.backward(), Error);
  EXPECT_THROW(y.backward(Tensor::ones({4}, DType::f64)), Error);
  y.backward(Tensor::from_vector<double>({1, 2, 3}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 4, 6}));
}

TEST(Autograd, SparseRowsFlowDenselyThroughIntermediates) {
  // Rows looked up from a computed table (as LightGCN looks up propagated embeddings) must turn
  // into a dense gradient for the op that produced the table.
  Var base = Var::parameter(Tensor::ones({4, 2}, DType::f64));
  Var table = base * 3.0;
  Var rows = gather_rows(table, Tensor::from_vector<int64_t>({1, 1, 3}));
  sum_all(rows).backward();
  EXPECT_EQ(base.grad().to_vector<double>(), (std::vector<double>{0, 0, 6, 6, 0, 0, 3, 3}));
}

TEST(Autograd, SparseLeavesAccumulateRowPieces) {
  Var table = Var::parameter(Tensor::ones({10, 2}, DType::f64)).set_sparse(true);
  sum_all(embedding(table, Tensor::from_vector<int64_t>({2, 5}))).backward();
  sum_all(embedding(table, Tensor::from_vector<int64_t>({5}))).backward();
  EXPECT_EQ(table.sparse_grad().size(), 2u);
  const Tensor dense = testing::dense_grad(table);
  EXPECT_EQ(dense.to_vector<double>()[10], 2.0);  // row 5 from both backward passes
  const auto pieces = table.take_sparse_grad();
  EXPECT_EQ(pieces.size(), 2u);
  EXPECT_FALSE(table.has_grad());
  EXPECT_THROW((table * 2.0).set_sparse(true), Error);
}

TEST(Autograd, ReshapeAndFlattenPassGradientsThrough) {
  Generator gen(3);
  const Tensor x = testing::random_tensor({2, 3, 4}, gen);
  EXPECT_TRUE(testing::gradients_match(
      [](const std::vector<Var>& v) { return reshape(v[0], {4, -1}) * reshape(reshape(v[0], {6, 4}), {4, 6}); }, {x}));
  EXPECT_TRUE(testing::gradients_match([](const std::vector<Var>& v) { return square(flatten(v[0])); }, {x}));
  Var p = Var::parameter(x);
  Var r = reshape(p, {24});
  EXPECT_TRUE(r.value().shares_storage(p.value()));  // a view, not a copy
  EXPECT_THROW(reshape(p, {5, 5}), Error);
}

TEST(Autograd, OnlyFloatingTensorsRequireGrad) {
  EXPECT_THROW(Var::parameter(Tensor::zeros({2}, DType::i64)), Error);
  Var w = Var::parameter(Tensor::zeros({2}, DType::f32), "weight");
  EXPECT_NE(w.describe().find("weight"), std::string::npos);
}

}  // namespace
}  // namespace aisle
