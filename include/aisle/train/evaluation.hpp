#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "aisle/data/interactions.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/eval/result.hpp"
#include "aisle/recipe/recipe.hpp"
#include "aisle/train/model.hpp"

// A model evaluated the way its recipe asks (eval.*): full ranking with training items masked,
// sampled ranking (eval.negatives per test item), or rating error, on the model's device.
namespace aisle::train {

enum class Protocol { full_ranking, sampled_ranking, ratings };

struct EvalSettings {
  Protocol protocol = Protocol::full_ranking;
  std::vector<int64_t> ks{20};
  int64_t batch_size = 1024;
  int64_t negatives = 100;
  uint64_t seed = 0;
  std::vector<std::string> shown;  // metric names printed on the console
  double clip_min = -1e300, clip_max = 1e300;  // ratings: the training value range
  bool cold_items = false;  // ranking: add cold_<metric> over the test rows of items without training rows
};

// Throws aisle::Error naming eval.protocol when it does not suit the model (ratings for a
// ranking-only model).
EvalSettings eval_settings(const recipe::Recipe& recipe, const Model& model, const data::Interactions& train);

// With settings.cold_items, the metrics also hold cold_<metric>: the same protocol over only the
// target rows whose items have no row in `train` (every item still ranked), averaged over the users
// who have such rows, and "cold_users", their number (absent when no user has one).
eval::EvalResult evaluate_model(const Model& model, const EvalSettings& settings, const data::UserItemIndex& train,
                                const data::Interactions& target);

// The rows of `target` whose items appear in no row of `train`.
data::Interactions cold_item_rows(const data::UserItemIndex& train, const data::Interactions& target);

// Whether a larger value of the metric is better (false for RMSE, MAE).
bool higher_is_better(const std::string& metric);

}  // namespace aisle::train
