#pragma once
#include <cstdint>

#include "aisle/ops/embedding_update.hpp"

// Launchers of the optimizer steps fused into the embedding-bag backward. Arguments are validated
// by src/ops/embedding_update.cpp, except the ids' range, which these check on the device (while
// sorting, before the update kernel is launched).
namespace aisle::cuda {

void embedding_bag_rowwise_adagrad_step(const Tensor& table, const Tensor& row_accumulator,
                                        const ops::BagGradient& grad, const ops::RowWiseAdagradHyper& hyper,
                                        const HalfRounding& rounding);
void embedding_bag_sparse_adam_step(const Tensor& table, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                                    const ops::BagGradient& grad, const ops::SparseAdamHyper& hyper,
                                    const HalfRounding& rounding);

}  // namespace aisle::cuda
