#pragma once
#include <memory>

#include "aisle/recipe/schema.hpp"
#include "aisle/train/model.hpp"

// NGCF for implicit feedback (model.type: ngcf; Wang et al., SIGIR 2019, "Neural Graph
// Collaborative Filtering").
//
// Ego embeddings E0 [U + I, F] (users are nodes 0..U-1, item i is node U + i; F = model.factors)
// are propagated over the training graph's symmetric normalised adjacency Â = D^-1/2 A D^-1/2
// (data::bipartite_graph, no self loops), one layer per entry d_{l+1} of model.layer_sizes, as the
// paper's matrix form (eq. 8, the self-connection in the first term only):
//   S       = Â E_l
//   E_{l+1} = dropout( LeakyReLU_0.2((S + E_l) W1_l + b1_l) + LeakyReLU_0.2((E_l ⊙ S) W2_l + b2_l) )
// (The reference code instead uses one row-normalised D^-1 (A + I) for both terms.)
// with W [d_l, d_{l+1}] and b [d_{l+1}], all Xavier-uniform as in the reference code (the biases
// too). The final embedding of a node is concat(E0, n(E1), ..., n(EL)) along the features, n the
// row-wise L2 normalisation; score(u, i) = final_u . final_i. Each step takes train.batch_size rows
// (u, i), train.negatives uniform non-positive items j per row, recomputes the whole propagation
// and minimises
//   mean over triples of softplus(s_uj - s_ui)
//   + model.reg / (2 B) * sum over the batch of (|E0_u|^2 + |E0_i|^2 + mean_j |E0_j|^2)
// (the reference code's decay * l2_loss / batch_size on the EGO rows) with dense Adam (train.lr)
// on E0 and every W, b.
//
// Message dropout (model.message_dropout, inverted) and node dropout (model.node_dropout: each
// entry of the normalised adjacency dropped with that rate and the kept ones scaled by 1/(1-rate),
// one draw per step shared by all layers, as the reference code's _dropout_sparse; off by default
// as there) draw their masks from Philox streams keyed by (seed, epoch, step), so a resumed run
// redraws them exactly; evaluation runs without dropout.
//
// Determinism and devices as LightGCN: the CPU path is independent of the thread count, state()
// holds every parameter and optimizer tensor ("optimizer.*"), and everything goes through the op
// catalogue (spmm, matmul, elementwise), so the same code runs on CUDA. One process only: the
// trainer refuses several ranks.
//
// Evaluation: score_users uses the final embeddings, cached until the next step or load_state.
// weights(): "user_embeddings" [U, F + sum d] and "item_embeddings" [I, F + sum d] (the final
// embeddings: all that serving needs), plus the trained parameters "ego_embeddings" and
// "layer<l>.{w1,b1,w2,b2}". state() adds the optimizer.
namespace aisle::models {

void add_ngcf_keys(recipe::Schema& schema);
std::unique_ptr<train::Model> create_ngcf();

}  // namespace aisle::models
