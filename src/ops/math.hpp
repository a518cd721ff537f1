#pragma once
// Internal: scalar math (qualified with :: because aisle::exp(Var) and ops::exp(Tensor) would
// otherwise hide the C functions inside the aisle namespaces) picked by precision (expf for float, exp for double), callable from host
// code and CUDA device code alike, so both backends evaluate the same formula.
#include <math.h>

#include "aisle/core/macros.hpp"

namespace aisle::detail {

template <class T> AISLE_HD inline T exp_(T x) { if constexpr (sizeof(T) == 4) return ::expf(x); else return ::exp(x); }
template <class T> AISLE_HD inline T log_(T x) { if constexpr (sizeof(T) == 4) return ::logf(x); else return ::log(x); }
template <class T> AISLE_HD inline T log1p_(T x) { if constexpr (sizeof(T) == 4) return ::log1pf(x); else return ::log1p(x); }
template <class T> AISLE_HD inline T tanh_(T x) { if constexpr (sizeof(T) == 4) return ::tanhf(x); else return ::tanh(x); }
template <class T> AISLE_HD inline T erf_(T x) { if constexpr (sizeof(T) == 4) return ::erff(x); else return ::erf(x); }
template <class T> AISLE_HD inline T sqrt_(T x) { if constexpr (sizeof(T) == 4) return ::sqrtf(x); else return ::sqrt(x); }
template <class T> AISLE_HD inline T abs_(T x) { if constexpr (sizeof(T) == 4) return ::fabsf(x); else return ::fabs(x); }
template <class T> AISLE_HD inline T cos_(T x) { if constexpr (sizeof(T) == 4) return ::cosf(x); else return ::cos(x); }
template <class T> AISLE_HD inline T sin_(T x) { if constexpr (sizeof(T) == 4) return ::sinf(x); else return ::sin(x); }

// Numerically stable logistic function and log(sigmoid(x)).
template <class T> AISLE_HD inline T sigmoid_(T x) {
  if (x >= T(0)) return T(1) / (T(1) + exp_(-x));
  const T e = exp_(x);
  return e / (T(1) + e);
}
template <class T> AISLE_HD inline T log_sigmoid_(T x) {
  return x >= T(0) ? -log1p_(exp_(-x)) : x - log1p_(exp_(x));
}

}  // namespace aisle::detail
