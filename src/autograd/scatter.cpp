// Backward rules of the scatter family (forward kernels: src/ops/scatter.cpp).
#include "aisle/autograd/scatter.hpp"

#include "aisle/ops/scatter.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

Var gather_rows(const Var& src, const Tensor& index) {
  const int64_t rows = src.size(0);
  return record("gather_rows", ops::gather_rows(src.value(), index), {src},
                [index, rows](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  // One gradient row per looked-up id; the engine keeps them sparse for sparse
                  // tables and scatters them densely otherwise.
                  const int64_t n = index.numel();
                  Shape row_shape{n};
                  row_shape.insert(row_shape.end(), dy.shape().begin() + index.dim(), dy.shape().end());
                  return {ops::SparseRows{index.reshape({n}).to(DType::i64), dy.reshape(row_shape)}};
                });
}

Var scatter_add(const Var& src, const Tensor& index, int64_t dim_size) {
  return record("scatter_add", ops::scatter_add(src.value(), index, dim_size), {src},
                [index](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::gather_rows(dy, index)};
                });
}

Var segment_sum(const Var& src, const Tensor& offsets) {
  return record("segment_sum", ops::segment_sum(src.value(), offsets), {src},
                [offsets](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::segment_sum_backward(dy, offsets)};
                });
}

}  // namespace aisle
