#pragma once
#include "aisle/optim/optimizer.hpp"

namespace aisle::optim {

struct RowWiseAdagradOptions {
  double lr = 1e-2;
  double eps = 1e-8;          // FBGEMM's default
  double weight_decay = 0.0;  // L2 on the touched rows (FBGEMM WeightDecayMode::L2)
};

// Row-wise Adagrad (FBGEMM / TorchRec), the embedding-table optimizer: one accumulator per row,
// acc[r] += mean_j g[r, j]^2; p[r] -= lr * g[r] / (sqrt(acc[r]) + eps), on touched rows only, with
// duplicate ids summed first. Parameters need at least one axis (rows). A dense gradient is
// treated as touching every row (summed with any sparse rows). State: "param<i>.row_sum" [rows].
class RowWiseAdagrad : public Optimizer {
 public:
  RowWiseAdagrad(std::vector<Var> params, const RowWiseAdagradOptions& options = {});
  const RowWiseAdagradOptions& options() const { return options_; }

 protected:
  void update(size_t index, const Var& param) override;

 private:
  RowWiseAdagradOptions options_;
  std::vector<Tensor> row_sums_;
};

}  // namespace aisle::optim
