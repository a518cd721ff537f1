#pragma once
#include <limits>

#include "aisle/optim/optimizer.hpp"

namespace aisle::optim {

struct SGDOptions {
  double lr = std::numeric_limits<double>::quiet_NaN();  // required
  double momentum = 0.0;
  double weight_decay = 0.0;  // L2, added to the gradient
  bool nesterov = false;      // needs momentum > 0
};

// Stochastic gradient descent (PyTorch SGD without dampening). Dense gradients take every option.
// Sparse row gradients (set_sparse parameters: embedding tables, the Hogwild-style matrix
// factorisation case) get plain row SGD, p[r] -= lr * g[r] on touched rows, with duplicate ids
// summed first; momentum or weight decay with a sparse gradient is an error, since either would
// have to move every row. State: "param<i>.momentum_buffer" when momentum > 0.
class SGD : public Optimizer {
 public:
  SGD(std::vector<Var> params, const SGDOptions& options);
  const SGDOptions& options() const { return options_; }

 protected:
  void check_grad(size_t index, const Var& param) const override;
  void update(size_t index, const Var& param) override;

 private:
  SGDOptions options_;
  std::vector<Tensor> momentum_;  // per parameter; undefined without momentum
};

}  // namespace aisle::optim
