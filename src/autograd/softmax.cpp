// Backward rules of the softmax family (forward kernels: src/ops/softmax.cpp). Both gradients
// need only the forward output, so that is all the closures keep.
#include "aisle/autograd/softmax.hpp"

#include "aisle/ops/softmax.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

Var softmax(const Var& x) {
  const Tensor y = ops::softmax(x.value());
  return record("softmax", y, {x}, [y](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
    return {ops::softmax_backward(y, dy)};
  });
}

Var log_softmax(const Var& x) {
  const Tensor y = ops::log_softmax(x.value());
  return record("log_softmax", y, {x}, [y](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
    return {ops::log_softmax_backward(y, dy)};
  });
}

}  // namespace aisle
