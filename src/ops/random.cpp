// Random family: checks, dispatch, CPU reference. CUDA twin: cuda/random.cu.
#include "aisle/ops/random.hpp"

#include "cuda/random.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/random_functors.hpp"

namespace aisle::ops {

namespace {

using detail::RandomKind;

template <RandomKind Kind, class T>
void fill_cpu(const Tensor& out, const detail::RandomParams& p) {
  T* po = out.data<T>();
  const int64_t n = out.numel();
  constexpr int64_t per = detail::random_per_block<T>();
  const int64_t blocks = (n + per - 1) / per;
  cpu::parallel_for(blocks, 4096, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      detail::random_block<Kind, T>(p, b, po + b * per, std::min(per, n - b * per));
  });
}

Tensor random_tensor(RandomKind kind, const Shape& shape, DType dtype, Device device,
                     detail::RandomParams p, const char* op) {
  Tensor out = Tensor::empty(shape, dtype, device);
  if (out.numel() == 0) return out;
  if (out.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::random_fill(kind, out, p));
    return out;
  }
  if (kind == RandomKind::randint) {
    detail::dispatch_index(dtype, op, [&](auto tag) { fill_cpu<RandomKind::randint, decltype(tag)>(out, p); });
    return out;
  }
  detail::dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    switch (kind) {
      case RandomKind::uniform: fill_cpu<RandomKind::uniform, T>(out, p); break;
      case RandomKind::normal: fill_cpu<RandomKind::normal, T>(out, p); break;
      case RandomKind::dropout: fill_cpu<RandomKind::dropout, T>(out, p); break;
      case RandomKind::randint: break;
    }
  });
  return out;
}

}  // namespace

Tensor uniform(const Shape& shape, Generator& gen, double low, double high, DType dtype, Device device) {
  AISLE_CHECK(low <= high, "uniform: low ", low, " exceeds high ", high);
  return random_tensor(RandomKind::uniform, shape, dtype, device,
                       {gen.seed(), gen.take_stream(), low, high}, "uniform");
}

Tensor normal(const Shape& shape, Generator& gen, double mean, double stddev, DType dtype, Device device) {
  AISLE_CHECK(stddev >= 0, "normal: stddev must be non-negative, got ", stddev);
  return random_tensor(RandomKind::normal, shape, dtype, device,
                       {gen.seed(), gen.take_stream(), mean, stddev}, "normal");
}

Tensor randint(const Shape& shape, int64_t low, int64_t high, Generator& gen, DType dtype, Device device) {
  AISLE_CHECK(low < high, "randint: empty range [", low, ", ", high, ")");
  if (dtype == DType::i32)
    AISLE_CHECK(low >= INT32_MIN && high - 1 <= INT32_MAX, "randint: range [", low, ", ", high,
                ") does not fit i32");
  return random_tensor(RandomKind::randint, shape, dtype, device,
                       {gen.seed(), gen.take_stream(), static_cast<double>(low),
                        static_cast<double>(high - low)},
                       "randint");
}

Tensor dropout_mask(const Shape& shape, double p, Generator& gen, DType dtype, Device device) {
  AISLE_CHECK(p >= 0 && p < 1, "dropout: probability must be in [0, 1), got ", p);
  return random_tensor(RandomKind::dropout, shape, dtype, device,
                       {gen.seed(), gen.take_stream(), p, 1.0 / (1.0 - p)}, "dropout");
}

}  // namespace aisle::ops
