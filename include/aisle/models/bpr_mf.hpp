#pragma once
#include <memory>

#include "aisle/recipe/schema.hpp"
#include "aisle/train/model.hpp"

// BPR matrix factorisation for implicit feedback (model.type: bpr; Rendle et al. 2009).
//
// score(u, i) = p_u . q_i (+ b_i with model.item_bias). Each step takes train.batch_size training
// rows (u, i) from data::BatchSampler, draws train.negatives items j per row with
// data::NegativeSampler (train.negative_sampling: uniform over the user's non-positives, or
// popularity^train.popularity_alpha), and minimises
//   mean over triples of -log sigmoid(s_ui - s_uj)
//   + model.reg / (2 B) * sum over the batch of (|p_u|^2 + |q_i|^2 + mean_j |q_j|^2)
// (bias terms included when on): the LightGCN/NGCF reference code's loss, whose L2 touches only
// the rows the batch uses. train.optimizer: adam (lazy Adam on touched rows, PyTorch
// SparseAdam), sgd (plain row SGD), adagrad (per element) or rowwise_adagrad (one accumulator per
// row, FBGEMM/TorchRec: the optimizer state of a [N, F] table is N floats, not N F);
// model.factors, model.init_std (normal init).
//
// Determinism: batches are permuted by (seed, epoch) and negatives keyed by (seed, epoch, dataset
// row), so a step depends only on the state before it and (seed, epoch, step); state() holds the
// tables and every optimizer tensor ("optimizer.*"), so a resumed run is bit-identical.
//
// Paths: on the CPU a fused step (src/models/bpr_mf/fused_backward_cpu.cpp) computes the batch's
// row gradients in two passes, each row summed in batch order, so results do not depend on the
// thread count; on CUDA one kernel (cuda/bpr_step.cu) writes each occurrence's row and the
// scatter family's sorted coalescing sums them in that same order, or, for adam and
// rowwise_adagrad, the optimizer's update fused into the embedding-bag backward
// (aisle/ops/embedding_update.hpp) sums them itself, with no coalesced gradient in between. score_users is P[users] Q^T (+ b) on the model's device.
// weights(): "user_factors" [U, F], "item_factors" [I, F], and "item_bias" [I] when enabled.
namespace aisle::models {

void add_bpr_mf_keys(recipe::Schema& schema);
std::unique_ptr<train::Model> create_bpr_mf();

}  // namespace aisle::models
