#pragma once
#include <cstdint>

#include "aisle/ops/spmm.hpp"
#include "aisle/tensor/tensor.hpp"

// Segment reductions over the rows of a CSR graph: GraphSAGE's max-pool aggregator (the mean
// aggregator is spmm with 1/deg values). Only the graph's structure (row_ptr, col_idx) is read;
// its values are ignored and may be undefined or of any float dtype. Both backends scan each row's
// neighbours in CSR order and compare exactly, so CPU and CUDA agree bit for bit, argmax included.
namespace aisle::ops {

struct NeighborMaxResult {
  Tensor values;  // [R, D], x's dtype
  Tensor argmax;  // i64 [R, D]: the column c (a row of x) that won, -1 for rows with no neighbours
};

// out[r, d] = max over the neighbours c of row r (graph [R, C]) of x[c, d], x [C, D] f32/f64.
//  - A row with no neighbours gives 0 and argmax -1 (the PyG / DGL convention: an isolated node
//    aggregates nothing, rather than -inf).
//  - Ties: the FIRST neighbour in CSR order wins; duplicate neighbours therefore count once.
//  - NaN counts as the maximum (first NaN wins), as in ops::max.
// CPU graphs get their row_ptr (ends and order) and column ids checked on every call; CUDA graphs
// get column ids checked in the kernel and are trusted otherwise (build them with make_csr).
NeighborMaxResult neighbor_max(const Csr& graph, const Tensor& x);

// Gradient of neighbor_max w.r.t. x: grad_x [cols, D] = 0, then grad_out[r, d] is added to
// grad_x[argmax[r, d], d] for every r with argmax[r, d] >= 0. Each element sums its contributions
// in increasing r on both backends (CUDA: the stable sort-based ops::scatter_add), so results are
// deterministic and CPU / CUDA bit-identical. argmax: i64 [R, D] with entries in [-1, cols).
Tensor neighbor_max_backward(const Tensor& argmax, const Tensor& grad_out, int64_t cols);

}  // namespace aisle::ops
