#include "aisle/eval/rating.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "aisle/core/error.hpp"

namespace aisle::eval {

namespace {

constexpr const char* kProtocol = "evaluate_ratings";

struct ErrorSums {
  double squared = 0.0;
  double absolute = 0.0;
  int64_t count = 0;

  void add(double prediction, double target) {
    const double e = prediction - target;
    squared += e * e;
    absolute += std::abs(e);
    ++count;
  }
};

std::vector<double> host_values(const char* metric, const char* name, const Tensor& t) {
  AISLE_CHECK(t.defined(), metric, ": ", name, " is an undefined tensor");
  AISLE_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64, metric, ": ", name, " must be f32 or f64, got ",
              t.describe());
  return t.to_doubles();
}

ErrorSums error_sums(const char* metric, const Tensor& predictions, const Tensor& targets) {
  const std::vector<double> p = host_values(metric, "predictions", predictions);
  const std::vector<double> y = host_values(metric, "targets", targets);
  AISLE_CHECK(p.size() == y.size(), metric, ": predictions ", predictions.describe(), " and targets ",
              targets.describe(), " hold different numbers of values");
  AISLE_CHECK(!p.empty(), metric, ": no values to score");
  ErrorSums sums;
  for (size_t j = 0; j < p.size(); ++j) sums.add(p[j], y[j]);
  return sums;
}

}  // namespace

double rmse(const Tensor& predictions, const Tensor& targets) {
  const ErrorSums s = error_sums("rmse", predictions, targets);
  return std::sqrt(s.squared / static_cast<double>(s.count));
}

double mae(const Tensor& predictions, const Tensor& targets) {
  const ErrorSums s = error_sums("mae", predictions, targets);
  return s.absolute / static_cast<double>(s.count);
}

EvalResult evaluate_ratings(const PairScorer& scorer, const data::Interactions& test, const RatingOptions& options) {
  AISLE_CHECK(static_cast<bool>(scorer), kProtocol, ": no scorer given");
  AISLE_CHECK(options.batch_size >= 1, kProtocol, ": batch_size must be at least 1, got ", options.batch_size);
  AISLE_CHECK(!(options.clip_min > options.clip_max), kProtocol, ": clip_min ", options.clip_min,
              " is above clip_max ", options.clip_max);
  test.validate(kProtocol);
  const int64_t n = test.size();
  AISLE_CHECK(n > 0, kProtocol, ": the test set holds no ratings");
  const std::vector<double> targets = test.values.to_doubles();
  const int64_t* users = test.users.data<int64_t>();
  const int64_t* items = test.items.data<int64_t>();

  ErrorSums sums;
  for (int64_t j0 = 0; j0 < n; j0 += options.batch_size) {
    const int64_t rows = std::min(options.batch_size, n - j0);
    const Tensor predictions = scorer(Tensor::from_host(users + j0, {rows}, DType::i64, options.device),
                                      Tensor::from_host(items + j0, {rows}, DType::i64, options.device));
    AISLE_CHECK(predictions.defined() && predictions.numel() == rows && predictions.device() == options.device,
                kProtocol, ": the scorer must return ", rows, " predictions on ", options.device.str(), ", got ",
                predictions.defined() ? predictions.describe() : std::string("an undefined tensor"));
    const std::vector<double> p = host_values(kProtocol, "predictions", predictions);
    for (int64_t b = 0; b < rows; ++b) {
      AISLE_CHECK(!std::isnan(p[static_cast<size_t>(b)]), kProtocol, ": the scorer predicted NaN for user ",
                  users[j0 + b], ", item ", items[j0 + b]);
      sums.add(std::clamp(p[static_cast<size_t>(b)], options.clip_min, options.clip_max), targets[static_cast<size_t>(j0 + b)]);
    }
  }
  std::vector<bool> seen(static_cast<size_t>(test.num_users), false);
  int64_t distinct_users = 0;
  for (int64_t j = 0; j < n; ++j)
    if (!seen[static_cast<size_t>(users[j])]) seen[static_cast<size_t>(users[j])] = true, ++distinct_users;

  EvalResult result;
  result.metrics["RMSE"] = std::sqrt(sums.squared / static_cast<double>(n));
  result.metrics["MAE"] = sums.absolute / static_cast<double>(n);
  result.users = distinct_users;
  result.cases = n;
  return result;
}

}  // namespace aisle::eval
