// Random family on CUDA: one thread per Philox block. CPU twin: src/ops/random.cpp; both call
// detail::random_block, so the values match element for element (normal's to an ulp of the
// device's log/sin/cos).
#include "cuda/common.cuh"
#include "cuda/random.hpp"
#include "src/core/dispatch.hpp"

namespace aisle::cuda {

namespace {

template <detail::RandomKind Kind, class T>
__global__ void random_kernel(T* out, int64_t n, detail::RandomParams p) {
  constexpr int64_t per = detail::random_per_block<T>();
  const int64_t blocks = (n + per - 1) / per;
  AISLE_GRID_STRIDE(b, blocks) {
    const int64_t count = n - b * per < per ? n - b * per : per;
    detail::random_block<Kind, T>(p, b, out + b * per, count);
  }
}

template <detail::RandomKind Kind, class T>
void launch(const Tensor& out, const detail::RandomParams& p) {
  const int64_t n = out.numel();
  const int64_t blocks = (n + detail::random_per_block<T>() - 1) / detail::random_per_block<T>();
  random_kernel<Kind, T><<<grid_for(blocks), kThreads, 0, stream_of(out)>>>(out.data<T>(), n, p);
  check_launch("random");
}

}  // namespace

void random_fill(detail::RandomKind kind, const Tensor& out, const detail::RandomParams& p) {
  using detail::RandomKind;
  if (kind == RandomKind::randint) {
    detail::dispatch_index(out.dtype(), "randint", [&](auto tag) { launch<RandomKind::randint, decltype(tag)>(out, p); });
    return;
  }
  detail::dispatch_float(out.dtype(), "random", [&](auto tag) {
    using T = decltype(tag);
    switch (kind) {
      case RandomKind::uniform: launch<RandomKind::uniform, T>(out, p); break;
      case RandomKind::normal: launch<RandomKind::normal, T>(out, p); break;
      case RandomKind::dropout: launch<RandomKind::dropout, T>(out, p); break;
      case RandomKind::randint: break;
    }
  });
}

}  // namespace aisle::cuda
