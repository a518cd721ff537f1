#pragma once
#include <cstdint>

#include "aisle/tensor/tensor.hpp"

// Elementwise ops on f32/f64 tensors. Binary ops broadcast like NumPy; both inputs must share
// dtype and device. Backward functions return the gradient w.r.t. the input given the forward
// values and the output gradient; binary backward is composition (see autograd/elementwise.cpp).
namespace aisle::ops {

enum class Binary : uint8_t { add, sub, mul, div };

Tensor binary(Binary op, const Tensor& a, const Tensor& b);
inline Tensor add(const Tensor& a, const Tensor& b) { return binary(Binary::add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(Binary::sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(Binary::mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(Binary::div, a, b); }

enum class Unary : uint8_t {
  neg, exp, log, sqrt, abs, square,
  relu, leaky_relu,  // leaky_relu's negative slope is `alpha`
  sigmoid, tanh,
  gelu,              // exact: x * Phi(x)
};
const char* unary_name(Unary op);

Tensor unary(Unary op, const Tensor& x, double alpha = 0.0);
// dL/dx from x, y = unary(op, x) and dL/dy.
Tensor unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& dy,
                      double alpha = 0.0);

inline Tensor relu(const Tensor& x) { return unary(Unary::relu, x); }
inline Tensor leaky_relu(const Tensor& x, double slope = 0.01) { return unary(Unary::leaky_relu, x, slope); }
inline Tensor sigmoid(const Tensor& x) { return unary(Unary::sigmoid, x); }
inline Tensor tanh(const Tensor& x) { return unary(Unary::tanh, x); }
inline Tensor gelu(const Tensor& x) { return unary(Unary::gelu, x); }
inline Tensor exp(const Tensor& x) { return unary(Unary::exp, x); }
inline Tensor log(const Tensor& x) { return unary(Unary::log, x); }

// y = x * scale + shift.
Tensor affine(const Tensor& x, double scale, double shift = 0.0);

// out = mask ? value : x, where `mask` (u8) broadcasts to x's shape.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

// Copies x into the larger `shape` it broadcasts to. Works for any dtype.
Tensor broadcast_to(const Tensor& x, const Shape& shape);

}  // namespace aisle::ops
