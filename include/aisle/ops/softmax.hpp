#pragma once
#include "aisle/tensor/tensor.hpp"

// Softmax over the last axis of f32/f64 tensors, numerically stable (each row is shifted by its
// maximum, so logits of +-1000 stay finite). Masked entries may be -inf: they get probability 0
// (log-probability -inf). A row that is entirely -inf has no defined distribution and comes out
// NaN, as in PyTorch. Row sums accumulate in double.
namespace aisle::ops {

Tensor softmax(const Tensor& x);
// dL/dx from y = softmax(x) and dL/dy: y * (dy - sum(dy * y)) per row.
Tensor softmax_backward(const Tensor& y, const Tensor& dy);

Tensor log_softmax(const Tensor& x);
// dL/dx from y = log_softmax(x) and dL/dy: dy - exp(y) * sum(dy) per row.
Tensor log_softmax_backward(const Tensor& y, const Tensor& dy);

}  // namespace aisle::ops
