#pragma once
// Pieces the graph models (LightGCN, NGCF, GraphSAGE) compute the same way: the BPR loss over
// final embeddings with the reference code's L2 on the rows that produced them, and the row-wise
// L2 normalisation of hidden layers.
#include "aisle/autograd/var.hpp"

namespace aisle::models {

// mean over the B k triples of softplus(s_uj - s_ui), s the dot product of rows of `final`
// (users, items: i64 [B]; negatives: i64 [B, k]), + reg / (2 B) * sum over the batch of
// (|base_u|^2 + |base_i|^2 + mean_j |base_j|^2), `base` the rows the final ones come from (the ego
// embeddings, or a GraphSAGE step's input rows), indexed by the same ids.
Var bpr_loss_with_row_l2(const Var& final, const Var& base, const Tensor& users, const Tensor& items,
                         const Tensor& negatives, double reg);

// A batch's (users, items: [B]; negatives: [B, k]) ids of one table.
struct TripleIds {
  Tensor users, items, negatives;
};

// The same loss when `final` holds only some rows of the table: `final_ids` index `final`, `ids`
// index `base` (the full table), for the same triples.
Var bpr_loss_with_row_l2(const Var& final, const TripleIds& final_ids, const Var& base, const TripleIds& ids,
                         double reg);

// The distinct rows a batch touches, ascending (i64 [T]), and the batch's ids as positions among
// them: what a graph model propagates to and scores with when it computes only those rows.
struct BatchRows {
  Tensor rows;
  TripleIds positions;
};
BatchRows batch_rows(const TripleIds& ids);

}  // namespace aisle::models
