#pragma once
// Internal: the per-element formulas of the elementwise family, shared verbatim by the CPU kernels
// (src/ops/elementwise.cpp) and the CUDA kernels (cuda/elementwise.cu).
#include "aisle/ops/elementwise.hpp"
#include "src/ops/math.hpp"

namespace aisle::detail {

template <ops::Binary Op, class T>
AISLE_HD inline T binary_apply(T a, T b) {
  if constexpr (Op == ops::Binary::add) return a + b;
  else if constexpr (Op == ops::Binary::sub) return a - b;
  else if constexpr (Op == ops::Binary::mul) return a * b;
  else return a / b;
}

template <class T>
AISLE_HD inline T std_normal_cdf(T x) { return T(0.5) * (T(1) + erf_(x * T(0.70710678118654752440))); }

template <ops::Unary Op, class T>
AISLE_HD inline T unary_apply(T x, T alpha) {
  using ops::Unary;
  if constexpr (Op == Unary::neg) return -x;
  else if constexpr (Op == Unary::exp) return exp_(x);
  else if constexpr (Op == Unary::log) return log_(x);
  else if constexpr (Op == Unary::sqrt) return sqrt_(x);
  else if constexpr (Op == Unary::abs) return abs_(x);
  else if constexpr (Op == Unary::square) return x * x;
  else if constexpr (Op == Unary::relu) return x > T(0) ? x : T(0);
  else if constexpr (Op == Unary::leaky_relu) return x > T(0) ? x : alpha * x;
  else if constexpr (Op == Unary::sigmoid) return sigmoid_(x);
  else if constexpr (Op == Unary::tanh) return tanh_(x);
  else return x * std_normal_cdf(x);  // gelu
}

// dL/dx for one element, given x, y = f(x), dL/dy.
template <ops::Unary Op, class T>
AISLE_HD inline T unary_grad(T x, T y, T dy, T alpha) {
  using ops::Unary;
  if constexpr (Op == Unary::neg) return -dy;
  else if constexpr (Op == Unary::exp) return dy * y;
  else if constexpr (Op == Unary::log) return dy / x;
  else if constexpr (Op == Unary::sqrt) return dy / (T(2) * y);
  else if constexpr (Op == Unary::abs) return x > T(0) ? dy : (x < T(0) ? -dy : T(0));
  else if constexpr (Op == Unary::square) return T(2) * x * dy;
  else if constexpr (Op == Unary::relu) return x > T(0) ? dy : T(0);
  else if constexpr (Op == Unary::leaky_relu) return x > T(0) ? dy : alpha * dy;
  else if constexpr (Op == Unary::sigmoid) return dy * y * (T(1) - y);
  else if constexpr (Op == Unary::tanh) return dy * (T(1) - y * y);
  else {  // gelu: Phi(x) + x * phi(x)
    const T pdf = T(0.39894228040143267794) * exp_(T(-0.5) * x * x);
    return dy * (std_normal_cdf(x) + x * pdf);
  }
}

// Calls f(std::integral_constant<Unary, op>) for the runtime op, so kernels are templated on it.
template <class F>
decltype(auto) dispatch_unary(ops::Unary op, F&& f) {
  using ops::Unary;
  switch (op) {
#define AISLE_UNARY_CASE(name) \
  case Unary::name: return f(std::integral_constant<Unary, Unary::name>{});
    AISLE_UNARY_CASE(neg) AISLE_UNARY_CASE(exp) AISLE_UNARY_CASE(log) AISLE_UNARY_CASE(sqrt)
    AISLE_UNARY_CASE(abs) AISLE_UNARY_CASE(square) AISLE_UNARY_CASE(relu)
    AISLE_UNARY_CASE(leaky_relu) AISLE_UNARY_CASE(sigmoid) AISLE_UNARY_CASE(tanh)
    AISLE_UNARY_CASE(gelu)
#undef AISLE_UNARY_CASE
  }
  AISLE_FAIL("unknown unary op");
}

template <class F>
decltype(auto) dispatch_binary(ops::Binary op, F&& f) {
  using ops::Binary;
  switch (op) {
    case Binary::add: return f(std::integral_constant<Binary, Binary::add>{});
    case Binary::sub: return f(std::integral_constant<Binary, Binary::sub>{});
    case Binary::mul: return f(std::integral_constant<Binary, Binary::mul>{});
    case Binary::div: return f(std::integral_constant<Binary, Binary::div>{});
  }
  AISLE_FAIL("unknown binary op");
}

}  // namespace aisle::detail
