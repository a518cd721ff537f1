#pragma once
#include "aisle/tensor/tensor.hpp"

namespace aisle::cuda {

// x viewed as [outer, len, inner]; out (and indices for max) as [outer, inner].
enum class ReduceMode { sum, mean, max };
void reduce(ReduceMode mode, const Tensor& x, int64_t outer, int64_t len, int64_t inner,
            const Tensor& out, const Tensor& indices);
void max_backward(const Tensor& indices, const Tensor& dy, const Tensor& dx, int64_t outer,
                  int64_t len, int64_t inner);

}  // namespace aisle::cuda
