#pragma once
#include "aisle/autograd/var.hpp"
#include "aisle/ops/segment_reduce.hpp"

// Differentiable neighbour reductions for graph models (GraphSAGE max-pool aggregation).
namespace aisle {

// out[r, d] = max over the neighbours c of row r of x[c, d] (graph [R, C], x [C, D]); rows with
// no neighbours give 0. Semantics in aisle/ops/segment_reduce.hpp. The gradient w.r.t. x routes
// each output element's gradient to its (first) winning neighbour; the graph is not differentiable.
Var neighbor_max(const ops::Csr& graph, const Var& x);

}  // namespace aisle
