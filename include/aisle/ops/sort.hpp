#pragma once
#include "aisle/tensor/tensor.hpp"

// Ordering utilities: top-k, sort, unique, bincount. Not differentiable (use gather_rows on the
// returned indices to build a differentiable selection).
//
// One order for every op and both backends: values compare as numbers, except that NaN counts as
// larger than everything (all NaNs equal to one another) and -0.0 equals 0.0. Equal values keep
// their original order (lower position first), ascending or descending. The CPU and CUDA kernels
// share the key mapping that defines this order (src/ops/sort_functors.hpp), so they agree exactly.
// Returned values are the input's own elements, so a -0.0 or a NaN payload comes back unchanged.
namespace aisle::ops {

struct TopK {
  Tensor values;   // x.shape with the last axis replaced by k
  Tensor indices;  // i64 positions along the last axis
};
// The k largest (or smallest) entries along the last axis of an f32/f64/i32/i64 tensor, best first.
// Requires 0 <= k <= x.size(-1). CPU: bounded-heap or nth_element selection per row, rows in
// parallel, so rows of ~1e5 items with small k cost about one pass over the row.
TopK topk(const Tensor& x, int64_t k, bool largest = true);

struct Sorted {
  Tensor values;   // x.shape
  Tensor indices;  // i64 positions along the last axis
};
// Stable sort along the last axis of an f32/f64/i32/i64 tensor.
Sorted sort(const Tensor& x, bool descending = false);

struct Unique {
  Tensor values;   // 1-D, ascending, x.dtype
  Tensor inverse;  // i64, x.shape: values[inverse[i]] equals x[i]
  Tensor counts;   // i64, one per value
};
// Distinct values of the flattened f32/f64/i32/i64 tensor. Under the order above, all NaNs form one
// value (last), and -0.0 and 0.0 form one value; each distinct value is reported as its first
// occurrence in x.
Unique unique(const Tensor& x);

// Counts of each non-negative integer in a 1-D i32/i64 tensor, length max(max(x) + 1, minlength),
// as i64. With `weights` (f32/f64, same length) sums the weights of each value instead, in the
// weights' dtype, adding them in order of position (deterministic; identical on CPU and CUDA).
// Negative values throw naming the value and its position.
Tensor bincount(const Tensor& x, int64_t minlength = 0, const Tensor& weights = {});

}  // namespace aisle::ops
