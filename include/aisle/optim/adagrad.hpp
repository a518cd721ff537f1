#pragma once
#include "aisle/optim/optimizer.hpp"

namespace aisle::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double eps = 1e-10;
  double initial_accumulator_value = 0.0;
  double weight_decay = 0.0;  // dense gradients only
};

// Adagrad (PyTorch): sum += g^2 elementwise; p -= lr * g / (sqrt(sum) + eps). A sparse gradient
// updates only the touched rows of the parameter and of the accumulator (duplicate ids summed
// first), exactly as the dense update would on those rows; weight decay with a sparse gradient is
// an error. State: "param<i>.sum".
class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<Var> params, const AdagradOptions& options = {});
  const AdagradOptions& options() const { return options_; }

 protected:
  void check_grad(size_t index, const Var& param) const override;
  void update(size_t index, const Var& param) override;

 private:
  AdagradOptions options_;
  std::vector<Tensor> sums_;
};

}  // namespace aisle::optim
