#pragma once
#include <cstdint>

#include "aisle/tensor/tensor.hpp"

// Loss functions on f32/f64 tensors, each a fused per-element (or per-row) kernel followed by a
// deterministic reduction (f64 accumulation, fixed order). Inputs that pair up (pred/target,
// pos/neg, logits/targets) must share shape, dtype and device; nothing broadcasts.
//
// Backward functions take the forward inputs and dy, the gradient of the loss output (shape {}
// for mean and sum, the unreduced shape for none), and return the gradient w.r.t. the first input.
namespace aisle::ops {

enum class Reduction : uint8_t {
  mean,  // average over elements (cross_entropy: over non-ignored rows); an empty input gives NaN
  sum,   // total; an empty input gives 0
  none,  // the per-element losses (cross_entropy: one per row)
};
const char* reduction_name(Reduction r);

// (pred - target)^2. dL/dtarget is the negative of mse_loss_backward.
Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction r = Reduction::mean);
Tensor mse_loss_backward(const Tensor& pred, const Tensor& target, const Tensor& dy,
                         Reduction r = Reduction::mean);

// Binary cross-entropy on logits, computed stably as max(x, 0) - x t + log1p(exp(-|x|)).
// Targets may be soft (any value in [0, 1]). Optional `weights` (same shape) scale each element;
// mean still divides by the element count, as in PyTorch.
Tensor bce_with_logits(const Tensor& logits, const Tensor& targets, Reduction r = Reduction::mean,
                       const Tensor& weights = {});
// dL/dlogits = w (sigmoid(x) - t) dy.
Tensor bce_with_logits_backward(const Tensor& logits, const Tensor& targets, const Tensor& dy,
                                Reduction r = Reduction::mean, const Tensor& weights = {});

// Softmax cross-entropy: logits [N, C], targets i32/i64 [N] in [0, C). Rows whose target equals
// `ignore_index` lose 0 and get zero gradient; mean divides by the number of other rows, so a
// batch where every row is ignored has a NaN mean (PyTorch's behaviour); none gives [N] with 0 at
// ignored rows. Any other target outside [0, C) throws aisle::Error naming the target, its row
// and C (on CUDA this synchronises with the stream, like every op that validates ids).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100,
                     Reduction r = Reduction::mean);
// dL/dlogits = (softmax(x) - onehot(t)) dy, scaled by 1/(non-ignored rows) for mean; zero rows
// where the target is ignored.
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dy,
                              int64_t ignore_index = -100, Reduction r = Reduction::mean);

// Bayesian personalised ranking (Rendle et al.): -log sigmoid(pos - neg), computed stably as
// softplus(neg - pos). pos_scores and neg_scores share one shape.
Tensor bpr_loss(const Tensor& pos_scores, const Tensor& neg_scores, Reduction r = Reduction::mean);
struct BprGrads {
  Tensor dpos;  // -sigmoid(neg - pos) dy
  Tensor dneg;  // = -dpos
};
BprGrads bpr_loss_backward(const Tensor& pos_scores, const Tensor& neg_scores, const Tensor& dy,
                           Reduction r = Reduction::mean);

// Huber loss as PyTorch's HuberLoss, with d = pred - target: 0.5 d^2 where |d| <= delta, else
// delta (|d| - 0.5 delta). delta must be positive. dL/dtarget is the negative of the backward.
Tensor huber_loss(const Tensor& pred, const Tensor& target, double delta = 1.0,
                  Reduction r = Reduction::mean);
// dL/dpred = clamp(d, -delta, delta) dy.
Tensor huber_loss_backward(const Tensor& pred, const Tensor& target, const Tensor& dy,
                           double delta = 1.0, Reduction r = Reduction::mean);

}  // namespace aisle::ops
