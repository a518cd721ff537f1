#pragma once
#include "aisle/ops/segment_reduce.hpp"

// Launchers for aisle/ops/segment_reduce.hpp. Arguments are validated by
// src/ops/segment_reduce.cpp; column ids and argmax entries are range-checked in the kernels and
// an out-of-range one is raised as an error naming the op.
namespace aisle::cuda {

// Writes every element of values and argmax ([R, D]).
void neighbor_max(const ops::Csr& graph, const Tensor& x, const Tensor& values, const Tensor& argmax);

// keys[r * D + d] = argmax[r, d] * D + d, the flat position in grad_x [cols, D] that grad_out[r, d]
// adds to, or a spare slot cols * D + (r * D + d) % kNeighborMaxSpareSlots where argmax is -1 (an
// empty row): spread over many slots, the discarded sums of many empty rows do not become one long
// run that a single thread adds up. keys: i64 [R * D].
constexpr int64_t kNeighborMaxSpareSlots = 1024;
void neighbor_max_scatter_keys(const Tensor& argmax, int64_t cols, const Tensor& keys);

}  // namespace aisle::cuda
