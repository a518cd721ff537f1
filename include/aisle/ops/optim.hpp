#pragma once
#include <cstdint>
#include <vector>

#include "aisle/ops/scatter.hpp"
#include "aisle/tensor/tensor.hpp"

// Optimizer update kernels: in-place updates of a parameter and its state tensors from a gradient.
// Every tensor of one update shares the parameter's dtype (f32 or f64) and device; state tensors
// have the parameter's shape (row-wise Adagrad: one entry per row). Arithmetic is done in the
// parameter's dtype with the formulas of src/ops/optim_functors.hpp, shared by both backends.
//
// Sparse variants take coalesced row gradients (SparseRows with strictly increasing ids, as
// coalesce_rows returns): only rows named by the ids are read or written, in the parameter and in
// every state tensor. Ids outside [0, param.size(0)) and ids that are not strictly increasing
// throw aisle::Error before anything is written.
namespace aisle::ops {

// PyTorch SGD without dampening. With momentum the buffer (zero-initialised) becomes
// buf = momentum * buf + g, which equals g on the first step as in PyTorch.
struct SgdHyper {
  double lr = 0.0;
  double momentum = 0.0;  // 0: no buffer (pass an undefined momentum_buf)
  double weight_decay = 0.0;  // L2: g += weight_decay * p
  bool nesterov = false;      // step along g + momentum * buf
};

// Adam (decoupled_weight_decay = false: L2 added to g) and AdamW (p *= 1 - lr * weight_decay).
// `step` is the 1-based count of updates this parameter has received, including this one.
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   p -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
struct AdamHyper {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;
  int64_t step = 1;
};

// Adagrad: g += weight_decay * p; sum += g^2; p -= lr * g / (sqrt(sum) + eps).
struct AdagradHyper {
  double lr = 1e-2;
  double eps = 1e-10;
  double weight_decay = 0.0;  // dense only
};

// Lazy Adam on touched rows (PyTorch SparseAdam): for each touched element
//   m += (1 - beta1)(g - m);  v += (1 - beta2)(g^2 - v)
//   p -= lr * sqrt(1 - beta2^step) / (1 - beta1^step) * m / (sqrt(v) + eps)
struct SparseAdamHyper {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  int64_t step = 1;
};

// Row-wise Adagrad (FBGEMM / TorchRec, L2 weight decay mode): for each touched row r,
//   g = g_r + weight_decay * p_r;  acc[r] += mean_j g_j^2;  p_r -= lr * g / (sqrt(acc[r]) + eps).
// The mean of squares is accumulated in f64 whatever the parameter's dtype.
struct RowWiseAdagradHyper {
  double lr = 1e-2;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

// Throw aisle::Error naming `who` and the field when a hyperparameter is out of range (negative
// or non-finite rates, betas outside [0, 1), nesterov without momentum, step < 1). The updates
// call these; optimizers call them at construction to fail early.
void check_hyper(const char* who, const SgdHyper& hyper);
void check_hyper(const char* who, const AdamHyper& hyper);
void check_hyper(const char* who, const AdagradHyper& hyper);
void check_hyper(const char* who, const SparseAdamHyper& hyper);
void check_hyper(const char* who, const RowWiseAdagradHyper& hyper);

// ---- dense ---------------------------------------------------------------------------------
// `grad` has the parameter's shape.
void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, const SgdHyper& hyper);
void adam_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                 const AdamHyper& hyper);
void adagrad_update(Tensor& param, const Tensor& grad, Tensor& state_sum, const AdagradHyper& hyper);

// ---- sparse (coalesced rows) ----------------------------------------------------------------
// grad.rows is [n, ...param.shape[1:]]; grad.indices is i64 [n], strictly increasing.
void sparse_sgd_update(Tensor& param, const SparseRows& grad, double lr);
void sparse_adam_update(Tensor& param, const SparseRows& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                        const SparseAdamHyper& hyper);
// PyTorch Adagrad on a sparse gradient: the elementwise accumulator of touched rows only.
// hyper.weight_decay must be 0 (decaying only the touched rows would not be L2 regularisation).
void sparse_adagrad_update(Tensor& param, const SparseRows& grad, Tensor& state_sum,
                           const AdagradHyper& hyper);
// row_accumulator: [param.size(0)].
void rowwise_adagrad_update(Tensor& param, const SparseRows& grad, Tensor& row_accumulator,
                            const RowWiseAdagradHyper& hyper);

// The row gradients a sparse leaf accumulated (any number of pieces, ids repeating within and
// across pieces) as one coalesced SparseRows for `param`: pieces are concatenated in order and
// duplicate ids summed in order of appearance (coalesce_rows). Checks every piece against the
// parameter (dtype, device, row shape, i64 ids); ids are range-checked by the update itself.
SparseRows coalesce_row_pieces(const Tensor& param, const std::vector<SparseRows>& pieces);

}  // namespace aisle::ops
