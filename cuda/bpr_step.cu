// BPR-MF's fused step on CUDA: one launch computes every example's scores, loss share and
// per-occurrence gradient rows, which the host side then coalesces with the scatter family's
// stable sort (so a row's occurrences are summed in fused_backward_cpu's order, with no float
// atomics). Replaces the ~30 op launches and [B, F] intermediates of the autograd step.
//
// One warp per positive example: its lanes stride over the F-wide rows (four elements per load
// when every row is aligned to four, else one; bf16/f16 tables are widened to f32 as they are
// read, exactly as fused_backward_cpu widens them), dot products are reduced with an xor butterfly, which
// leaves the bit-identical total in every lane, so all lanes agree on each sigmoid and the loop
// over examples stays warp-uniform. Each lane sums its own elements in a fixed order, so the
// result does not depend on the grid size and is identical run to run.
#include <cstdint>
#include <type_traits>
#include <vector>

#include "cuda/bpr_step.hpp"
#include "cuda/common.cuh"
#include "src/core/storage.hpp"
#include "src/ops/math.hpp"

namespace aisle::cuda {

namespace {

constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;

// The three id kinds, each with its own error slot (flag, first bad id) in StepArgs::bad.
enum IdKind : int { kUserId = 0, kItemId = 1, kNegativeId = 2 };

struct StepArgs {
  const void* p;      // [U, F] of the storage type S (f32, bf16 or f16)
  const void* q;      // [I, F] of S
  const float* bias;  // [I] or null
  const int64_t* users;
  const int64_t* items;
  const int64_t* negs;
  int64_t b_count, k, f, num_users, num_items;
  // The constants of fused_backward_cpu, computed once on the host in the same precision.
  float inv_t, reg_pos, reg_neg;
  double l2_scale;
  float* w;  // [B k]: dL/ds_ui of each triple, read back by the warp that wrote it
  float* user_rows;
  int64_t* item_ids;
  float* item_rows;
  float* bias_rows;  // null without bias
  double* example_loss;
  int64_t* bad;  // [3][2]
};

template <int V>
struct Chunk {
  float v[V];
};

// Chunk `chunk` of a table row, widened to f32: V = 4 is one 16-byte load of f32 or one 8-byte
// load of four 16-bit elements.
template <int V, class S>
__device__ inline Chunk<V> load(const S* row, int64_t chunk) {
  Chunk<V> c;
  if constexpr (V == 4 && std::is_same_v<S, float>) {
    const float4 t = reinterpret_cast<const float4*>(row)[chunk];
    c.v[0] = t.x;
    c.v[1] = t.y;
    c.v[2] = t.z;
    c.v[3] = t.w;
  } else if constexpr (V == 4) {
    const uint2 t = reinterpret_cast<const uint2*>(row)[chunk];
    const uint32_t words[2] = {t.x, t.y};
    for (int w = 0; w < 2; ++w) {
      S lo, hi;
      lo.bits = static_cast<uint16_t>(words[w] & 0xffffu);
      hi.bits = static_cast<uint16_t>(words[w] >> 16);
      c.v[2 * w] = detail::widen(lo);
      c.v[2 * w + 1] = detail::widen(hi);
    }
  } else {
    c.v[0] = detail::widen(row[chunk]);
  }
  return c;
}

template <int V>
__device__ inline void store(float* row, int64_t chunk, const Chunk<V>& c) {
  if constexpr (V == 4) reinterpret_cast<float4*>(row)[chunk] = make_float4(c.v[0], c.v[1], c.v[2], c.v[3]);
  else row[chunk] = c.v[0];
}

// IEEE addition is commutative, so lane l and lane l ^ m compute the same sum at every step and
// all lanes end with the same bits.
__device__ inline float warp_sum(float v) {
  for (int m = kWarp / 2; m > 0; m /= 2) v += __shfl_xor_sync(kFullMask, v, m);
  return v;
}

__device__ inline double softplus(double x) {
  return ::fmax(x, 0.0) + detail::log1p_(detail::exp_(-detail::abs_(x)));
}

// Whether every id of example b is inside its table; bad ids are reported, and the whole warp
// skips the example (the host throws before anything reads its rows).
__device__ inline bool example_ids_ok(const StepArgs& a, int64_t b, int lane) {
  bool ok = true;
  if (lane == 0) {
    const int64_t u = a.users[b], i = a.items[b];
    if (u < 0 || u >= a.num_users) {
      report_bad_index(a.bad + 2 * kUserId, u);
      ok = false;
    }
    if (i < 0 || i >= a.num_items) {
      report_bad_index(a.bad + 2 * kItemId, i);
      ok = false;
    }
  }
  for (int64_t c = lane; c < a.k; c += kWarp) {
    const int64_t j = a.negs[b * a.k + c];
    if (j < 0 || j >= a.num_items) {
      report_bad_index(a.bad + 2 * kNegativeId, j);
      ok = false;
    }
  }
  return __all_sync(kFullMask, ok);
}

template <class S, int V>
__global__ void __launch_bounds__(kThreads) bpr_step_kernel(StepArgs a) {
  const S* p = static_cast<const S*>(a.p);
  const S* q = static_cast<const S*>(a.q);
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  const int64_t first = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * blockDim.x / kWarp;
  const int64_t chunks = a.f / V, f = a.f, k = a.k, b_count = a.b_count;
  for (int64_t b = first; b < b_count; b += warps) {
    if (!example_ids_ok(a, b, lane)) continue;
    const int64_t i = a.items[b];
    const S* pu = p + a.users[b] * f;
    const S* qi = q + i * f;
    float pu_qi = 0, pu_pu = 0, qi_qi = 0;
    for (int64_t x = lane; x < chunks; x += kWarp) {
      const Chunk<V> pc = load<V>(pu, x), qc = load<V>(qi, x);
      for (int e = 0; e < V; ++e) {
        pu_qi += pc.v[e] * qc.v[e];
        pu_pu += pc.v[e] * pc.v[e];
        qi_qi += qc.v[e] * qc.v[e];
      }
    }
    pu_qi = warp_sum(pu_qi);
    pu_pu = warp_sum(pu_pu);
    qi_qi = warp_sum(qi_qi);
    const float bi = a.bias ? a.bias[i] : 0.0f;
    const float s_pos = pu_qi + bi;

    double bpr = 0, neg_l2 = 0;
    float w_sum = 0;
    for (int64_t c = 0; c < k; ++c) {
      const int64_t t = b * k + c, j = a.negs[t];
      const S* qj = q + j * f;
      float pu_qj = 0, qj_qj = 0;
      for (int64_t x = lane; x < chunks; x += kWarp) {
        const Chunk<V> pc = load<V>(pu, x), qc = load<V>(qj, x);
        for (int e = 0; e < V; ++e) {
          pu_qj += pc.v[e] * qc.v[e];
          qj_qj += qc.v[e] * qc.v[e];
        }
      }
      pu_qj = warp_sum(pu_qj);
      qj_qj = warp_sum(qj_qj);
      const float bj = a.bias ? a.bias[j] : 0.0f;
      const float s_neg = pu_qj + bj;
      const float wt = -detail::sigmoid_(s_neg - s_pos) * a.inv_t;
      w_sum += wt;
      bpr += softplus(static_cast<double>(s_neg) - static_cast<double>(s_pos));
      neg_l2 += static_cast<double>(qj_qj) + (a.bias ? static_cast<double>(bj) * bj : 0.0);

      // Negative occurrence B + t of item j: weight -wt on p_u plus its L2 share.
      const int64_t o = b_count + t;
      float* row = a.item_rows + o * f;
      for (int64_t x = lane; x < chunks; x += kWarp) {
        const Chunk<V> pc = load<V>(pu, x), qc = load<V>(qj, x);
        Chunk<V> g;
        for (int e = 0; e < V; ++e) g.v[e] = -wt * pc.v[e] + a.reg_neg * qc.v[e];
        store<V>(row, x, g);
      }
      if (lane == 0) {
        a.w[t] = wt;
        a.item_ids[o] = j;
        if (a.bias_rows) a.bias_rows[o] = -wt + a.reg_neg * bj;
      }
    }
    __syncwarp();  // makes lane 0's stores to w visible to the whole warp

    // The user's row and the positive occurrence b of item i.
    const float wp = w_sum;
    float* user_row = a.user_rows + b * f;
    float* item_row = a.item_rows + b * f;
    for (int64_t x = lane; x < chunks; x += kWarp) {
      const Chunk<V> pc = load<V>(pu, x), qc = load<V>(qi, x);
      Chunk<V> gu, gi;
      for (int e = 0; e < V; ++e) {
        gu.v[e] = wp * qc.v[e] + a.reg_pos * pc.v[e];
        gi.v[e] = wp * pc.v[e] + a.reg_pos * qc.v[e];
      }
      for (int64_t c = 0; c < k; ++c) {
        const float wt = a.w[b * k + c];
        const Chunk<V> qc_neg = load<V>(q + a.negs[b * k + c] * f, x);
        for (int e = 0; e < V; ++e) gu.v[e] -= wt * qc_neg.v[e];
      }
      store<V>(user_row, x, gu);
      store<V>(item_row, x, gi);
    }
    if (lane == 0) {
      a.item_ids[b] = i;
      if (a.bias_rows) a.bias_rows[b] = wp + a.reg_pos * bi;
      const double l2 = static_cast<double>(pu_pu) + qi_qi + (a.bias ? static_cast<double>(bi) * bi : 0.0) +
                        neg_l2 / static_cast<double>(k);
      a.example_loss[b] = bpr / static_cast<double>(b_count * k) + a.l2_scale * l2;
    }
  }
}

bool aligned(const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

template <class S>
void launch(const StepArgs& a, int64_t b_count, cudaStream_t s) {
  // Row r starts at r * F elements: aligned to a 4-element chunk for every r when F % 4 == 0 and
  // the tables start aligned (a row slice of a larger tensor may not).
  const uintptr_t chunk = 4 * sizeof(S);
  const bool vec4 = a.f % 4 == 0 && aligned(a.p, chunk) && aligned(a.q, chunk) && aligned(a.user_rows, 16) &&
                    aligned(a.item_rows, 16);
  const unsigned blocks = grid_for(b_count * kWarp);
  if (vec4) bpr_step_kernel<S, 4><<<blocks, kThreads, 0, s>>>(a);
  else bpr_step_kernel<S, 1><<<blocks, kThreads, 0, s>>>(a);
}

}  // namespace

BprStepRows bpr_step(const Tensor& user_table, const Tensor& item_table, const Tensor& item_bias,
                     const Tensor& users, const Tensor& items, const Tensor& negatives, double reg) {
  const Device dev = user_table.device();
  const int64_t b_count = users.numel(), k = negatives.size(1), f = user_table.size(1);
  const int64_t t_count = b_count * k, occurrences = b_count + t_count;
  const bool has_bias = item_bias.defined();
  BprStepRows out;
  out.user_rows = Tensor::empty({b_count, f}, DType::f32, dev);
  out.item_ids = Tensor::empty({occurrences}, DType::i64, dev);
  out.item_rows = Tensor::empty({occurrences, f}, DType::f32, dev);
  if (has_bias) out.bias_rows = Tensor::empty({occurrences}, DType::f32, dev);
  out.example_loss = Tensor::empty({b_count}, DType::f64, dev);
  const Tensor w = Tensor::empty({t_count}, DType::f32, dev);
  const Tensor bad = Tensor::zeros({3, 2}, DType::i64, dev);

  StepArgs a{};
  a.p = user_table.raw_data();
  a.q = item_table.raw_data();
  a.bias = has_bias ? item_bias.data<float>() : nullptr;
  a.users = users.data<int64_t>();
  a.items = items.data<int64_t>();
  a.negs = negatives.data<int64_t>();
  a.b_count = b_count;
  a.k = k;
  a.f = f;
  a.num_users = user_table.size(0);
  a.num_items = item_table.size(0);
  a.inv_t = 1.0f / static_cast<float>(t_count);
  a.reg_pos = static_cast<float>(reg / static_cast<double>(b_count));
  a.reg_neg = static_cast<float>(reg / static_cast<double>(t_count));
  a.l2_scale = reg / (2.0 * static_cast<double>(b_count));
  a.w = w.data<float>();
  a.user_rows = out.user_rows.data<float>();
  a.item_ids = out.item_ids.data<int64_t>();
  a.item_rows = out.item_rows.data<float>();
  a.bias_rows = has_bias ? out.bias_rows.data<float>() : nullptr;
  a.example_loss = out.example_loss.data<double>();
  a.bad = bad.data<int64_t>();

  cudaStream_t s = stream_of(user_table);
  switch (user_table.dtype()) {
    case DType::bf16: launch<bf16>(a, b_count, s); break;
    case DType::f16: launch<f16>(a, b_count, s); break;
    default: launch<float>(a, b_count, s); break;
  }
  check_launch("BPR fused step");

  const std::vector<int64_t> slots = bad.to_vector<int64_t>();
  const char* names[3] = {"user", "item", "negative item"};
  const int64_t bounds[3] = {a.num_users, a.num_items, a.num_items};
  for (int kind = 0; kind < 3; ++kind)
    AISLE_CHECK(slots[2 * kind] == 0, "BPR fused step: ", names[kind], " id ", slots[2 * kind + 1],
                " is outside [0, ", bounds[kind], ") on ", dev.str());
  return out;
}

}  // namespace aisle::cuda
