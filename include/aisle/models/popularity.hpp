#pragma once
#include <memory>

#include "aisle/recipe/schema.hpp"
#include "aisle/train/model.hpp"

// Popularity baseline (model.type: popularity): every user gets the same ranking, the items most
// interacted with in the training data first. Fitted in one step (iterative() is false).
//
// Keys: model.count = users (distinct users per item, the default) | rows (training rows per item)
// | values (summed row values per item, e.g. quantities).
//
// The counts are computed on the CPU (integer counts, or values summed in row order, so the
// result is deterministic) and kept as "item_scores" f32 [items] on the model's device, which is
// the whole state and the whole of weights(). score_users broadcasts them to [B, items] with
// ops::broadcast_to, on the CPU or CUDA alike; ties rank the lower item id first (ops::topk).
namespace aisle::models {

void add_popularity_keys(recipe::Schema& schema);
std::unique_ptr<train::Model> create_popularity();

}  // namespace aisle::models
