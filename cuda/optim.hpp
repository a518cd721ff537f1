#pragma once
#include "aisle/ops/optim.hpp"

// CUDA launchers of the optim family. Arguments, ids included, are validated by src/ops/optim.cpp
// before any launch, so a bad call writes nothing.
namespace aisle::cuda {

// Throws aisle::Error naming `op` unless the i64 ids lie in [0, bound) and strictly increase.
// Synchronises with the device.
void check_coalesced_ids(const char* op, const Tensor& indices, int64_t bound);

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf,
                const ops::SgdHyper& hyper);
void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                 const Tensor& exp_avg_sq, const ops::AdamHyper& hyper);
void adagrad_update(const Tensor& param, const Tensor& grad, const Tensor& state_sum,
                    const ops::AdagradHyper& hyper);

void sparse_sgd_update(const Tensor& param, const ops::SparseRows& grad, double lr, int64_t row_elems);
void sparse_adam_update(const Tensor& param, const ops::SparseRows& grad, const Tensor& exp_avg,
                        const Tensor& exp_avg_sq, const ops::SparseAdamHyper& hyper, int64_t row_elems);
void sparse_adagrad_update(const Tensor& param, const ops::SparseRows& grad, const Tensor& state_sum,
                           const ops::AdagradHyper& hyper, int64_t row_elems);
void rowwise_adagrad_update(const Tensor& param, const ops::SparseRows& grad,
                            const Tensor& row_accumulator, const ops::RowWiseAdagradHyper& hyper,
                            int64_t row_elems);

}  // namespace aisle::cuda
