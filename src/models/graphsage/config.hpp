#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "aisle/data/pairwise_batches.hpp"
#include "aisle/recipe/recipe.hpp"
#include "src/models/graphsage/feature_graph.hpp"

// GraphSAGE's hyperparameters, read from a recipe (the keys are added in config.cpp).
namespace aisle::models::graphsage {

enum class Aggregator { mean, pool };

struct Config {
  int64_t factors = 64;                      // width of the input rows
  std::vector<int64_t> layer_sizes{64, 64};  // output width of each SAGE layer; the last is the embedding
  std::vector<int64_t> fanouts{10, 10};      // neighbours sampled per hop, nearest hop first (-1: all)
  Aggregator aggregator = Aggregator::mean;
  bool normalize = true;                     // L2-normalise the hidden layers' outputs
  FeatureGraphOptions graph;
  double reg = 1e-4;
  double init_std = 0.1;
  int64_t batch_size = 1024;
  double lr = 1e-3;
  int64_t negatives = 1;
  data::PairSampling pair_sampling = data::PairSampling::rows;
  bool known_negatives = true;  // draw negatives only from items with training rows
  bool export_user_states = true;  // weights() carries every layer's input at the users (add-items' early buyers)
  double cold_item_rate = 0;    // share of a step's items trained as if new (user neighbours hidden; cold_items.hpp)

  int64_t width() const { return layer_sizes.back(); }
  static Config from_recipe(const recipe::Recipe& recipe);
  std::string to_json() const;
};

const char* aggregator_name(Aggregator a);

}  // namespace aisle::models::graphsage
