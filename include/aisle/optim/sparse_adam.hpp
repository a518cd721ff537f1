#pragma once
#include "aisle/optim/optimizer.hpp"

namespace aisle::optim {

struct SparseAdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

// Lazy Adam (PyTorch SparseAdam): the moments and values of the rows a batch touches are updated;
// other rows, and their moments, do not move. Duplicate ids are summed first. The bias correction
// uses the parameter's own step count (batches in which it received a gradient).
//
// Dense gradients are accepted and treated as touching every row (a dense gradient together with
// sparse rows is summed into one update), so one SparseAdam can drive a model's embedding tables
// and its dense layers. On every row this is PyTorch's SparseAdam formula, which places eps
// outside the bias correction: p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps).
// State per parameter: "exp_avg", "exp_avg_sq", "step".
class SparseAdam : public Optimizer {
 public:
  SparseAdam(std::vector<Var> params, const SparseAdamOptions& options = {});
  const SparseAdamOptions& options() const { return options_; }

 protected:
  void update(size_t index, const Var& param) override;

 private:
  SparseAdamOptions options_;
  struct Slot {
    Tensor exp_avg, exp_avg_sq;
    int64_t* step;
  };
  std::vector<Slot> slots_;
};

}  // namespace aisle::optim
