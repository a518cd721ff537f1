#pragma once
#include "aisle/ops/embedding.hpp"

// Launcher for the embedding-bag table gradient (the forward pass and the weights gradient launch
// the shared kernels of cuda/segment_gather.hpp). Arguments are validated by
// src/ops/embedding.cpp; `offsets` is i64 on the device; `weights` may be undefined.
namespace aisle::cuda {

void embedding_bag_backward(const Tensor& offsets, const Tensor& dy, ops::BagMode mode,
                            const Tensor& weights, const Tensor& rows);

}  // namespace aisle::cuda
