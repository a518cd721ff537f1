#include "src/models/lightgcn/propagation.hpp"

#include "src/models/embedding_loss.hpp"

namespace aisle::models::lightgcn {

Var propagate(const SparseOperator& graph, const Var& ego, int64_t layers) {
  AISLE_CHECK(layers >= 0, "lightgcn: layers must be >= 0, got ", layers);
  return propagate_mean(graph, ego, layers);
}

Var batch_loss(const SparseOperator& graph, const Var& ego, int64_t layers, const BatchIds& ids, double reg) {
  // Only the batch's rows of the propagated table are scored, so only they are propagated to. The
  // L2 is on the ego rows, not the propagated ones (as in the reference code).
  const TripleIds node_ids{ids.users, ids.items, ids.negatives};
  const BatchRows batch = batch_rows(node_ids);
  return bpr_loss_with_row_l2(propagate_mean_rows(graph, ego, layers, batch.rows), batch.positions, ego, node_ids,
                              reg);
}

}  // namespace aisle::models::lightgcn
