#pragma once
#include "aisle/tensor/tensor.hpp"

namespace aisle::cuda {

// x, y, dy, dx viewed as [rows, d] with rows, d >= 1; every output element is written.
void softmax(const Tensor& x, const Tensor& y, int64_t rows, int64_t d, bool log);
void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, int64_t rows, int64_t d,
                      bool log);

}  // namespace aisle::cuda
