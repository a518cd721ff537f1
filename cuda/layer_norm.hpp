#pragma once
#include "aisle/tensor/tensor.hpp"

namespace aisle::cuda {

// x, y, dy, dx viewed as [rows, d]; mean, rstd [rows]; gamma, beta [d] or both undefined.
// rows, d >= 1; every output element is written.
void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                const Tensor& mean, const Tensor& rstd, int64_t rows, int64_t d, double eps);
// dgamma/dbeta undefined when gamma is.
void layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dy, const Tensor& dx,
                         const Tensor& dgamma, const Tensor& dbeta, int64_t rows, int64_t d);

// x, y, dy, dx [rows, d]; norm [rows]; rows, d >= 1.
void l2_normalize_rows(const Tensor& x, const Tensor& y, const Tensor& norm, int64_t rows, int64_t d, double eps);
void l2_normalize_rows_backward(const Tensor& y, const Tensor& norm, const Tensor& dy, const Tensor& dx, int64_t rows,
                                int64_t d);

}  // namespace aisle::cuda
