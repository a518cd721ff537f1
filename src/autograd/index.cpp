// Backward rules of the index family (forward kernels: src/ops/index.cpp).
#include "aisle/autograd/index.hpp"

#include "aisle/ops/index.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

Var concat(const std::vector<Var>& xs, int64_t axis) {
  std::vector<Tensor> values;
  for (const Var& x : xs) values.push_back(x.value());
  Tensor out = ops::concat(values, axis);
  std::vector<int64_t> sizes;
  for (const Tensor& v : values) sizes.push_back(v.size(axis));
  return record("concat", std::move(out), xs,
                [sizes, axis](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  std::vector<Grad> grads(sizes.size());
                  int64_t offset = 0;
                  for (size_t i = 0; i < sizes.size(); ++i) {
                    if (needs[i]) grads[i] = ops::slice(dy, axis, offset, offset + sizes[i]);
                    offset += sizes[i];
                  }
                  return grads;
                });
}

std::vector<Var> split(const Var& x, const std::vector<int64_t>& sizes, int64_t axis) {
  std::vector<Tensor> pieces = ops::split(x.value(), sizes, axis);
  const Shape xs = x.shape();
  std::vector<Var> out;
  int64_t offset = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const int64_t start = offset, end = offset + sizes[i];
    out.push_back(record("split", std::move(pieces[i]), {x},
                         [xs, axis, start, end](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                           return {ops::slice_backward(dy, xs, axis, start, end)};
                         }));
    offset = end;
  }
  return out;
}

Var slice(const Var& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  const Shape xs = x.shape();
  return record("slice", ops::slice(x.value(), axis, start, end, step), {x},
                [xs, axis, start, end, step](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::slice_backward(dy, xs, axis, start, end, step)};
                });
}

Var permute(const Var& x, const std::vector<int64_t>& dims) {
  Tensor out = ops::permute(x.value(), dims);  // validates dims before the inverse is built
  const int64_t rank = x.dim();
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i)
    inverse[static_cast<size_t>(dims[i] < 0 ? dims[i] + rank : dims[i])] = static_cast<int64_t>(i);
  return record("permute", std::move(out), {x},
                [inverse](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::permute(dy, inverse)};
                });
}

Var transpose(const Var& x, int64_t axis0, int64_t axis1) {
  return record("transpose", ops::transpose(x.value(), axis0, axis1), {x},
                [axis0, axis1](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::transpose(dy, axis0, axis1)};
                });
}

Var index_select(const Var& x, int64_t axis, const Tensor& index) {
  const Shape xs = x.shape();
  return record("index_select", ops::index_select(x.value(), axis, index), {x},
                [xs, axis, index](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::index_select_backward(dy, axis, index, xs)};
                });
}

Var gather(const Var& x, int64_t axis, const Tensor& index) {
  const Shape xs = x.shape();
  return record("gather", ops::gather(x.value(), axis, index), {x},
                [xs, axis, index](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  return {ops::gather_backward(dy, axis, index, xs)};
                });
}

}  // namespace aisle
