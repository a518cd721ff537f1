#pragma once
// Internal: the two CSR-shaped kernels that embedding bags (src/ops/embedding.cpp) and sparse x
// dense products (src/ops/spmm.cpp) share, so each is written once per backend. Both read rows of
// a dense matrix x [rows, d] through a segmented list of entries:
//   embedding_bag: segments = bags,        idx = ids,     weights = per_sample_weights, x = table
//   spmm:          segments = rows of A,   idx = col_idx, weights = values,             x = dense input
// Callers validate shapes, dtypes, devices and the segment structure; these functions check only
// that every idx is a row of x, with errors naming the caller's public `op`. x may be stored in
// bf16 or f16 (embedding tables): its rows are then widened and summed in f32, and weights, dy
// and out are f32 (the compute dtype, src/core/storage.hpp).
#include <cstdint>

#include "aisle/tensor/tensor.hpp"

namespace aisle::detail {

struct SegmentedGather {
  Tensor ptr;      // i64 [segments + 1], non-decreasing from 0 to idx.numel(), on x's device
  Tensor idx;      // i32 or i64 [entries]: the row of x each entry reads
  Tensor weights;  // [entries] in x's dtype, or undefined for weight 1
};

// What the gather-sum does with each finished row while it is still in registers or cache, so graph
// propagation needs no separate pass over [segments, d] tensors (spmm_fused):
//   out[s] += addend[s]                          when addend is defined, then
//   total[s] = (total[s] + out[s]) * total_scale when total is defined (in place).
// Both are [segments, d], contiguous, in x's dtype and on x's device.
struct GatherEpilogue {
  Tensor addend;
  Tensor total;
  double total_scale = 1;
};

// out[s] = sum over the entries j of segment s, in entry order, of weights[j] * x[idx[j]], times
// 1/|s| when `mean`; empty segments give zero rows; then the epilogue. out: [segments, d], every
// element written. The CPU and CUDA kernels agree bit for bit.
void segment_gather_sum(const char* op, const SegmentedGather& g, const Tensor& x, bool mean, const Tensor& out,
                        const GatherEpilogue& epilogue = {});

// The SDDMM: out[j] = dot(dy[segment of j], x[idx[j]]) for every entry j. dy: [segments, d];
// out: [entries]. The CUDA dot sums lanes in a tree, so it matches the CPU to rounding only.
void segment_gather_dot(const char* op, const SegmentedGather& g, const Tensor& x, const Tensor& dy,
                        const Tensor& out);

// Multiply-adds worth one CPU parallel chunk in the segmented loops (cpu::parallel_for_segments).
constexpr int64_t kSegmentChunkWork = 1 << 15;

}  // namespace aisle::detail
