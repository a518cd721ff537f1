// Backward rules of the loss family (forward and backward kernels: src/ops/loss.cpp).
#include "aisle/autograd/loss.hpp"

#include "aisle/ops/elementwise.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

Var mse_loss(const Var& pred, const Var& target, ops::Reduction r) {
  const Tensor pv = pred.value(), tv = target.value();
  return record("mse_loss", ops::mse_loss(pv, tv, r), {pred, target},
                [pv, tv, r](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  const Tensor dpred = ops::mse_loss_backward(pv, tv, dy, r);
                  return {needs[0] ? dpred : Tensor(), needs[1] ? ops::affine(dpred, -1.0) : Tensor()};
                });
}

Var bce_with_logits(const Var& logits, const Tensor& targets, ops::Reduction r, const Tensor& weights) {
  const Tensor xv = logits.value();
  return record("bce_with_logits", ops::bce_with_logits(xv, targets, r, weights), {logits},
                [xv, targets, r, weights](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::bce_with_logits_backward(xv, targets, dy, r, weights)};
                });
}

Var cross_entropy(const Var& logits, const Tensor& targets, int64_t ignore_index, ops::Reduction r) {
  const Tensor xv = logits.value();
  return record("cross_entropy", ops::cross_entropy(xv, targets, ignore_index, r), {logits},
                [xv, targets, ignore_index, r](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::cross_entropy_backward(xv, targets, dy, ignore_index, r)};
                });
}

Var bpr_loss(const Var& pos_scores, const Var& neg_scores, ops::Reduction r) {
  const Tensor pv = pos_scores.value(), nv = neg_scores.value();
  return record("bpr_loss", ops::bpr_loss(pv, nv, r), {pos_scores, neg_scores},
                [pv, nv, r](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  ops::BprGrads g = ops::bpr_loss_backward(pv, nv, dy, r);
                  return {needs[0] ? g.dpos : Tensor(), needs[1] ? g.dneg : Tensor()};
                });
}

Var huber_loss(const Var& pred, const Var& target, double delta, ops::Reduction r) {
  const Tensor pv = pred.value(), tv = target.value();
  return record("huber_loss", ops::huber_loss(pv, tv, delta, r), {pred, target},
                [pv, tv, delta, r](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  const Tensor dpred = ops::huber_loss_backward(pv, tv, dy, delta, r);
                  return {needs[0] ? dpred : Tensor(), needs[1] ? ops::affine(dpred, -1.0) : Tensor()};
                });
}

}  // namespace aisle
