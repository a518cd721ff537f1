// Trains y = 3x - 1 by gradient descent through the installed library and checks the fit.
#include <cmath>
#include <cstdio>

#include "aisle/aisle.hpp"

int main() {
  using namespace aisle;
  const Tensor x = Tensor::from_vector<float>({-1, 0, 1, 2}, {4, 1});
  const Tensor y = Tensor::from_vector<float>({-4, -1, 2, 5}, {4, 1});
  Var w = Var::parameter(Tensor::zeros({1, 1})), b = Var::parameter(Tensor::zeros({1}));
  for (int step = 0; step < 500; ++step) {
    Var err = Var(x) * w + b - Var(y);
    Var loss = mean_all(err * err);
    w.zero_grad();
    b.zero_grad();
    loss.backward();
    w = Var::parameter(ops::sub(w.value(), ops::affine(w.grad(), 0.1)));
    b = Var::parameter(ops::sub(b.value(), ops::affine(b.grad(), 0.1)));
  }
  const float wv = w.value().item<float>(), bv = b.value().item<float>();
  std::printf("aisle %s: w=%.4f b=%.4f\n", AISLE_VERSION, wv, bv);
  return (std::fabs(wv - 3) < 1e-3 && std::fabs(bv + 1) < 1e-3) ? 0 : 1;
}
