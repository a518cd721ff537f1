#pragma once
#include "aisle/autograd/var.hpp"
#include "aisle/tensor/random.hpp"

// Differentiable elementwise ops. Binary ops broadcast like NumPy; their gradients are summed
// back to each input's shape.
namespace aisle {

Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);

Var neg(const Var& x);
Var exp(const Var& x);
Var log(const Var& x);
Var sqrt(const Var& x);
Var abs(const Var& x);
Var square(const Var& x);
Var relu(const Var& x);
Var leaky_relu(const Var& x, double negative_slope = 0.01);
Var sigmoid(const Var& x);
Var tanh(const Var& x);
Var gelu(const Var& x);

// x * scale + shift
Var affine(const Var& x, double scale, double shift = 0.0);
// mask ? value : x, with a u8 mask broadcastable to x (attention masks, padding).
Var masked_fill(const Var& x, const Tensor& mask, double value);
Var broadcast_to(const Var& x, const Shape& shape);
// Inverted dropout: zero with probability p and scale the rest by 1/(1-p) when training;
// the identity otherwise. The mask comes from `gen`, so it is the same on CPU and GPU.
Var dropout(const Var& x, double p, Generator& gen, bool training = true);

inline Var operator+(const Var& a, const Var& b) { return add(a, b); }
inline Var operator-(const Var& a, const Var& b) { return sub(a, b); }
inline Var operator*(const Var& a, const Var& b) { return mul(a, b); }
inline Var operator/(const Var& a, const Var& b) { return div(a, b); }
inline Var operator-(const Var& x) { return neg(x); }
inline Var operator+(const Var& x, double s) { return affine(x, 1.0, s); }
inline Var operator+(double s, const Var& x) { return affine(x, 1.0, s); }
inline Var operator-(const Var& x, double s) { return affine(x, 1.0, -s); }
inline Var operator-(double s, const Var& x) { return affine(x, -1.0, s); }
inline Var operator*(const Var& x, double s) { return affine(x, s); }
inline Var operator*(double s, const Var& x) { return affine(x, s); }
inline Var operator/(const Var& x, double s) { return affine(x, 1.0 / s); }
Var operator/(double s, const Var& x);

}  // namespace aisle
