// Negative sampling on CUDA. CPU twin and reference: src/data/negative_sampler.cpp; both draw
// with detail::draw_negative (src/data/negative_draw.hpp), so samples match bit for bit.
//
// One thread per output slot. A uniform draw is one Philox block and one binary search over the
// user's positives; a popularity draw is a few alias tries, each a binary search, or the exact
// walk over the user's gaps for users holding most of the mass. The tables are read-only and
// small next to the embedding tables, so plain global loads (cached in L2) suffice.
#include "cuda/common.cuh"
#include "cuda/negative_sample.hpp"

namespace aisle::cuda {

namespace {

// flags[0]: some user is out of range or has nothing to draw; flags[1]: some key is out of range.
__global__ void check_inputs_kernel(detail::NegativeTables t, int64_t num_users, const int64_t* users,
                                    const int64_t* keys, int64_t n, uint64_t max_key, int* flags) {
  AISLE_GRID_STRIDE(r, n) {
    const int64_t u = users[r];
    if (u < 0 || u >= num_users || !t.can_draw(u)) flags[0] = 1;
    if (keys != nullptr && (keys[r] < 0 || static_cast<uint64_t>(keys[r]) >= max_key)) flags[1] = 1;
  }
}

__global__ void draw_kernel(detail::NegativeTables t, const int64_t* users, const int64_t* keys, int64_t n,
                            int64_t k, uint64_t seed, uint64_t stream, int64_t* out) {
  AISLE_GRID_STRIDE(s, n * k) {
    const int64_t r = s / k, j = s - r * k;
    const uint64_t key = static_cast<uint64_t>(keys != nullptr ? keys[r] : r);
    out[s] = detail::draw_negative(t, users[r], seed, stream, key * static_cast<uint64_t>(k) + static_cast<uint64_t>(j));
  }
}

}  // namespace

bool negative_inputs_valid(const detail::NegativeTables& tables, int64_t num_users, const Tensor& users,
                           const Tensor& keys, int64_t k) {
  const int64_t n = users.numel();
  if (n == 0) return true;
  cudaStream_t s = stream_of(users);
  Tensor flags = Tensor::zeros({2}, DType::i32, users.device());
  const uint64_t max_key = detail::kNegativeMaxSlot / static_cast<uint64_t>(k > 1 ? k : 1);
  check_inputs_kernel<<<grid_for(n), kThreads, 0, s>>>(tables, num_users, users.data<int64_t>(),
                                                       keys.defined() ? keys.data<int64_t>() : nullptr, n, max_key,
                                                       flags.data<int32_t>());
  check_launch("NegativeSampler::sample");
  const std::vector<int32_t> f = flags.to(Device::cpu()).to_vector<int32_t>();
  return f[0] == 0 && f[1] == 0;
}

Tensor negative_sample(const detail::NegativeTables& tables, const Tensor& users, const Tensor& keys, int64_t k,
                       uint64_t seed, uint64_t stream) {
  const int64_t n = users.numel();
  Tensor out = Tensor::empty({n, k}, DType::i64, users.device());
  if (n * k == 0) return out;
  cudaStream_t s = stream_of(users);
  draw_kernel<<<grid_for(n * k), kThreads, 0, s>>>(tables, users.data<int64_t>(),
                                                    keys.defined() ? keys.data<int64_t>() : nullptr, n, k, seed,
                                                    stream, out.data<int64_t>());
  check_launch("NegativeSampler::sample");
  return out;
}

}  // namespace aisle::cuda
