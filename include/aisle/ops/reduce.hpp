#pragma once
#include "aisle/tensor/tensor.hpp"

// Reductions over one axis (negative axes count from the end) of f32/f64 tensors. Sums
// accumulate in f64 with a fixed order, so results do not depend on the thread count.
namespace aisle::ops {

Tensor sum(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor mean(const Tensor& x, int64_t axis, bool keepdim = false);  // an empty axis gives NaN

struct MaxResult {
  Tensor values;
  Tensor indices;  // i64 position along the axis of the first maximum (NaN counts as maximum)
};
MaxResult max(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t axis = -1, bool keepdim = false);

Tensor sum_all(const Tensor& x);   // shape {}
Tensor mean_all(const Tensor& x);  // shape {}

// The inverse of broadcasting: sums x over the axes along which `shape` was broadcast to x.shape().
// Used by backward passes of broadcasting ops.
Tensor sum_to(const Tensor& x, const Shape& shape);

// Backward of max along `axis`: a tensor of x_shape that is zero except dy at each maximum.
// `indices` and `dy` have the reduced shape (with or without the kept axis).
Tensor max_backward(const Tensor& indices, const Tensor& dy, const Shape& x_shape, int64_t axis);

}  // namespace aisle::ops
