#pragma once
#include "aisle/ops/index.hpp"
#include "src/ops/index_functors.hpp"

namespace aisle::cuda {

// `copy` counts rows and inner in elements of src's dtype; dst's other elements are left as they are.
void axis_copy(const Tensor& src, const Tensor& dst, const detail::AxisCopy& copy, const char* op);
void permute(const Tensor& x, const Tensor& out, const detail::PermuteIndex& index);
// x viewed as [outer, len, inner], out as [outer, index.numel(), inner].
void index_select(const Tensor& x, const Tensor& index, const Tensor& out, int64_t len, int64_t inner);
// x viewed as [outer, len, inner], index and out as [outer, m, inner].
void gather(const Tensor& x, const Tensor& index, const Tensor& out, int64_t m, int64_t len, int64_t inner);
// i64 destination ids (select_row / gather_element) for the scatter_add that sums the
// gradients; out-of-range indices throw naming `op`.
Tensor select_rows(const Tensor& index, int64_t outer, int64_t len, const char* op);
Tensor gather_elements(const Tensor& index, int64_t m, int64_t len, int64_t inner, const char* op);

}  // namespace aisle::cuda
