#include "aisle/autograd/shape.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;

Var reshape(const Var& x, const Shape& shape) {
  const Shape from = x.shape();
  return autograd::record("reshape", x.value().reshape(shape), {x},
                          [from](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                            return {dy.reshape(from)};
                          });
}

}  // namespace aisle
