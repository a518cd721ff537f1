#pragma once
#include "aisle/tensor/tensor.hpp"
#include "src/ops/random_functors.hpp"

namespace aisle::cuda {

void random_fill(detail::RandomKind kind, const Tensor& out, const detail::RandomParams& params);

}  // namespace aisle::cuda
