// Elementwise family: argument checks, dispatch, and the CPU reference kernels.
// CUDA twin: cuda/elementwise.cu. Formulas: src/ops/elementwise_functors.hpp.
#include "aisle/ops/elementwise.hpp"

#include <algorithm>

#include "cuda/elementwise.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/elementwise_functors.hpp"

namespace aisle::ops {

namespace {
constexpr int64_t kGrain = 1 << 15;

const char* binary_name(Binary op) {
  switch (op) {
    case Binary::add: return "add";
    case Binary::sub: return "sub";
    case Binary::mul: return "mul";
    case Binary::div: return "div";
  }
  return "binary";
}
}  // namespace

const char* unary_name(Unary op) {
  switch (op) {
    case Unary::neg: return "neg";
    case Unary::exp: return "exp";
    case Unary::log: return "log";
    case Unary::sqrt: return "sqrt";
    case Unary::abs: return "abs";
    case Unary::square: return "square";
    case Unary::relu: return "relu";
    case Unary::leaky_relu: return "leaky_relu";
    case Unary::sigmoid: return "sigmoid";
    case Unary::tanh: return "tanh";
    case Unary::gelu: return "gelu";
  }
  return "unary";
}

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  detail::check_float(name, "a", a);
  detail::check_float(name, "b", b);
  detail::check_same_dtype(name, "a", a, "b", b);
  detail::check_same_device(name, "a", a, "b", b);
  const Shape shape = detail::broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  const detail::BroadcastIndex index = detail::make_broadcast_index(shape, a.shape(), b.shape(), name);
  if (a.is_cuda()) {
    AISLE_CUDA_ONLY(name, cuda::binary(op, a, b, out, index, a.shape() == shape && b.shape() == shape));
    return out;
  }
  detail::dispatch_float(a.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    detail::dispatch_binary(op, [&](auto op_c) {
      constexpr Binary kOp = decltype(op_c)::value;
      // Same shapes merge into one axis of strides 1 and 1: a single run per chunk.
      cpu::parallel_for(out.numel(), kGrain, [&](int64_t begin, int64_t end) {
        detail::for_each_broadcast_run(index, begin, end, [&](int64_t i, int64_t ia, int64_t ib, int64_t n,
                                                              int64_t sa, int64_t sb) {
          T* o = po + i;
          const T* x = pa + ia;
          const T* y = pb + ib;
          if (sa == 1 && sb == 1) {
            for (int64_t k = 0; k < n; ++k) o[k] = detail::binary_apply<kOp>(x[k], y[k]);
          } else if (sa == 1 && sb == 0) {
            const T yv = *y;
            for (int64_t k = 0; k < n; ++k) o[k] = detail::binary_apply<kOp>(x[k], yv);
          } else if (sa == 0 && sb == 1) {
            const T xv = *x;
            for (int64_t k = 0; k < n; ++k) o[k] = detail::binary_apply<kOp>(xv, y[k]);
          } else {
            for (int64_t k = 0; k < n; ++k) o[k] = detail::binary_apply<kOp>(x[k * sa], y[k * sb]);
          }
        });
      });
    });
  });
  return out;
}

Tensor unary(Unary op, const Tensor& x, double alpha) {
  const char* name = unary_name(op);
  detail::check_float(name, "x", x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return out;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY(name, cuda::unary(op, x, out, alpha));
    return out;
  }
  detail::dispatch_float(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T a = static_cast<T>(alpha);
    detail::dispatch_unary(op, [&](auto op_c) {
      constexpr Unary kOp = decltype(op_c)::value;
      cpu::parallel_for(x.numel(), kGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) po[i] = detail::unary_apply<kOp>(px[i], a);
      });
    });
  });
  return out;
}

Tensor unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& dy, double alpha) {
  const char* name = unary_name(op);
  detail::check_float(name, "x", x);
  detail::check_same_shape(name, "x", x, "y", y);
  detail::check_same_shape(name, "x", x, "dy", dy);
  detail::check_same_dtype(name, "x", x, "dy", dy);
  detail::check_same_device(name, "x", x, "dy", dy);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return dx;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY(name, cuda::unary_backward(op, x, y, dy, dx, alpha));
    return dx;
  }
  detail::dispatch_float(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    const T *px = x.data<T>(), *py = y.data<T>(), *pdy = dy.data<T>();
    T* pdx = dx.data<T>();
    const T a = static_cast<T>(alpha);
    detail::dispatch_unary(op, [&](auto op_c) {
      constexpr Unary kOp = decltype(op_c)::value;
      cpu::parallel_for(x.numel(), kGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          pdx[i] = detail::unary_grad<kOp>(px[i], py[i], pdy[i], a);
      });
    });
  });
  return dx;
}

Tensor affine(const Tensor& x, double scale, double shift) {
  detail::check_float("affine", "x", x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return out;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY("affine", cuda::affine(x, out, scale, shift));
    return out;
  }
  detail::dispatch_float(x.dtype(), "affine", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T s = static_cast<T>(scale), t = static_cast<T>(shift);
    cpu::parallel_for(x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) po[i] = px[i] * s + t;
    });
  });
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  detail::check_float("masked_fill", "x", x);
  detail::check_defined("masked_fill", "mask", mask);
  AISLE_CHECK(mask.dtype() == DType::u8, "masked_fill: mask must be u8, got ", mask.describe());
  detail::check_same_device("masked_fill", "x", x, "mask", mask);
  const Shape shape = detail::broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  AISLE_CHECK(shape == x.shape(), "masked_fill: mask ", mask.describe(),
              " must broadcast to x's shape ", shape_str(x.shape()));
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return out;
  const auto index = detail::make_broadcast_index(shape, x.shape(), mask.shape(), "masked_fill");
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY("masked_fill", cuda::masked_fill(x, mask, out, value, index));
    return out;
  }
  detail::dispatch_float(x.dtype(), "masked_fill", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const uint8_t* pm = mask.data<uint8_t>();
    T* po = out.data<T>();
    const T v = static_cast<T>(value);
    cpu::parallel_for(x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        int64_t ix, im;
        index.offsets(i, ix, im);
        po[i] = pm[im] ? v : px[ix];
      }
    });
  });
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  detail::check_defined("broadcast_to", "x", x);
  AISLE_CHECK(detail::broadcast_shapes(x.shape(), shape, "broadcast_to") == shape,
              "broadcast_to: ", x.describe(), " cannot be broadcast to ", shape_str(shape));
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  const auto index = detail::make_broadcast_index(shape, x.shape(), Shape{}, "broadcast_to");
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY("broadcast_to", cuda::broadcast_to(x, out, index));
    return out;
  }
  detail::dispatch_any(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    cpu::parallel_for(out.numel(), kGrain, [&](int64_t begin, int64_t end) {
      detail::for_each_broadcast_run(index, begin, end, [&](int64_t i, int64_t ix, int64_t, int64_t n, int64_t sx,
                                                            int64_t) {
        if (sx == 1) std::copy_n(px + ix, n, po + i);
        else if (sx == 0) std::fill_n(po + i, n, px[ix]);
        else for (int64_t k = 0; k < n; ++k) po[i + k] = px[ix + k * sx];
      });
    });
  });
  return out;
}

}  // namespace aisle::ops
