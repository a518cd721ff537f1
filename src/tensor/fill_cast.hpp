#pragma once
// Internal: the dtype-agnostic kernels the Tensor class itself needs (CPU here, CUDA in
// cuda/fill_cast.cu).
#include "aisle/tensor/tensor.hpp"

namespace aisle::detail {

void fill(const Tensor& t, double value);
void fill_poison(const Tensor& t);
void cast(const Tensor& src, const Tensor& dst);  // same shape and device, any dtypes
void arange(const Tensor& t);                     // t[i] = i

}  // namespace aisle::detail
