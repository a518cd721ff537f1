#pragma once
// Internal: turning a runtime dtype into a compile-time element type. Each helper calls
// f(T{}) with the matching type, so op bodies are written once as generic lambdas.
#include <cstdint>

#include "aisle/config.hpp"
#include "aisle/core/dtype.hpp"
#include "aisle/core/error.hpp"

namespace aisle::detail {

// f32 and f64: the dtypes every differentiable op computes in.
template <class F>
decltype(auto) dispatch_float(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    default:
      AISLE_FAIL(op, ": expected a f32 or f64 tensor, got ", dtype_name(dtype));
  }
}

// f32, f64, bf16 and f16: the element types a table may be stored in (src/core/storage.hpp).
template <class F>
decltype(auto) dispatch_storage(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::bf16: return f(bf16{});
    case DType::f16: return f(f16{});
    default:
      AISLE_FAIL(op, ": expected a f32, f64, bf16 or f16 tensor, got ", dtype_name(dtype));
  }
}

// i32 and i64: ids, offsets, targets.
template <class F>
decltype(auto) dispatch_index(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::i32: return f(int32_t{});
    case DType::i64: return f(int64_t{});
    default:
      AISLE_FAIL(op, ": expected an i32 or i64 index tensor, got ", dtype_name(dtype));
  }
}

// Every dtype, for dtype-agnostic kernels (fill, cast, copy).
template <class F>
decltype(auto) dispatch_any(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::bf16: return f(bf16{});
    case DType::f16: return f(f16{});
    case DType::i32: return f(int32_t{});
    case DType::i64: return f(int64_t{});
    case DType::u8: return f(uint8_t{});
  }
  AISLE_FAIL("dispatch: unknown dtype");
}

[[noreturn]] void throw_no_cuda(const char* op);

}  // namespace aisle::detail

// Inside an op's dispatch: the CUDA call in CUDA builds, an error naming the op otherwise.
#if AISLE_WITH_CUDA
#define AISLE_CUDA_ONLY(op, ...) __VA_ARGS__
#else
#define AISLE_CUDA_ONLY(op, ...) ::aisle::detail::throw_no_cuda(op)
#endif
