#pragma once
#include "aisle/ops/optim.hpp"
#include "aisle/optim/optimizer.hpp"

namespace aisle::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // Adam: L2 added to the gradient
};

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: p *= 1 - lr * weight_decay
};

// Adam (Kingma & Ba, PyTorch formula with bias correction) on dense gradients. A sparse gradient
// is an error that points to SparseAdam. State per parameter: "exp_avg", "exp_avg_sq" and "step"
// (updates this parameter received; bias corrections use it, so a parameter skipped in some steps
// is corrected for its own count, as in PyTorch).
class Adam : public Optimizer {
 public:
  Adam(std::vector<Var> params, const AdamOptions& options = {});
  const ops::AdamHyper& hyper() const { return hyper_; }

 protected:
  Adam(std::vector<Var> params, const ops::AdamHyper& hyper, std::string name);
  void check_grad(size_t index, const Var& param) const override;
  void update(size_t index, const Var& param) override;

 private:
  ops::AdamHyper hyper_;  // lr lives in the base; step is per parameter
  struct Slot {
    Tensor exp_avg, exp_avg_sq;
    int64_t* step;
  };
  std::vector<Slot> slots_;
};

// AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the gradient.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Var> params, const AdamWOptions& options = {});
};

}  // namespace aisle::optim
