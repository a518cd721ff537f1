#pragma once
#include <cstdint>
#include <vector>

#include "aisle/autograd/spmm.hpp"
#include "aisle/autograd/var.hpp"

// NGCF's forward pass as differentiable functions of its parameters, used by the model's training
// step and its evaluation cache (so both compute the same bits) and by the tests.
namespace aisle::models::ngcf {

// One step's ids as NODE ids of the bipartite graph (item i is node U + i).
struct BatchIds {
  Tensor users;      // i64 [B]
  Tensor items;      // i64 [B]: the positives' nodes
  Tensor negatives;  // i64 [B, k]: the negatives' nodes
};

// One propagation layer: d_in -> d_out.
struct Layer {
  Var w1, b1;  // [d_in, d_out], [d_out]: on the neighbourhood sum Â E
  Var w2, b2;  // [d_in, d_out], [d_out]: on the affinity E ⊙ Â E
};

struct Params {
  Var ego;  // [U + I, F]
  std::vector<Layer> layers;
};

// The multipliers of message dropout for every layer's output [nodes, d_l] (inverted: 0 or
// 1/(1-rate)), all drawn from the one Philox stream `stream` of `seed`, so they are the same on
// every device and for a resumed run. Empty for rate 0.
std::vector<Tensor> dropout_masks(uint64_t seed, uint64_t stream, int64_t nodes, const std::vector<int64_t>& sizes,
                                  double rate, DType dtype, Device device);

// Node dropout's adjacency for one step: graph's values [nnz], each entry kept with probability
// 1 - rate and then divided by 1 - rate, or zero (the reference code's _dropout_sparse, one draw
// for all layers), drawn from the Philox stream `stream` of `seed`. Undefined for rate 0.
Tensor edge_dropout_values(const SparseOperator& graph, uint64_t seed, uint64_t stream, double rate);

// The final embeddings concat(E0, n(E1), ..., n(EL)) [U + I, F + sum d]; `masks` (empty: none)
// multiply each layer's output before it propagates further and is normalised; `edge_values`
// (undefined: graph's own) replace the adjacency's values in every layer (node dropout).
Var propagate(const SparseOperator& graph, const Params& params, const std::vector<Tensor>& masks = {},
              const Tensor& edge_values = Tensor());

// Rows `rows` (i64 [T]) of propagate(): the same layers, except that the last one is computed for
// those rows alone (a step scores only its batch's rows), on either device.
Var propagate_rows(const SparseOperator& graph, const Params& params, const Tensor& rows,
                   const std::vector<Tensor>& masks = {}, const Tensor& edge_values = Tensor());

// mean over the B k triples of softplus(s_uj - s_ui), s = dot of final embeddings,
// + reg / (2 B) * (sum_b |E0_u|^2 + |E0_i|^2 + mean_c |E0_j|^2): the reference code's loss.
Var batch_loss(const SparseOperator& graph, const Params& params, const BatchIds& ids, double reg,
               const std::vector<Tensor>& masks = {}, const Tensor& edge_values = Tensor());

}  // namespace aisle::models::ngcf
