#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "aisle/data/pairwise_batches.hpp"
#include "aisle/recipe/recipe.hpp"

// NGCF's hyperparameters, read from a recipe (the keys are added in config.cpp).
namespace aisle::models::ngcf {

struct Config {
  int64_t factors = 64;                           // ego size d_0
  std::vector<int64_t> layer_sizes{64, 64, 64};   // d_1 .. d_L
  double reg = 1e-5;
  double message_dropout = 0.1;
  double node_dropout = 0;  // rate of adjacency entries dropped per step (the reference's node_dropout)
  int64_t batch_size = 1024;
  double lr = 1e-4;
  int64_t negatives = 1;  // per positive
  data::PairSampling pair_sampling = data::PairSampling::rows;

  // Width of the final (concatenated) embeddings: factors + sum of layer_sizes.
  int64_t final_width() const;
  static Config from_recipe(const recipe::Recipe& recipe);
  std::string to_json() const;
};

}  // namespace aisle::models::ngcf
