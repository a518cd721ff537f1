// Backward rules of the segment_reduce family (kernels: src/ops/segment_reduce.cpp).
#include "aisle/autograd/segment_reduce.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

Var neighbor_max(const ops::Csr& graph, const Var& x) {
  ops::NeighborMaxResult r = ops::neighbor_max(graph, x.value());
  const Tensor argmax = r.argmax;
  const int64_t cols = graph.cols;
  return record("neighbor_max", std::move(r.values), {x},
                [argmax, cols](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::neighbor_max_backward(argmax, dy, cols)};
                });
}

}  // namespace aisle
