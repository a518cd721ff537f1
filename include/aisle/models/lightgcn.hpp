#pragma once
#include <memory>

#include "aisle/recipe/schema.hpp"
#include "aisle/train/model.hpp"

// LightGCN for implicit feedback (model.type: lightgcn; He et al., SIGIR 2020).
//
// Ego embeddings E0 [U + I, F] (users are nodes 0..U-1, item i is node U + i; normal init with
// model.init_std) are propagated K = model.layers times over the training graph's symmetric
// normalised adjacency Â = D^-1/2 A D^-1/2 (data::bipartite_graph): E_{k+1} = Â E_k, and the
// final embeddings are the layer mean (E0 + ... + EK) / (K + 1). score(u, i) = e_u . e_i.
// Each step takes train.batch_size training rows (u, i) from data::BatchSampler, draws
// train.negatives uniform non-positive items j per row with data::NegativeSampler, recomputes the
// whole propagation, and minimises
//   mean over triples of softplus(s_uj - s_ui)
//   + model.reg / (2 B) * sum over the batch of (|E0_u|^2 + |E0_i|^2 + mean_j |E0_j|^2)
// (the reference code's loss: L2 on the batch's EGO rows, reg * sum / 2 / batch_size), with dense
// Adam (train.lr) on E0, as the reference code does.
//
// Determinism: batches are permuted by (seed, epoch) and negatives keyed by (seed, epoch, dataset
// row); the propagation (row-wise spmm), the gradient scatters and Adam are deterministic and
// independent of the thread count; state() holds E0 and every optimizer tensor ("optimizer.*"),
// so a resumed run is bit-identical on the CPU. Everything goes through the op catalogue, so the
// same code runs on CUDA.
//
// Evaluation: score_users uses the propagated embeddings, computed once and cached until the next
// training step or load_state.
// weights(): "user_embeddings" [U, F] and "item_embeddings" [I, F] (the propagated, final
// embeddings: all that serving needs) and "ego_embeddings" [U + I, F]. state() adds the optimizer.
namespace aisle::models {

void add_lightgcn_keys(recipe::Schema& schema);
std::unique_ptr<train::Model> create_lightgcn();

}  // namespace aisle::models
