// Hogwild per-rating SGD for biased MF. CPU twin: src/models/biased_mf/sequential_sgd.cpp. The
// error, the bias updates and the row updates are written in its operation order with
// __fmul_rn/__fadd_rn, so nvcc cannot fuse them into FMAs (the CPU build compiles with
// -ffp-contract=off): only the dot product's summation order differs from the CPU.
//
// A group of G lanes (a power of two) takes one rating at a time, grid-striding over the batch:
// - float4 path (factors % 4 == 0, factors <= 128, 16-byte aligned tables): G = factors / 4
//   rounded up to a power of two; lane v of a group owns float4 v of both rows, so a row is one
//   coalesced read and one coalesced write (k = 64: 16 lanes, two ratings per warp).
// - generic path (any factors): one warp per rating, lane l owns elements l, l + 32, ...
// The dot product is a shuffle reduction within the group; the group's first lane (the leader)
// computes the error, updates the biases and broadcasts the error.
//
// Races, all accepted as in Hogwild (Recht et al. 2011); none goes out of bounds or tears a
// float. Inside a group nothing races: every element has one lane that reads and then writes it.
//  R1 two ratings of a batch with the same user (or item) in flight at once: both read the row,
//     both write it, so one update of that row may be lost, or the row may end up with some
//     float4s (elements) from each update.
//  R2 the same for b_u and b_i: a plain read-modify-write by each leader, no atomics.
//  R3 a group reading a row while another group writes it computes its error from a mix of old
//     and new elements.
// The sum of e^2 is deterministic for a given grid: each thread sums its own ratings in loop
// order, each block sums its threads in a fixed tree, one block sums the blocks in order.
#include <cstdint>
#include <cstring>
#include <vector>

#include "cuda/common.cuh"
#include "cuda/mf_sgd.hpp"

