// Softmax family: argument checks, dispatch, and the CPU kernels. CUDA twin: cuda/softmax.cu;
// both evaluate the formulas in src/ops/softmax_functors.hpp. Rows are independent, so threads
// split the rows and each row is reduced in order: results do not depend on the thread count.
#include "aisle/ops/softmax.hpp"

#include <limits>

#include "cuda/softmax.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/softmax_functors.hpp"

namespace aisle::ops {

namespace {

constexpr int64_t kGrainElements = 1 << 14;

int64_t row_grain(int64_t d) { return std::max<int64_t>(1, kGrainElements / std::max<int64_t>(d, 1)); }

void check_input(const char* op, const Tensor& x) {
  detail::check_float(op, "x", x);
  AISLE_CHECK(x.dim() >= 1, op, ": x needs at least one axis (the one normalised), got ", x.describe());
}

Tensor forward(const char* op, const Tensor& x, bool log) {
  check_input(op, x);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return y;
  const int64_t d = x.size(-1), rows = x.numel() / d;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::softmax(x, y, rows, d, log));
    return y;
  }
  detail::dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    cpu::parallel_for(rows, row_grain(d), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* xr = px + r * d;
        T* yr = py + r * d;
        T mx = -std::numeric_limits<T>::infinity();
        for (int64_t j = 0; j < d; ++j) mx = detail::nan_max(mx, xr[j]);
        double sum = 0;
        for (int64_t j = 0; j < d; ++j) sum += static_cast<double>(detail::exp_(xr[j] - mx));
        if (log) {
          const T log_sum = static_cast<T>(detail::log_(sum));
          for (int64_t j = 0; j < d; ++j) yr[j] = detail::log_softmax_value(xr[j], mx, log_sum);
        } else {
          const T inv_sum = static_cast<T>(1.0 / sum);
          for (int64_t j = 0; j < d; ++j) yr[j] = detail::softmax_value(xr[j], mx, inv_sum);
        }
      }
    });
  });
  return y;
}

Tensor backward(const char* op, const Tensor& y, const Tensor& dy, bool log) {
  check_input(op, y);
  detail::check_same_shape(op, "y", y, "dy", dy);
  detail::check_same_dtype(op, "y", y, "dy", dy);
  detail::check_same_device(op, "y", y, "dy", dy);
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  if (y.numel() == 0) return dx;
  const int64_t d = y.size(-1), rows = y.numel() / d;
  if (y.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::softmax_backward(y, dy, dx, rows, d, log));
    return dx;
  }
  detail::dispatch_float(y.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* py = y.data<T>();
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
    cpu::parallel_for(rows, row_grain(d), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* yr = py + r * d;
        const T* dyr = pdy + r * d;
        T* dxr = pdx + r * d;
        double acc = 0;
        if (log) {
          for (int64_t j = 0; j < d; ++j) acc += static_cast<double>(dyr[j]);
          const T sum_dy = static_cast<T>(acc);
          for (int64_t j = 0; j < d; ++j) dxr[j] = detail::log_softmax_grad(yr[j], dyr[j], sum_dy);
        } else {
          for (int64_t j = 0; j < d; ++j) acc += static_cast<double>(dyr[j]) * static_cast<double>(yr[j]);
          const T dot = static_cast<T>(acc);
          for (int64_t j = 0; j < d; ++j) dxr[j] = detail::softmax_grad(yr[j], dyr[j], dot);
        }
      }
    });
  });
  return dx;
}

}  // namespace

Tensor softmax(const Tensor& x) { return forward("softmax", x, false); }
Tensor log_softmax(const Tensor& x) { return forward("log_softmax", x, true); }
Tensor softmax_backward(const Tensor& y, const Tensor& dy) { return backward("softmax_backward", y, dy, false); }
Tensor log_softmax_backward(const Tensor& y, const Tensor& dy) {
  return backward("log_softmax_backward", y, dy, true);
}

}  // namespace aisle::ops
