#pragma once
// Internal: running per-metric sums for the protocols. Each evaluated user contributes one value
// per metric (NaN where a metric does not apply to the user, e.g. AUC with no negatives). Values
// are added in ascending user order whatever the batching, so the means do not depend on the
// batch size or the thread count.
#include <cmath>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"

namespace aisle::eval::detail {

class MetricSums {
 public:
  explicit MetricSums(std::vector<std::string> names)
      : names_(std::move(names)), sums_(names_.size(), 0.0), counts_(names_.size(), 0) {}

  size_t size() const { return names_.size(); }
  // One user's values, in the order of the names given at construction.
  void add(std::span<const double> values) {
    AISLE_CHECK(values.size() == names_.size(), "MetricSums: ", values.size(), " values for ", names_.size(), " metrics");
    for (size_t m = 0; m < values.size(); ++m)
      if (!std::isnan(values[m])) sums_[m] += values[m], ++counts_[m];
  }
  // Each metric's mean over the users it applied to; metrics that applied to none are left out.
  std::map<std::string, double> means() const {
    std::map<std::string, double> out;
    for (size_t m = 0; m < names_.size(); ++m)
      if (counts_[m] > 0) out[names_[m]] = sums_[m] / static_cast<double>(counts_[m]);
    return out;
  }

 private:
  std::vector<std::string> names_;
  std::vector<double> sums_;
  std::vector<int64_t> counts_;
};

inline std::string at_k(const char* metric, int64_t k) { return std::string(metric).append("@").append(std::to_string(k)); }

}  // namespace aisle::eval::detail
