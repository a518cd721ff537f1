// Dtype-agnostic kernels behind Tensor: fill, poison, cast, arange. CPU twin: src/tensor/fill_cast.cpp.
#include "cuda/common.cuh"
#include "cuda/fill_cast.hpp"
#include "src/core/dispatch.hpp"
#include "src/tensor/value_convert.hpp"

namespace aisle::cuda {

namespace {

template <class T>
__global__ void fill_kernel(T* out, int64_t n, T value) {
  AISLE_GRID_STRIDE(i, n) out[i] = value;
}

template <class S, class D>
__global__ void cast_kernel(const S* src, D* dst, int64_t n) {
  AISLE_GRID_STRIDE(i, n) dst[i] = detail::convert<D>(src[i]);
}

template <class T>
__global__ void arange_kernel(T* out, int64_t n) {
  AISLE_GRID_STRIDE(i, n) out[i] = detail::from_double<T>(static_cast<double>(i));
}

template <class T>
void launch_fill(const Tensor& t, T value) {
  const int64_t n = t.numel();
  fill_kernel<T><<<grid_for(n), kThreads, 0, stream_of(t)>>>(t.data<T>(), n, value);
  check_launch("fill");
}

}  // namespace

void fill(const Tensor& t, double value) {
  detail::dispatch_any(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    launch_fill<T>(t, detail::from_double<T>(value));
  });
}

void fill_poison(const Tensor& t) {
  detail::dispatch_any(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    launch_fill<T>(t, detail::poison_value<T>());
  });
}

void cast(const Tensor& src, const Tensor& dst) {
  detail::dispatch_any(src.dtype(), [&](auto stag) {
    using S = decltype(stag);
    detail::dispatch_any(dst.dtype(), [&](auto dtag) {
      using D = decltype(dtag);
      const int64_t n = src.numel();
      cast_kernel<S, D><<<grid_for(n), kThreads, 0, stream_of(src)>>>(src.data<S>(), dst.data<D>(), n);
      check_launch("cast");
    });
  });
}

void arange(const Tensor& t) {
  detail::dispatch_any(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = t.numel();
    arange_kernel<T><<<grid_for(n), kThreads, 0, stream_of(t)>>>(t.data<T>(), n);
    check_launch("arange");
  });
}

}  // namespace aisle::cuda
