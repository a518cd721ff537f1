#pragma once
#include <cstdint>
#include <string>

#include "aisle/data/pairwise_batches.hpp"
#include "aisle/recipe/recipe.hpp"

// LightGCN's hyperparameters, read from a recipe (the keys are added in config.cpp).
namespace aisle::models::lightgcn {

struct Config {
  int64_t factors = 64;
  int64_t layers = 3;
  double init_std = 0.1;
  double reg = 1e-4;
  int64_t batch_size = 2048;
  double lr = 1e-3;
  int64_t negatives = 1;  // per positive
  data::PairSampling pair_sampling = data::PairSampling::rows;

  static Config from_recipe(const recipe::Recipe& recipe);
  std::string to_json() const;
};

}  // namespace aisle::models::lightgcn
