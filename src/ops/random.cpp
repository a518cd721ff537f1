// Random family: checks, dispatch, CPU reference. CUDA twin: cuda/random.cu.
#include "aisle/ops/random.hpp"

#include "cuda/random.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/random_functors.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace aisle::ops {

namespace {

using detail::RandomKind;

// Blocks drawn together on the host. One block's ten Philox rounds are a chain of dependent
// multiplies; with AVX2, eight side by side run each round as two vector multiplies (vpmuludq on
// the even and the odd lanes), where one block at a time left the host fill far slower than the
// copy it feeds.
constexpr int64_t kPhiloxLanes = 8;

// The words of blocks first .. first + kPhiloxLanes - 1, philox_block's bit for bit, as four
// arrays: words[j][l] is word j of block first + l.
void philox_lanes(const detail::RandomParams& p, int64_t first, uint32_t (&words)[4][kPhiloxLanes]) {
#if defined(__AVX2__)
  // philox4x32_10's rounds (aisle/tensor/random.hpp), eight counters per vector.
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int64_t l = 0; l < kPhiloxLanes; ++l) {
    const auto block = static_cast<uint64_t>(first + l);
    words[0][l] = static_cast<uint32_t>(block);
    words[1][l] = static_cast<uint32_t>(block >> 32);
    words[2][l] = static_cast<uint32_t>(p.stream);
    words[3][l] = static_cast<uint32_t>(p.stream >> 32);
  }
  uint32_t key0 = static_cast<uint32_t>(p.seed), key1 = static_cast<uint32_t>(p.seed >> 32);
  auto load = [](const uint32_t* w) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)); };
  __m256i c0 = load(words[0]), c1 = load(words[1]), c2 = load(words[2]), c3 = load(words[3]);
  // The 32x32 -> 64 products of eight lanes by a constant, split into high and low words.
  auto mulhilo = [](__m256i a, __m256i k, __m256i& hi, __m256i& lo) {
    const __m256i even = _mm256_mul_epu32(a, k);
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), k);
    lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  };
  const __m256i mul0 = _mm256_set1_epi32(static_cast<int>(kMul0)), mul1 = _mm256_set1_epi32(static_cast<int>(kMul1));
  for (int round = 0; round < 10; ++round) {
    __m256i hi0, lo0, hi1, lo1;
    mulhilo(c0, mul0, hi0, lo0);
    mulhilo(c2, mul1, hi1, lo1);
    c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(key0)));
    c1 = lo1;
    c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(key1)));
    c3 = lo0;
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  auto store = [](uint32_t* w, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(w), v); };
  store(words[0], c0);
  store(words[1], c1);
  store(words[2], c2);
  store(words[3], c3);
#else  // without AVX2 (AISLE_CPU_ARCH empty): one block at a time
  for (int64_t l = 0; l < kPhiloxLanes; ++l) {
    const Philox4x32 w = philox_block(p.seed, p.stream, static_cast<uint64_t>(first + l));
    for (int j = 0; j < 4; ++j) words[j][l] = w.v[j];
  }
#endif
}

template <RandomKind Kind, class T>
void fill_cpu(const Tensor& out, const detail::RandomParams& p) {
  T* po = out.data<T>();
  const int64_t n = out.numel();
  constexpr int64_t per = detail::random_per_block<T>();
  const int64_t blocks = (n + per - 1) / per;
  // Only whole blocks take the lane path, so its value loop has a constant length (the last,
  // partial block goes through random_block).
  const int64_t whole = n / per;
  cpu::parallel_for(blocks, 4096, [&](int64_t b0, int64_t b1) {
    int64_t b = b0;
    uint32_t words[4][kPhiloxLanes];
    for (; b + kPhiloxLanes <= std::min(b1, whole); b += kPhiloxLanes) {
      philox_lanes(p, b, words);
      for (int64_t l = 0; l < kPhiloxLanes; ++l)
        detail::random_values<Kind, T>(p, Philox4x32{{words[0][l], words[1][l], words[2][l], words[3][l]}},
                                       po + (b + l) * per, per);
    }
    for (; b < b1; ++b) detail::random_block<Kind, T>(p, b, po + b * per, std::min(per, n - b * per));
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