namespace aisle::cuda {
namespace {

using models::biased_mf::PackedRating;
using models::biased_mf::Tables;

constexpr unsigned kFullWarp = 0xffffffffu;
constexpr int kWarps = kThreads / 32;

struct Coeffs {
  float lr, reg_bias, mean;
  float keep;  // 1 - lr reg, computed on the host exactly as sequential_sgd does
  bool use_biases;
};

// The status words the host reads back: [0] the sum of e^2 (the bits of a double), [1] set when
// an id was out of range, [2] 0 for a user id, 1 for an item id, [3] that id.
__device__ inline void report_bad_id(int64_t* status, int64_t which, int64_t id) {
  if (atomicCAS(reinterpret_cast<unsigned long long*>(status + 1), 0ull, 1ull) == 0ull) {
    status[2] = which;
    status[3] = id;
  }
}

__device__ inline bool ids_in_range(const PackedRating& r, int64_t users, int64_t items, int64_t* status,
                                    bool leader) {
  const bool user_ok = r.user >= 0 && r.user < users, item_ok = r.item >= 0 && r.item < items;
  if (leader && !(user_ok && item_ok)) report_bad_id(status, user_ok ? 1 : 0, user_ok ? r.item : r.user);
  return user_ok && item_ok;
}

// a x + b y, each product and the sum rounded separately (sequential_sgd's update_rows).
__device__ inline float blend(float a, float x, float b, float y) {
  return __fadd_rn(__fmul_rn(a, x), __fmul_rn(b, y));
}
__device__ inline float4 blend(float a, const float4& x, float b, const float4& y) {
  return make_float4(blend(a, x.x, b, y.x), blend(a, x.y, b, y.y), blend(a, x.z, b, y.z), blend(a, x.w, b, y.w));
}

// The leader's part of a rating: its error from the biases as read and the dot product, then the
// bias update (race R2). Same operations as sequential_sgd.
__device__ inline float error_then_update_biases(const Tables& t, const PackedRating& r, float bu, float bi,
                                                 float dot, const Coeffs& c) {
  const float err = __fsub_rn(r.value, __fadd_rn(__fadd_rn(__fadd_rn(c.mean, bu), bi), dot));
  if (c.use_biases) {
    t.user_bias[r.user] = __fadd_rn(bu, __fmul_rn(c.lr, __fsub_rn(err, __fmul_rn(c.reg_bias, bu))));
    t.item_bias[r.item] = __fadd_rn(bi, __fmul_rn(c.lr, __fsub_rn(err, __fmul_rn(c.reg_bias, bi))));
  }
  return err;
}

// Writes the sum of every thread's `x` to *out (thread 0 writes): a shuffle tree in each warp,
// then the warp sums in warp order. Every thread of a kThreads block must call it.
__device__ inline void block_sum_to(double x, double* out) {
  __shared__ double warp_sums[kWarps];
  for (int o = 16; o > 0; o >>= 1) x += __shfl_down_sync(kFullWarp, x, o);
  if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = x;
  __syncthreads();
  if (threadIdx.x == 0) {
    double s = 0;
    for (int w = 0; w < kWarps; ++w) s += warp_sums[w];
    *out = s;
  }
}

template <int G>
__global__ void __launch_bounds__(kThreads)
    hogwild_float4_kernel(Tables t, const PackedRating* __restrict__ ratings, int64_t count, int64_t users,
                          int64_t items, Coeffs c, int64_t* status, double* block_sums) {
  constexpr int kPerWarp = 32 / G;
  const int lane = static_cast<int>(threadIdx.x & 31), sub = lane & (G - 1);
  const bool leader = sub == 0;
  const int vecs = static_cast<int>(t.factors / 4);
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int64_t warps = (static_cast<int64_t>(gridDim.x) * blockDim.x) >> 5;
  double sum_sq = 0;
  // `first` is the same for the whole warp, so every lane reaches every full-mask shuffle, also
  // lanes whose group has no rating left (they take part with zeros and write nothing).
  for (int64_t first = warp * kPerWarp; first < count; first += warps * kPerWarp) {
    const int64_t k = first + lane / G;
    PackedRating r{0, 0, 0.0f};
    bool active = false;
    if (k < count) {
      r = ratings[k];
      active = ids_in_range(r, users, items, status, leader);
      if (!active) r = PackedRating{0, 0, 0.0f};  // row pointers below stay inside the tables
    }
    const bool owns = active && sub < vecs;
    float4* p_row = reinterpret_cast<float4*>(t.user_factors + int64_t{r.user} * t.factors) + sub;
    float4* q_row = reinterpret_cast<float4*>(t.item_factors + int64_t{r.item} * t.factors) + sub;
    float4 p = make_float4(0, 0, 0, 0), q = p;
    if (owns) {  // races R1/R3
      p = *p_row;
      q = *q_row;
    }
    float bu = 0, bi = 0;
    if (active && leader) {  // issued next to the row loads so their latencies overlap
      bu = t.user_bias[r.user];
      bi = t.item_bias[r.item];
    }
    float dot = (p.x * q.x + p.y * q.y) + (p.z * q.z + p.w * q.w);
    for (int o = G / 2; o > 0; o >>= 1) dot += __shfl_xor_sync(kFullWarp, dot, o, G);
    float err = 0;
    if (active && leader) {
      err = error_then_update_biases(t, r, bu, bi, dot, c);
      sum_sq += static_cast<double>(err) * err;
    }
    err = __shfl_sync(kFullWarp, err, 0, G);  // from the leader of each group
    if (owns) {  // both from the old p and q (race R1)
      const float step = __fmul_rn(c.lr, err);
      *p_row = blend(c.keep, p, step, q);
      *q_row = blend(c.keep, q, step, p);
    }
  }
  block_sum_to(sum_sq, block_sums + blockIdx.x);
}

__global__ void __launch_bounds__(kThreads)
    hogwild_warp_kernel(Tables t, const PackedRating* __restrict__ ratings, int64_t count, int64_t users,
                        int64_t items, Coeffs c, int64_t* status, double* block_sums) {
  const int lane = static_cast<int>(threadIdx.x & 31);
  const bool leader = lane == 0;
  const int64_t F = t.factors;
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int64_t warps = (static_cast<int64_t>(gridDim.x) * blockDim.x) >> 5;
  double sum_sq = 0;
  for (int64_t k = warp; k < count; k += warps) {
    const PackedRating r = ratings[k];
    // Every lane reads the same rating, so skipping it is uniform across the warp.
    if (!ids_in_range(r, users, items, status, leader)) continue;
    float* p = t.user_factors + int64_t{r.user} * F;
    float* q = t.item_factors + int64_t{r.item} * F;
    float bu = 0, bi = 0;
    if (leader) {
      bu = t.user_bias[r.user];
      bi = t.item_bias[r.item];
    }
    float dot = 0;
    for (int64_t f = lane; f < F; f += 32) dot += p[f] * q[f];
    for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(kFullWarp, dot, o);
    float err = 0;
    if (leader) {
      err = error_then_update_biases(t, r, bu, bi, dot, c);
      sum_sq += static_cast<double>(err) * err;
    }
    const float step = __fmul_rn(c.lr, __shfl_sync(kFullWarp, err, 0));
    for (int64_t f = lane; f < F; f += 32) {
      // This lane's own elements, as it read them for the dot product unless another rating
      // wrote them since (races R1/R3).
      const float pf = p[f], qf = q[f];
      p[f] = blend(c.keep, pf, step, qf);
      q[f] = blend(c.keep, qf, step, pf);
    }
  }
  block_sum_to(sum_sq, block_sums + blockIdx.x);
}

// One block: the blocks' partial sums, each thread over a fixed stride, into status[0].
__global__ void __launch_bounds__(kThreads) sum_partials_kernel(const double* partials, int64_t n, int64_t* status) {
  double s = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += partials[i];
  block_sum_to(s, reinterpret_cast<double*>(status));
}

using Kernel = void (*)(Tables, const PackedRating*, int64_t, int64_t, int64_t, Coeffs, int64_t*, double*);

// Lanes per rating on the float4 path: one float4 each, rounded up to a power of two.
int float4_group(int64_t factors) {
  int g = 1;
  while (g * 4 < factors) g *= 2;
  return g;
}

Kernel float4_kernel(int group) {
  switch (group) {
    case 1: return hogwild_float4_kernel<1>;
    case 2: return hogwild_float4_kernel<2>;
    case 4: return hogwild_float4_kernel<4>;
    case 8: return hogwild_float4_kernel<8>;
    case 16: return hogwild_float4_kernel<16>;
    default: return hogwild_float4_kernel<32>;
  }
}

// As many blocks as are resident at once (enough to fill the GPU and no tail of waves), fewer
// when the batch does not need them. A function of the device and the batch size only.
unsigned resident_blocks(Kernel kernel, int device, int64_t count, int group) {
  int sms = 0, per_sm = 0;
  AISLE_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  AISLE_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, 0));
  const int64_t needed = (count * group + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::clamp<int64_t>(needed, 1, int64_t{sms} * std::max(per_sm, 1)));
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

double hogwild_sgd(int device, const Tables& t, int64_t users, int64_t items, const PackedRating* ratings,
                   int64_t count, const models::biased_mf::SgdHyper& h) {
  AISLE_CHECK(t.factors > 0 && count >= 0, "hogwild_sgd: needs factors > 0 and count >= 0, got ", t.factors,
              " and ", count);
  if (count == 0) return 0;
  use_device(device);
  const Device dev = Device::cuda(device);
  const cudaStream_t s = stream(device);
  const Coeffs c{.lr = h.lr, .reg_bias = h.reg_bias, .mean = h.global_mean, .keep = 1.0f - h.lr * h.reg,
                 .use_biases = h.use_biases};
  const bool float4_path =
      t.factors % 4 == 0 && t.factors <= 128 && aligned16(t.user_factors) && aligned16(t.item_factors);
  const int group = float4_path ? float4_group(t.factors) : 32;
  const Kernel kernel = float4_path ? float4_kernel(group) : hogwild_warp_kernel;
  const unsigned blocks = resident_blocks(kernel, device, count, group);

  const Tensor status = Tensor::zeros({4}, DType::i64, dev);
  const Tensor partials = Tensor::empty({blocks}, DType::f64, dev);
  kernel<<<blocks, kThreads, 0, s>>>(t, ratings, count, users, items, c, status.data<int64_t>(),
                                     partials.data<double>());
  check_launch("hogwild_sgd");
  sum_partials_kernel<<<1, kThreads, 0, s>>>(partials.data<double>(), blocks, status.data<int64_t>());
  check_launch("hogwild_sgd (loss)");
  const std::vector<int64_t> out = status.to_vector<int64_t>();  // waits for both kernels
  if (out[1] != 0)
    AISLE_FAIL("hogwild_sgd: ", out[2] == 0 ? "user" : "item", " id ", out[3], " is out of range [0, ",
               out[2] == 0 ? users : items, ") on cuda:", device);
  double sum_sq = 0;
  std::memcpy(&sum_sq, out.data(), sizeof sum_sq);
  return sum_sq;
}

}  // namespace aisle::cuda
