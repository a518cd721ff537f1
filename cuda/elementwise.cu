// Elementwise family on CUDA. CPU twin and reference: src/ops/elementwise.cpp; both evaluate the
// formulas in src/ops/elementwise_functors.hpp.
#include "cuda/common.cuh"
#include "cuda/elementwise.hpp"
#include "src/core/dispatch.hpp"
#include "src/ops/elementwise_functors.hpp"

namespace aisle::cuda {

namespace {

template <ops::Binary Op, class T>
__global__ void binary_same_kernel(const T* a, const T* b, T* out, int64_t n) {
  AISLE_GRID_STRIDE(i, n) out[i] = detail::binary_apply<Op>(a[i], b[i]);
}

template <ops::Binary Op, class T>
__global__ void binary_broadcast_kernel(const T* a, const T* b, T* out, int64_t n,
                                        detail::BroadcastIndex index) {
  AISLE_GRID_STRIDE(i, n) {
    int64_t ia, ib;
    index.offsets(i, ia, ib);
    out[i] = detail::binary_apply<Op>(a[ia], b[ib]);
  }
}

template <ops::Unary Op, class T>
__global__ void unary_kernel(const T* x, T* out, int64_t n, T alpha) {
  AISLE_GRID_STRIDE(i, n) out[i] = detail::unary_apply<Op>(x[i], alpha);
}

template <ops::Unary Op, class T>
__global__ void unary_backward_kernel(const T* x, const T* y, const T* dy, T* dx, int64_t n, T alpha) {
  AISLE_GRID_STRIDE(i, n) dx[i] = detail::unary_grad<Op>(x[i], y[i], dy[i], alpha);
}

template <class T>
__global__ void affine_kernel(const T* x, T* out, int64_t n, T scale, T shift) {
  AISLE_GRID_STRIDE(i, n) out[i] = x[i] * scale + shift;
}

template <class T>
__global__ void masked_fill_kernel(const T* x, const uint8_t* mask, T* out, int64_t n, T value,
                                   detail::BroadcastIndex index) {
  AISLE_GRID_STRIDE(i, n) {
    int64_t ix, im;
    index.offsets(i, ix, im);
    out[i] = mask[im] ? value : x[ix];
  }
}

template <class T>
__global__ void broadcast_kernel(const T* x, T* out, int64_t n, detail::BroadcastIndex index) {
  AISLE_GRID_STRIDE(i, n) {
    int64_t ix, unused;
    index.offsets(i, ix, unused);
    out[i] = x[ix];
  }
}

}  // namespace

void binary(ops::Binary op, const Tensor& a, const Tensor& b, const Tensor& out,
            const detail::BroadcastIndex& index, bool same_shape) {
  detail::dispatch_float(a.dtype(), "binary", [&](auto tag) {
    using T = decltype(tag);
    detail::dispatch_binary(op, [&](auto op_c) {
      constexpr ops::Binary kOp = decltype(op_c)::value;
      const int64_t n = out.numel();
      if (same_shape)
        binary_same_kernel<kOp, T><<<grid_for(n), kThreads, 0, stream_of(out)>>>(
            a.data<T>(), b.data<T>(), out.data<T>(), n);
      else
        binary_broadcast_kernel<kOp, T><<<grid_for(n), kThreads, 0, stream_of(out)>>>(
            a.data<T>(), b.data<T>(), out.data<T>(), n, index);
      check_launch("binary");
    });
  });
}

void unary(ops::Unary op, const Tensor& x, const Tensor& out, double alpha) {
  detail::dispatch_float(x.dtype(), ops::unary_name(op), [&](auto tag) {
    using T = decltype(tag);
    detail::dispatch_unary(op, [&](auto op_c) {
      constexpr ops::Unary kOp = decltype(op_c)::value;
      const int64_t n = x.numel();
      unary_kernel<kOp, T><<<grid_for(n), kThreads, 0, stream_of(x)>>>(
          x.data<T>(), out.data<T>(), n, static_cast<T>(alpha));
      check_launch(ops::unary_name(op));
    });
  });
}

void unary_backward(ops::Unary op, const Tensor& x, const Tensor& y, const Tensor& dy,
                    const Tensor& dx, double alpha) {
  detail::dispatch_float(x.dtype(), ops::unary_name(op), [&](auto tag) {
    using T = decltype(tag);
    detail::dispatch_unary(op, [&](auto op_c) {
      constexpr ops::Unary kOp = decltype(op_c)::value;
      const int64_t n = x.numel();
      unary_backward_kernel<kOp, T><<<grid_for(n), kThreads, 0, stream_of(x)>>>(
          x.data<T>(), y.data<T>(), dy.data<T>(), dx.data<T>(), n, static_cast<T>(alpha));
      check_launch(ops::unary_name(op));
    });
  });
}

void affine(const Tensor& x, const Tensor& out, double scale, double shift) {
  detail::dispatch_float(x.dtype(), "affine", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = x.numel();
    affine_kernel<T><<<grid_for(n), kThreads, 0, stream_of(x)>>>(
        x.data<T>(), out.data<T>(), n, static_cast<T>(scale), static_cast<T>(shift));
    check_launch("affine");
  });
}

void masked_fill(const Tensor& x, const Tensor& mask, const Tensor& out, double value,
                 const detail::BroadcastIndex& index) {
  detail::dispatch_float(x.dtype(), "masked_fill", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = out.numel();
    masked_fill_kernel<T><<<grid_for(n), kThreads, 0, stream_of(x)>>>(
        x.data<T>(), mask.data<uint8_t>(), out.data<T>(), n, static_cast<T>(value), index);
    check_launch("masked_fill");
  });
}

void broadcast_to(const Tensor& x, const Tensor& out, const detail::BroadcastIndex& index) {
  detail::dispatch_any(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = out.numel();
    broadcast_kernel<T><<<grid_for(n), kThreads, 0, stream_of(x)>>>(x.data<T>(), out.data<T>(), n, index);
    check_launch("broadcast_to");
  });
}

}  // namespace aisle::cuda
