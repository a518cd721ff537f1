#pragma once
#include "aisle/tensor/tensor.hpp"

namespace aisle::cuda {

// The largest k the selection path takes: its candidates live in shared memory and are ranked
// in O(k^2). Larger k goes through the full sort (sort_rows).
constexpr int64_t kTopkSelectMaxK = 256;

// x viewed as [rows, n]: the first k of each row in the sort family's order (ascending, or
// descending), ties by position, into values/indices [rows, k]; exactly sort_rows' result for
// 1 <= k <= min(n, kTopkSelectMaxK), by radix selection instead of a sort (cuda/topk.cu).
void topk_select(const Tensor& x, int64_t rows, int64_t n, int64_t k, bool descending, const Tensor& values,
                 const Tensor& indices);

}  // namespace aisle::cuda
