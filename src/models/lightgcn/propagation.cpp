#include "src/models/lightgcn/propagation.hpp"

#include "src/models/embedding_loss.hpp"

namespace aisle::models::lightgcn {

Var propagate(const SparseOperator& graph, const Var& ego, int64_t layers) {
  AISLE_CHECK(layers >= 0, "lightgcn: layers must be >= 0, got ", layers);
  return propagate_mean(graph, ego, layers);
}

Var batch_loss(const SparseOperator& graph, const Var& ego, int64_t layers, const BatchIds& ids, double reg) {
  // The L2 is on the ego rows, not the propagated ones (as in the reference code).
  return bpr_loss_with_row_l2(propagate(graph, ego, layers), ego, ids.users, ids.items, ids.negatives, reg);
}

}  // namespace aisle::models::lightgcn
