#include "src/models/lightgcn/propagation.hpp"

#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/loss.hpp"
#include "aisle/autograd/reduce.hpp"
#include "aisle/autograd/scatter.hpp"
#include "aisle/autograd/shape.hpp"

namespace aisle::models::lightgcn {

Var propagate(const SparseOperator& graph, const Var& ego, int64_t layers) {
  AISLE_CHECK(layers >= 0, "lightgcn: layers must be >= 0, got ", layers);
  if (layers == 0) return ego;
  Var layer = ego, total = ego;
  for (int64_t k = 0; k < layers; ++k) {
    layer = spmm(graph, layer);
    total = total + layer;
  }
  return total * (1.0 / static_cast<double>(layers + 1));
}

Var batch_loss(const SparseOperator& graph, const Var& ego, int64_t layers, const BatchIds& ids, double reg) {
  const int64_t b = ids.users.numel(), k = ids.negatives.size(1), f = ego.size(1);
  const Var final_embeddings = propagate(graph, ego, layers);
  const Var eu = embedding(final_embeddings, ids.users);      // [B, F]
  const Var ei = embedding(final_embeddings, ids.items);      // [B, F]
  const Var ej = embedding(final_embeddings, ids.negatives);  // [B, k, F]
  const Var pos = sum(eu * ei, -1);                            // [B]
  const Var neg = sum(reshape(eu, {b, 1, f}) * ej, -1);        // [B, k]
  const Var pos_per_triple = broadcast_to(reshape(pos, {b, 1}), {b, k});
  // The L2 is on the ego rows, not the propagated ones (as in the reference code).
  const Var l2 = sum_all(square(embedding(ego, ids.users))) + sum_all(square(embedding(ego, ids.items))) +
                 sum_all(square(embedding(ego, ids.negatives))) * (1.0 / static_cast<double>(k));
  return bpr_loss(pos_per_triple, neg) + l2 * (reg / (2.0 * static_cast<double>(b)));
}

}  // namespace aisle::models::lightgcn
