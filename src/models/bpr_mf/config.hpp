#pragma once
#include <cstdint>
#include <string>

#include "aisle/core/dtype.hpp"
#include "aisle/data/pairwise_batches.hpp"
#include "aisle/recipe/recipe.hpp"

// BPR-MF's hyperparameters, read from a recipe (the keys are added in config.cpp).
namespace aisle::models::bpr {

struct Config {
  int64_t factors = 64;
  std::string table_dtype = "f32";  // f32 | bf16 | f16: how user_factors and item_factors are stored
  bool stochastic_rounding = true;  // 16-bit tables: round updated rows stochastically
  double init_std = 0.1;
  bool item_bias = false;
  double reg = 0.01;
  int64_t batch_size = 2048;
  double lr = 1e-3;
  std::string optimizer = "adam";  // adam (lazy, SparseAdam) | sgd | adagrad | rowwise_adagrad
  int64_t negatives = 1;           // per positive
  data::PairSampling pair_sampling = data::PairSampling::rows;
  std::string negative_sampling = "uniform";  // uniform | popularity
  double popularity_alpha = 0.75;
  // On several ranks (dist.*): auto | replicated | sharded, and the planner's budget (0: half of
  // the device's or host's memory).
  std::string embeddings = "auto";
  double memory_per_rank_gib = 0;

  static Config from_recipe(const recipe::Recipe& recipe);
  bool half_tables() const { return table_dtype != "f32"; }
  DType table_storage() const;
  std::string to_json() const;
};

}  // namespace aisle::models::bpr
