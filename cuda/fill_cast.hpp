#pragma once
#include "aisle/tensor/tensor.hpp"

namespace aisle::cuda {

void fill(const Tensor& t, double value);
void fill_poison(const Tensor& t);
void cast(const Tensor& src, const Tensor& dst);
void arange(const Tensor& t);

}  // namespace aisle::cuda
