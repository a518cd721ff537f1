#pragma once
#include <memory>

#include "aisle/recipe/schema.hpp"
#include "aisle/train/model.hpp"

// Item-kNN baseline (model.type: item_knn; Sarwar et al. 2001, Deshpande & Karypis 2004): items
// are similar when the same users interact with them, and a user's score for an item is the sum
// of its similarities to the items in the user's history. Fitted in one step (iterative() false).
//
// Keys: model.neighbors (100): neighbours kept per item; model.shrink (0): added to the cosine's
// denominator, damping similarities supported by few users; model.weighting (binary): the user x
// item matrix holds 1 for every distinct pair, or (values) the summed row values.
//
// Fit (CPU, whatever ctx.device is): sim(i, j) = <x_i, x_j> / (|x_i| |x_j| + shrink) over item
// columns, accumulated per item in a dense per-thread array of size I (memory O(I * N) plus one
// such array per thread, never I x I); each item keeps its top N (ties: lower item id), items in
// parallel with a fixed per-item summation order, so the result is independent of the thread
// count. Scoring: score[u, j] = sum over u's distinct training items h of sim(h, j), added in
// ascending h; on the CPU a direct loop over users, on CUDA gather_rows + scatter_add from the op
// catalogue, adding in the same order.
//
// Weights (= state): "neighbor_items" i64 [I, N] and "neighbor_weights" f32 [I, N] (rows padded
// with -1 / 0), and the user histories scoring needs: "history_offsets" i64 [U + 1],
// "history_items" i64 [nnz].
namespace aisle::models {

void add_item_knn_keys(recipe::Schema& schema);
std::unique_ptr<train::Model> create_item_knn();

}  // namespace aisle::models
