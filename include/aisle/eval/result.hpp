#pragma once
#include <cstdint>
#include <map>
#include <string>

// What an evaluation protocol returns: metric values by name ("Recall@20", "NDCG@20", "MRR",
// "AUC", "RMSE", ...), each the mean over the evaluated users (ranking) or pairs (ratings).
namespace aisle::eval {

struct EvalResult {
  std::map<std::string, double> metrics;
  int64_t users = 0;  // users evaluated: those with at least one test item (or rating)
  int64_t cases = 0;  // test items ranked, or rating pairs predicted

  // The value of one metric; throws aisle::Error listing the available names if it is missing.
  double at(const std::string& name) const;
  // The metrics cut at K, keyed without the suffix: at_k(20) = {"Recall": ..., "NDCG": ...}.
  std::map<std::string, double> at_k(int64_t k) const;
  // {"metrics": {"NDCG@20": 0.1, ...}, "users": 100, "cases": 250} on one line.
  std::string to_json() const;
};

}  // namespace aisle::eval
