#pragma once
// Internal: acc + a * b rounded twice (product, then sum), never fused into an FMA. nvcc contracts
// a * b + c into an FMA by default while the host compiler does not, so kernels that accumulate
// products in the same order on both backends use this to stay bit-identical to the CPU reference.
#include "aisle/core/macros.hpp"

namespace aisle::detail {

template <class T>
AISLE_HD inline T madd_unfused(T acc, T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) return __fadd_rn(acc, __fmul_rn(a, b));
  else return __dadd_rn(acc, __dmul_rn(a, b));
#else
  const T product = a * b;  // a separate statement: contraction only applies within one expression
  return acc + product;
#endif
}

}  // namespace aisle::detail
