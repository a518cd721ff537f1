#pragma once
// Internal: the order every op of the sort family uses, shared verbatim by the CPU kernels
// (src/ops/sort.cpp) and the CUDA kernels (cuda/sort.cu). A value maps to an unsigned key whose
// natural order is the value order: NaN (any payload, any sign) is the largest key, -0.0 and 0.0
// map to the same key. Descending orders flip every bit, which reverses the key order exactly, so
// ascending sorts of (key, position) give both directions with ties in position order.
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "aisle/core/dtype.hpp"
#include "aisle/core/error.hpp"
#include "aisle/core/macros.hpp"

namespace aisle::detail {

template <class T>
using sort_key_t = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

template <class T>
AISLE_HD inline sort_key_t<T> sort_key(T value) {
  using K = sort_key_t<T>;
  constexpr K sign = K(1) << (sizeof(K) * 8 - 1);
  K bits;
  if constexpr (std::is_floating_point_v<T>) {
    if (value != value) return ~K(0);
    if (value == T(0)) value = T(0);  // -0.0 becomes +0.0
    memcpy(&bits, &value, sizeof bits);
    // Negative floats: larger magnitude is smaller, so flip all bits; positives: set the sign bit
    // so they sort above every negative.
    return (bits & sign) ? ~bits : (bits | sign);
  } else {
    memcpy(&bits, &value, sizeof bits);
    return bits ^ sign;  // two's complement to offset binary
  }
}

// The key under which ascending order is the requested order.
template <class T>
AISLE_HD inline sort_key_t<T> directed_sort_key(T value, bool descending) {
  const sort_key_t<T> k = sort_key(value);
  return descending ? ~k : k;
}

// f32, f64, i32 and i64: the dtypes the sort family orders.
template <class F>
decltype(auto) dispatch_sortable(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::i32: return f(int32_t{});
    case DType::i64: return f(int64_t{});
    default:
      AISLE_FAIL(op, ": expected a f32, f64, i32 or i64 tensor, got ", dtype_name(dtype));
  }
}

}  // namespace aisle::detail
