#pragma once
#include <cstdint>

#include "aisle/autograd/spmm.hpp"
#include "aisle/autograd/var.hpp"

// LightGCN's forward pass as differentiable functions of the ego embeddings, used by the model's
// training step and its evaluation cache (so both compute the same bits) and by the tests.
namespace aisle::models::lightgcn {

// One step's ids as NODE ids of the bipartite graph (item i is node U + i), on the ego table's
// device.
struct BatchIds {
  Tensor users;      // i64 [B]
  Tensor items;      // i64 [B]: the positives' nodes
  Tensor negatives;  // i64 [B, k]: the negatives' nodes
};

// The final embeddings (E0 + Â E0 + ... + Â^K E0) / (K + 1), [U + I, F]; ego itself for K = 0.
Var propagate(const SparseOperator& graph, const Var& ego, int64_t layers);

// mean over the B k triples of softplus(s_uj - s_ui), s = dot of final embeddings,
// + reg / (2 B) * (sum_b |E0_u|^2 + |E0_i|^2 + mean_c |E0_j|^2): the reference code's loss.
Var batch_loss(const SparseOperator& graph, const Var& ego, int64_t layers, const BatchIds& ids, double reg);

}  // namespace aisle::models::lightgcn
