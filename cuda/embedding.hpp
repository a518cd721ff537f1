#pragma once
#include "aisle/ops/embedding.hpp"

// Launchers for the embedding-bag family. Arguments are validated by src/ops/embedding.cpp;
// `offsets` is i64 on the device; `weights` may be undefined.
namespace aisle::cuda {

void embedding_bag(const Tensor& table, const Tensor& ids, const Tensor& offsets, ops::BagMode mode,
                   const Tensor& weights, const Tensor& out);
void embedding_bag_backward(const Tensor& offsets, const Tensor& dy, ops::BagMode mode,
                            const Tensor& weights, const Tensor& rows);
void embedding_bag_weights_backward(const Tensor& table, const Tensor& ids, const Tensor& offsets,
                                    const Tensor& dy, const Tensor& dw);

}  // namespace aisle::cuda
