#pragma once
#include "aisle/tensor/tensor.hpp"

// Row gather/scatter: the memory-movement core under embeddings, index_select, message passing
// and sparse gradients. Rows are slices along axis 0. Index tensors are i32 or i64; out-of-range
// indices throw aisle::Error naming the op and the index (on CUDA via a device-side flag checked
// after the launch). Every reduction here is deterministic: duplicates are summed in the order
// they appear, on both backends, so CPU and CUDA results are bit-identical — unless deterministic
// mode is off (aisle/core/determinism.hpp), when scatter_add on CUDA adds with atomics.
namespace aisle::ops {

// Row gradients of a table: row r of `rows` belongs to table row indices[r] (i64). Indices may
// repeat until coalesced.
struct SparseRows {
  Tensor indices;  // i64 [n]
  Tensor rows;     // [n, ...row shape]
};

// out[i] = src[index[i]]: shape index.shape + src.shape[1:]. Any dtype.
Tensor gather_rows(const Tensor& src, const Tensor& index);

// out[index[i]] += src[i] for a [dim_size, ...] result that starts at zero. f32/f64. On CUDA with
// deterministic() off: atomics, the summation order of duplicates not fixed.
Tensor scatter_add(const Tensor& src, const Tensor& index, int64_t dim_size);
// In place: dst[index[i]] += src[i], each row of dst summing its contributions after its own value
// in order of appearance (so scatter_add is this into zeros). dst: [dim_size, ...src's row shape],
// same dtype and device. Returns dst.
Tensor& scatter_add_(Tensor& dst, const Tensor& src, const Tensor& index);

// Merges duplicate indices: unique indices in ascending order, each with the sum of its rows.
SparseRows coalesce_rows(const Tensor& indices, const Tensor& rows);

// out[b] = sum of src rows [offsets[b], offsets[b+1]); offsets has B+1 non-decreasing entries
// from 0 to src.size(0). Empty segments give zero rows.
Tensor segment_sum(const Tensor& src, const Tensor& offsets);
// Backward of segment_sum: row i of the result is dy[segment of i].
Tensor segment_sum_backward(const Tensor& dy, const Tensor& offsets);

}  // namespace aisle::ops
