#pragma once
#include "aisle/ops/loss.hpp"
#include "src/ops/loss_functors.hpp"

namespace aisle::cuda {

// Per-element losses of a point loss into `out` (weights may be undefined).
void point_loss(detail::PointLoss kind, const Tensor& a, const Tensor& b, const Tensor& weights,
                const Tensor& out, double delta);
// da (and db = -da when db is defined) from dy as the reduction `r` produced it.
void point_loss_backward(detail::PointLoss kind, const Tensor& a, const Tensor& b,
                         const Tensor& weights, const Tensor& dy, ops::Reduction r,
                         const Tensor& da, const Tensor& db, double delta);

// counted[i] = 0 where targets[i] == ignore_index, else 1. Throws aisle::Error (through the
// device's index error slot, so this synchronises) when a target outside [0, classes) is not
// ignore_index.
void ce_count_targets(const Tensor& targets, int64_t classes, int64_t ignore_index,
                      const Tensor& counted, const char* op);
// Per-row losses (0 at ignored rows). Targets must have been checked by ce_count_targets.
void cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                   const Tensor& losses);
// dlogits; for a mean, dy is divided by the device scalar `count` (non-ignored rows; undefined
// for sum and none).
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                            const Tensor& dy, ops::Reduction r, const Tensor& count,
                            const Tensor& dlogits);

}  // namespace aisle::cuda
