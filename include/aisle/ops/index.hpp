#pragma once
#include <cstdint>
#include <vector>

#include "aisle/tensor/tensor.hpp"

// Shape manipulation and indexing along one axis. Axes may be negative (counted from the end).
// Results are always fresh contiguous copies. concat, split, slice, permute, index_select and
// gather move memory and work for every dtype; the backward functions sum and take f32/f64.
// Index tensors are i32 or i64; an out-of-range index throws aisle::Error naming the op, the
// index and the valid range. Duplicate indices are summed in order of appearance on both
// backends, so CPU and CUDA gradients are bit-identical.
namespace aisle::ops {

// Joins tensors along `axis`; every other axis must match. Zero-size pieces are allowed.
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);
// Consecutive pieces of the given sizes along `axis` (the sizes must sum to the axis length).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis);

// Entries start, start + step, ... < end along `axis` (step >= 1). Like Python slicing: negative
// start/end count from the end, and both are clamped to [0, length].
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step = 1);
// dy scattered into zeros of x_shape at the sliced positions.
Tensor slice_backward(const Tensor& dy, const Shape& x_shape, int64_t axis, int64_t start, int64_t end,
                      int64_t step = 1);

// out axis i is x axis dims[i]; dims is a permutation of the axes.
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1);

// Entries of x along `axis` picked by a 1-D index (duplicates allowed):
// out.shape[axis] = index.numel().
Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index);
// Sums dy back into zeros of x_shape along `axis`.
Tensor index_select_backward(const Tensor& dy, int64_t axis, const Tensor& index, const Shape& x_shape);

// PyTorch gather: index has x's rank and x's size on every axis but `axis`; out has index's shape
// and, for axis 1, out[i][j][k] = x[i][index[i][j][k]][k] (e.g. Q(s, a) from [B, A] with [B, 1]).
Tensor gather(const Tensor& x, int64_t axis, const Tensor& index);
// Sums dy into zeros of x_shape at the gathered positions.
Tensor gather_backward(const Tensor& dy, int64_t axis, const Tensor& index, const Shape& x_shape);

}  // namespace aisle::ops
