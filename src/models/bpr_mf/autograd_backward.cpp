#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/loss.hpp"
#include "aisle/autograd/reduce.hpp"
#include "aisle/autograd/scatter.hpp"
#include "aisle/autograd/shape.hpp"
#include "aisle/ops/optim.hpp"
#include "src/models/bpr_mf/backward.hpp"

namespace aisle::models::bpr {

Gradients autograd_backward(const Params& params, const BatchIds& batch, double reg) {
  const int64_t b = batch.users.numel(), k = batch.negatives.size(1), f = params.user_factors.size(1);
  const Var pu = embedding(params.user_factors, batch.users);                      // [B, F]
  const Var qi = embedding(params.item_factors, batch.items);                      // [B, F]
  const Var qj = embedding(params.item_factors, batch.negatives);                  // [B, k, F]
  Var pos = sum(pu * qi, -1);                                                      // [B]
  Var neg = sum(reshape(pu, {b, 1, f}) * qj, -1);                                  // [B, k]
  Var l2 = sum_all(square(pu)) + sum_all(square(qi)) + sum_all(square(qj)) * (1.0 / static_cast<double>(k));
  if (params.item_bias.defined()) {
    const Var bi = embedding(params.item_bias, batch.items);                       // [B]
    const Var bj = embedding(params.item_bias, batch.negatives);                   // [B, k]
    pos = pos + bi;
    neg = neg + bj;
    l2 = l2 + sum_all(square(bi)) + sum_all(square(bj)) * (1.0 / static_cast<double>(k));
  }
  const Var pos_per_triple = broadcast_to(reshape(pos, {b, 1}), {b, k});
  Var loss = bpr_loss(pos_per_triple, neg) + l2 * (reg / (2.0 * static_cast<double>(b)));
  loss.backward();
  Gradients g{loss.value().to(DType::f64).item<double>(), {}};
  for (Var leaf : {params.user_factors, params.item_factors, params.item_bias})
    if (leaf.defined()) g.rows.push_back(ops::coalesce_row_pieces(leaf.value(), leaf.take_sparse_grad()));
  return g;
}

}  // namespace aisle::models::bpr
