#pragma once
#include <memory>

#include "aisle/recipe/schema.hpp"
#include "aisle/train/model.hpp"

// Biased matrix factorisation for explicit ratings (model.type: mf; Koren, Bell & Volinsky 2009,
// the model of Surprise's SVD):  r(u, i) = mean + b_u + b_i + p_u·q_i,  trained to minimise the
// squared error plus per-rating L2 (model.reg on p_u and q_i, model.reg_bias on b_u and b_i).
// Predictions are clamped to the training ratings' [min, max], as Surprise does; ranking scores
// (score_users) are not.
//
// Keys: model.factors, model.init_std, model.reg, model.reg_bias, model.use_biases (false: mean +
// p_u·q_i), train.optimizer (sgd | adam), train.sgd_mode, train.lr, train.lr_decay (per epoch),
// train.batch_size. Defaults are tuned on MovieLens-100K (recipes/movielens-*-mf.yaml).
//
// Updates. SGD on the CPU is the classic per-rating SGD (Funk/Surprise): each step takes the next
// train.batch_size rows of the epoch's shuffled order and updates after every rating, in order,
// on one thread (the next epoch's shuffle is drawn on another meanwhile). SGD on CUDA is Hogwild
// (cuda/mf_sgd.cu): the same per-rating update for a step's ratings all at once, lock-free, so
// ratings of one step sharing a row may lose an update and train.batch_size sets how many race
// (the result equals the CPU's when a step's rows are distinct). Adam (any device) and
// train.sgd_mode: minibatch compute a batch's loss with autograd over sparse embedding tables and
// take one SparseAdam / SGD step. The epoch's order is BatchSampler's
// permutation for (seed, epoch), so a step depends only on the state and (seed, epoch, step):
// runs repeat bit for bit, whatever the thread count, and resume exactly on the CPU. The step's
// loss is the mean squared error of its ratings before their updates.
//
// Tensors: weights() = user_factors [U, F], item_factors [I, F], user_bias [U], item_bias [I],
// global_mean [1], rating_range [2] (f32; load_weights accepts weights without rating_range and
// then predicts unclamped). state() adds the optimizer's tensors as "optimizer.<name>" (minibatch
// updates only; per-rating SGD has no state beyond the weights).
namespace aisle::models {

void add_biased_mf_keys(recipe::Schema& schema);
std::unique_ptr<train::Model> create_biased_mf();

}  // namespace aisle::models
