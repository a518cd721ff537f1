#pragma once
#include <vector>

#include "aisle/autograd/var.hpp"

// One BPR-MF step's forward and backward pass: the loss of a batch and its gradient as coalesced
// rows of each table, for the optimizer to apply. Three implementations with one meaning: the
// fused ones are what the model runs, the tape is the reference they are tested against.
//   autograd_backward: embedding lookups and ops recorded on the tape (any device);
//   fused_backward_cpu: one pass over the batch on the host (CPU tensors only);
//   fused_backward_cuda: one kernel for the scores and per-occurrence rows, then the scatter
//     family's sorted coalescing (CUDA tensors only; ids on the tables' device). It sums each
//     row's occurrences in the same order as the CPU, so the two agree to rounding.
//   fused_occurrences_cuda: the same kernel's rows before the coalescing, for an optimizer that
//     sums them inside its fused update (RowOptimizer::step_occurrences).
//
// For a batch of B positives (u_b, i_b), each with k negatives j_bc, and T = B k triples:
//   s_ui = p_u . q_i (+ b_i)
//   loss = mean_t softplus(s_uj - s_ui)
//        + reg / (2 B) sum_b (|p_u|^2 + |q_i|^2 + b_i^2 + mean_c (|q_j|^2 + b_j^2))
// which for k = 1 is the LightGCN/NGCF reference code's BPR loss with its L2 on the batch's rows.
namespace aisle::models::bpr {

struct Params {
  Var user_factors;  // [U, F], sparse leaf
  Var item_factors;  // [I, F], sparse leaf
  Var item_bias;     // [I], sparse leaf; undefined when the model has no item bias
};

struct BatchIds {
  Tensor users;      // i64 [B]
  Tensor items;      // i64 [B]: the positives
  Tensor negatives;  // i64 [B, k]
};

struct Gradients {
  double loss = 0;
  // One per table in Params order (users, items, then the bias if any): ascending unique ids,
  // each row summed in a fixed order over the batch, so independent of the thread count.
  std::vector<ops::SparseRows> rows;
};

// Leaves no gradient behind in the parameters.
Gradients autograd_backward(const Params& params, const BatchIds& batch, double reg);
Gradients fused_backward_cpu(const Params& params, const BatchIds& batch, double reg);
Gradients fused_backward_cuda(const Params& params, const BatchIds& batch, double reg);
// rows[t] holds one row per occurrence of table t's ids, not summed: users in batch order; items
// (and the bias) as the B positives, then the B k negatives in triple order.
Gradients fused_occurrences_cuda(const Params& params, const BatchIds& batch, double reg);

}  // namespace aisle::models::bpr
