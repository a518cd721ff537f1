#pragma once
#include "aisle/autograd/var.hpp"
#include "aisle/ops/loss.hpp"

// Differentiable losses (forward kernels and semantics: aisle/ops/loss.hpp). mse, huber and bpr
// differentiate both inputs (a GAN's or critic's target can itself be a model output); bce and
// cross_entropy differentiate the logits only, so their targets (and bce's weights) are Tensors.
namespace aisle {

Var mse_loss(const Var& pred, const Var& target, ops::Reduction r = ops::Reduction::mean);
Var bce_with_logits(const Var& logits, const Tensor& targets, ops::Reduction r = ops::Reduction::mean,
                    const Tensor& weights = {});
Var cross_entropy(const Var& logits, const Tensor& targets, int64_t ignore_index = -100,
                  ops::Reduction r = ops::Reduction::mean);
Var bpr_loss(const Var& pos_scores, const Var& neg_scores, ops::Reduction r = ops::Reduction::mean);
Var huber_loss(const Var& pred, const Var& target, double delta = 1.0,
               ops::Reduction r = ops::Reduction::mean);

}  // namespace aisle
