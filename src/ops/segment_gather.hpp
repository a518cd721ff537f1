#pragma once
// Internal: the two CSR-shaped kernels that embedding bags (src/ops/embedding.cpp) and sparse x
// dense products (src/ops/spmm.cpp) share, so each is written once per backend. Both read rows of
// a dense matrix x [rows, d] through a segmented list of entries:
//   embedding_bag: segments = bags,        idx = ids,     weights = per_sample_weights, x = table
//   spmm:          segments = rows of A,   idx = col_idx, weights = values,             x = dense input
// Callers validate shapes, dtypes, devices and the segment structure; these functions check only
// that every idx is a row of x, with errors naming the caller's public `op`.
#include <cstdint>

#include "aisle/tensor/tensor.hpp"

namespace aisle::detail {

struct SegmentedGather {
  Tensor ptr;      // i64 [segments + 1], non-decreasing from 0 to idx.numel(), on x's device
  Tensor idx;      // i32 or i64 [entries]: the row of x each entry reads
  Tensor weights;  // [entries] in x's dtype, or undefined for weight 1
};

// out[s] = sum over the entries j of segment s, in entry order, of weights[j] * x[idx[j]], times
// 1/|s| when `mean`; empty segments give zero rows. out: [segments, d], every element written.
// The CPU and CUDA kernels agree bit for bit.
void segment_gather_sum(const char* op, const SegmentedGather& g, const Tensor& x, bool mean, const Tensor& out);

// The SDDMM: out[j] = dot(dy[segment of j], x[idx[j]]) for every entry j. dy: [segments, d];
// out: [entries]. The CUDA dot sums lanes in a tree, so it matches the CPU to rounding only.
void segment_gather_dot(const char* op, const SegmentedGather& g, const Tensor& x, const Tensor& dy,
                        const Tensor& out);

// Segments per CPU parallel chunk for a loop over segments of about entries / segments entries of
// width d each.
int64_t segment_grain(int64_t segments, int64_t entries, int64_t d);

}  // namespace aisle::detail
