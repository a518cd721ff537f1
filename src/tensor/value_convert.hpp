#pragma once
// Internal: element conversion used by cast and fill on both backends. Float-to-integer
// conversion truncates toward zero, maps NaN to 0 and saturates at the integer's range, so no
// input is undefined behaviour.
#include <cstdint>
#include <limits>
#include <type_traits>

#include "aisle/core/half.hpp"
#include "aisle/core/macros.hpp"

namespace aisle::detail {

template <class T> AISLE_HD inline double to_double(T v) { return static_cast<double>(v); }
template <> AISLE_HD inline double to_double<bf16>(bf16 v) { return static_cast<float>(v); }
template <> AISLE_HD inline double to_double<f16>(f16 v) { return static_cast<float>(v); }

template <class T>
AISLE_HD inline T from_double(double v) {
  if constexpr (std::is_same_v<T, bf16> || std::is_same_v<T, f16>) {
    return T(static_cast<float>(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (!(v == v)) return T(0);  // NaN
    constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
    if (v <= lo) return std::numeric_limits<T>::min();
    if (v >= hi) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

// Element conversion between any two dtypes. Integer-to-integer stays exact (no trip through
// double, which would round i64 values above 2^53).
template <class D, class S>
AISLE_HD inline D convert(S v) {
  if constexpr (std::is_integral_v<S> && std::is_integral_v<D>) return static_cast<D>(v);
  else return from_double<D>(to_double(v));
}

// Poison values for Tensor::empty under set_poison_uninitialized(true).
template <class T>
AISLE_HD inline T poison_value() {
  if constexpr (std::is_integral_v<T>) {
    if constexpr (sizeof(T) == 1) return T(0x5A);
    else if constexpr (sizeof(T) == 4) return T(0x5A5A5A5A);
    else return T(0x5A5A5A5A5A5A5A5ALL);
  } else {
    return from_double<T>(std::numeric_limits<double>::quiet_NaN());
  }
}

}  // namespace aisle::detail
