#include <cmath>

#include "aisle/aisle.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;
using testing::gradients_match;
using testing::random_tensor;

TEST(NN, LinearComputesXWTransposePlusBias) {
  Generator gen(1);
  nn::Linear lin(3, 2, gen, true, DType::f64);
  const Tensor x = random_tensor({4, 3}, gen);
  const std::vector<double> xv = x.to_vector<double>(), w = lin.weight().value().to_vector<double>(),
                            b = lin.bias().value().to_vector<double>();
  const std::vector<double> y = lin.forward(Var(x)).value().to_vector<double>();
  for (int i = 0; i < 4; ++i)
    for (int o = 0; o < 2; ++o) {
      double ref = b[static_cast<size_t>(o)];
      for (int k = 0; k < 3; ++k) ref += xv[static_cast<size_t>(i * 3 + k)] * w[static_cast<size_t>(o * 3 + k)];
      EXPECT_NEAR(y[static_cast<size_t>(i * 2 + o)], ref, 1e-12);
    }
  // Initialisation stays inside PyTorch's U(-1/sqrt(in), 1/sqrt(in)).
  for (double v : w) EXPECT_LE(std::abs(v), 1 / std::sqrt(3.0));
  EXPECT_THROW(lin.forward(Var(random_tensor({4, 5}, gen))), Error);
}

TEST(NN, LinearGradientsThroughLeadingAxes) {
  Generator gen(2);
  const Tensor x = random_tensor({2, 3, 4}, gen), w = random_tensor({5, 4}, gen), b = random_tensor({5}, gen);
  EXPECT_TRUE(gradients_match(
      [](const std::vector<Var>& v) { return matmul(v[0], v[1], false, true) + v[2]; }, {x, w, b}));
}

TEST(NN, NamedParametersAndModes) {
  Generator gen(3);
  nn::MLP mlp({4, 8, 8, 2}, gen, nn::Activation::relu, 0.5);
  std::vector<std::string> names;
  for (const auto& [name, v] : mlp.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"layer0.weight", "layer0.bias", "layer1.weight",
                                             "layer1.bias", "layer2.weight", "layer2.bias"}));
  EXPECT_EQ(mlp.parameters().size(), 6u);
  // Dropout is active in training mode only, so eval-mode outputs are deterministic.
  const Tensor x = random_tensor({16, 4}, gen, DType::f32);
  mlp.eval();
  EXPECT_TRUE(all_close(mlp.forward(Var(x)).value(), mlp.forward(Var(x)).value(), 0, 0));
  mlp.train();
  EXPECT_THROW(mlp.forward(Var(x)), Error);  // training-mode dropout needs a generator
  Generator g1(5), g2(5);
  EXPECT_TRUE(all_close(mlp.forward(Var(x), &g1).value(), mlp.forward(Var(x), &g2).value(), 0, 0));
  mlp.to(Device::cpu());
  EXPECT_EQ(mlp.parameters()[0].device(), Device::cpu());
}

TEST(NN, EmbeddingTablesAreSparseByDefault) {
  Generator gen(4);
  nn::Embedding emb(100, 8, gen);
  EXPECT_TRUE(emb.table().is_sparse());
  sum_all(emb.forward(Tensor::from_vector<int64_t>({3, 7, 3}))).backward();
  EXPECT_FALSE(emb.table().grad().defined());
  ASSERT_EQ(emb.table().sparse_grad().size(), 1u);
  nn::EmbeddingBag bag(100, 8, ops::BagMode::mean, gen);
  const Var pooled = bag.forward(Tensor::from_vector<int64_t>({1, 2, 3}), Tensor::from_vector<int64_t>({0, 2, 3}));
  EXPECT_EQ(pooled.shape(), (Shape{2, 8}));
  const std::vector<float> t = bag.table().value().to_vector<float>(), p = pooled.value().to_vector<float>();
  EXPECT_NEAR(p[0], (t[8] + t[16]) / 2, 1e-7);
  EXPECT_NEAR(p[8], t[24], 1e-7);
}

TEST(NN, TinyMlpLearnsXor) {
  // The classic non-linearly-separable problem: a linear model cannot fit it, a 2-8-1 MLP must.
  Generator gen(7);
  nn::MLP mlp({2, 8, 1}, gen, nn::Activation::tanh);
  optim::Adam opt(mlp.parameters(), {.lr = 0.05});
  const Tensor x = Tensor::from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const Tensor y = Tensor::from_vector<float>({0, 1, 1, 0}, {4, 1});
  double first = 0, last = 0;
  for (int step = 0; step < 400; ++step) {
    Var loss = bce_with_logits(mlp.forward(Var(x)), y);
    if (step == 0) first = loss.value().item<float>();
    last = loss.value().item<float>();
    loss.backward();
    opt.step();
    opt.zero_grad();
  }
  EXPECT_GT(first, 0.5);
  EXPECT_LT(last, 0.02);
  const std::vector<float> logits = mlp.forward(Var(x)).value().to_vector<float>();
  EXPECT_LT(logits[0], 0);
  EXPECT_GT(logits[1], 0);
  EXPECT_GT(logits[2], 0);
  EXPECT_LT(logits[3], 0);
}

TEST(NN, LinearModelCannotLearnXor) {
  // Control for the test above: the same loop with no hidden layer stays near chance.
  Generator gen(7);
  nn::Linear lin(2, 1, gen);
  optim::Adam opt(lin.parameters(), {.lr = 0.05});
  const Tensor x = Tensor::from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const Tensor y = Tensor::from_vector<float>({0, 1, 1, 0}, {4, 1});
  double last = 0;
  for (int step = 0; step < 400; ++step) {
    Var loss = bce_with_logits(lin.forward(Var(x)), y);
    last = loss.value().item<float>();
    loss.backward();
    opt.step();
    opt.zero_grad();
  }
  EXPECT_GT(last, 0.6);
}

TEST(NNCuda, ModuleMovesToTheGpuAndTrainsTheSame) {
  AISLE_SKIP_WITHOUT_CUDA();
  auto train = [](Device device) {
    Generator gen(7);
    nn::MLP mlp({2, 8, 1}, gen, nn::Activation::tanh);
    mlp.to(device);
    optim::Adam opt(mlp.parameters(), {.lr = 0.05});
    const Tensor x = Tensor::from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}).to(device);
    const Tensor y = Tensor::from_vector<float>({0, 1, 1, 0}, {4, 1}).to(device);
    for (int step = 0; step < 100; ++step) {
      Var loss = bce_with_logits(mlp.forward(Var(x)), y);
      loss.backward();
      opt.step();
      opt.zero_grad();
    }
    return mlp.forward(Var(x)).value().to(Device::cpu());
  };
  EXPECT_TRUE(all_close(train(testing::gpu()), train(Device::cpu()), 1e-4, 1e-4));
}

}  // namespace
}  // namespace aisle
