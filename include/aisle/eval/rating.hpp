#pragma once
#include <cstdint>
#include <functional>
#include <limits>

#include "aisle/core/device.hpp"
#include "aisle/data/interactions.hpp"
#include "aisle/eval/result.hpp"
#include "aisle/tensor/tensor.hpp"

// Rating prediction metrics over all n (user, item) pairs of a test set (pooled over pairs, not
// averaged per user, as Surprise and the MovieLens literature report them):
//   RMSE = sqrt(sum_j (prediction_j - rating_j)^2 / n)
//   MAE  = sum_j |prediction_j - rating_j| / n
// Sums are taken in double in pair order (deterministic).
namespace aisle::eval {

// predictions and targets: f32/f64, equal element counts, any device (copied to the host).
double rmse(const Tensor& predictions, const Tensor& targets);
double mae(const Tensor& predictions, const Tensor& targets);

// Predicts ratings: users i64 [B] and items i64 [B] on the evaluation device -> f32/f64 [B].
using PairScorer = std::function<Tensor(const Tensor& users, const Tensor& items)>;

struct RatingOptions {
  int64_t batch_size = 1 << 16;  // pairs predicted at once
  Device device = Device::cpu();
  // Predictions are clipped to [clip_min, clip_max] before scoring (e.g. the 1..5 star range).
  double clip_min = -std::numeric_limits<double>::infinity();
  double clip_max = std::numeric_limits<double>::infinity();
};

// Reports RMSE and MAE against test.values; users = distinct users in test, cases = pairs.
EvalResult evaluate_ratings(const PairScorer& scorer, const data::Interactions& test, const RatingOptions& options = {});

}  // namespace aisle::eval
