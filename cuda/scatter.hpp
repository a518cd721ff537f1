#pragma once
#include "aisle/ops/scatter.hpp"

namespace aisle::cuda {

void gather_rows(const Tensor& src, const Tensor& index, const Tensor& out, int64_t row_elems);
// Sorts (index, position) pairs and sums each run of equal indices in position order.
// scatter: adds the sums into out's rows ([dim_size, row]) after their own values.
void scatter_add(const Tensor& src, const Tensor& index, const Tensor& out, int64_t row_elems);
// The same with one atomicAdd per element: no sort, summation order not fixed (deterministic
// mode off only).
void scatter_add_atomic(const Tensor& src, const Tensor& index, const Tensor& out, int64_t row_elems);
ops::SparseRows coalesce_rows(const Tensor& indices, const Tensor& rows, int64_t row_elems);
void segment_sum(const Tensor& src, const Tensor& offsets, const Tensor& out, int64_t row_elems);
void segment_sum_backward(const Tensor& dy, const Tensor& offsets, const Tensor& out, int64_t row_elems);

}  // namespace aisle::cuda
