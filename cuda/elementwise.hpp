#pragma once
#include "aisle/ops/elementwise.hpp"
#include "src/ops/broadcast.hpp"

namespace aisle::cuda {

void binary(ops::Binary op, const Tensor& a, const Tensor& b, const Tensor& out,
            const detail::BroadcastIndex& index, bool same_shape);
void unary(ops::Unary op, const Tensor& x, const Tensor& out, double alpha);
void unary_backward(ops::Unary op, const Tensor& x, const Tensor& y, const Tensor& dy,
                    const Tensor& dx, double alpha);
void affine(const Tensor& x, const Tensor& out, double scale, double shift);
void masked_fill(const Tensor& x, const Tensor& mask, const Tensor& out, double value,
                 const detail::BroadcastIndex& index);
void broadcast_to(const Tensor& x, const Tensor& out, const detail::BroadcastIndex& index);

}  // namespace aisle::cuda
