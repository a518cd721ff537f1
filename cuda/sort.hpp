#pragma once
#include "aisle/ops/sort.hpp"

namespace aisle::cuda {

// x viewed as [rows, n]: sorts each row stably by the family's order (ascending, or descending)
// and writes the first k of each sorted row to values/indices ([rows, k]). k == n is a full sort.
void sort_rows(const Tensor& x, int64_t rows, int64_t n, int64_t k, bool descending,
               const Tensor& values, const Tensor& indices);

ops::Unique unique(const Tensor& x);

struct BincountScan {
  int64_t max_value;       // -1 when x holds no non-negative value
  int64_t first_negative;  // position of the first negative value, -1 if none
  int64_t negative_value;  // x[first_negative] when there is one
};
BincountScan bincount_scan(const Tensor& x);
// out pre-zeroed, long enough for every value of x (checked by bincount_scan).
void bincount(const Tensor& x, const Tensor& weights, const Tensor& out);

}  // namespace aisle::cuda
