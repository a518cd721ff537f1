#include "src/tensor/fill_cast.hpp"

#include "cuda/fill_cast.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/tensor/value_convert.hpp"

namespace aisle::detail {

namespace {
constexpr int64_t kGrain = 1 << 16;
}

void fill(const Tensor& t, double value) {
  if (t.numel() == 0) return;
  if (t.is_cuda()) {
    AISLE_CUDA_ONLY("fill", cuda::fill(t, value));
    return;
  }
  dispatch_any(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    const T v = from_double<T>(value);
    cpu::parallel_for(t.numel(), kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = v;
    });
  });
}

void fill_poison(const Tensor& t) {
  if (t.numel() == 0) return;
  if (t.is_cuda()) {
    AISLE_CUDA_ONLY("fill", cuda::fill_poison(t));
    return;
  }
  dispatch_any(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    const T v = poison_value<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = v;
  });
}

void cast(const Tensor& src, const Tensor& dst) {
  AISLE_CHECK(src.shape() == dst.shape() && src.device() == dst.device(), "cast: source ",
              src.describe(), " and destination ", dst.describe(), " differ in shape or device");
  if (src.numel() == 0) return;
  if (src.is_cuda()) {
    AISLE_CUDA_ONLY("cast", cuda::cast(src, dst));
    return;
  }
  dispatch_any(src.dtype(), [&](auto stag) {
    using S = decltype(stag);
    dispatch_any(dst.dtype(), [&](auto dtag) {
      using D = decltype(dtag);
      const S* s = src.data<S>();
      D* d = dst.data<D>();
      cpu::parallel_for(src.numel(), kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) d[i] = convert<D>(s[i]);
      });
    });
  });
}

void arange(const Tensor& t) {
  if (t.numel() == 0) return;
  if (t.is_cuda()) {
    AISLE_CUDA_ONLY("arange", cuda::arange(t));
    return;
  }
  dispatch_any(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = from_double<T>(static_cast<double>(i));
  });
}

}  // namespace aisle::detail
