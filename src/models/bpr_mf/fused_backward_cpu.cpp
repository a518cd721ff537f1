// The CPU step without the tape: scores, sigmoids and row gradients of a whole batch in a few
// passes, with each touched row's gradient summed in one fixed order (the batch order), so the
// result does not depend on the thread count. Per step this replaces ~30 op calls, their
// intermediate [B, F] tensors and the coalescing sorts with two passes over the batch.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "aisle/core/error.hpp"
#include "src/core/parallel.hpp"
#include "src/core/storage.hpp"
#include "src/core/prefetch.hpp"
#include "src/models/bpr_mf/backward.hpp"

namespace aisle::models::bpr {
namespace {

// Smallest chunk worth a thread, in float multiply-adds (tens of microseconds): a fork and join
// costs microseconds on an idle machine but a scheduler slice on a busy one, so small batches
// stay on one thread.
constexpr int64_t kWorkPerChunk = 32768;

using detail::widen;

// Eight running sums in a fixed pattern: vectorises without reassociating across calls. S is the
// tables' storage type (f32, or bf16/f16 widened exactly to f32 as it is read).
template <class S>
float dot(const S* a, const S* b, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) lane[l] += widen(a[i + l]) * widen(b[i + l]);
  for (; i < n; ++i) lane[i % 8] += widen(a[i]) * widen(b[i]);
  return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

template <class S>
float squared_norm(const S* a, int64_t n) {
  return dot(a, a, n);
}

float sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

void check_ids(const Tensor& ids, int64_t bound, const char* what) {
  const int64_t* p = ids.data<int64_t>();
  for (int64_t n = 0; n < ids.numel(); ++n)
    AISLE_CHECK(p[n] >= 0 && p[n] < bound, "BPR step: ", what, " id ", p[n], " at position ", n,
                " is outside [0, ", bound, ")");
}

// Occurrences grouped by id: ids ascending, each group's occurrences in ascending order.
struct Groups {
  std::vector<int64_t> ids;       // unique, ascending
  std::vector<int64_t> offsets;   // ids.size() + 1
  std::vector<int64_t> members;   // occurrence numbers, grouped
};

Groups group_occurrences(const std::vector<int64_t>& id_of_occurrence) {
  std::vector<std::pair<int64_t, int64_t>> keyed(id_of_occurrence.size());
  for (size_t o = 0; o < keyed.size(); ++o) keyed[o] = {id_of_occurrence[o], static_cast<int64_t>(o)};
  std::sort(keyed.begin(), keyed.end());
  Groups g;
  g.members.reserve(keyed.size());
  for (size_t o = 0; o < keyed.size(); ++o) {
    if (o == 0 || keyed[o].first != keyed[o - 1].first) {
      g.ids.push_back(keyed[o].first);
      g.offsets.push_back(static_cast<int64_t>(o));
    }
    g.members.push_back(keyed[o].second);
  }
  g.offsets.push_back(static_cast<int64_t>(keyed.size()));
  return g;
}

// A gradient of `num_groups` rows of `width`; row r is filled by fill(r, row pointer).
template <class Fill>
ops::SparseRows group_rows(const Groups& g, int64_t width, const Shape& row_shape, Fill&& fill) {
  const int64_t n = static_cast<int64_t>(g.ids.size());
  Shape shape{n};
  shape.insert(shape.end(), row_shape.begin(), row_shape.end());
  Tensor rows = Tensor::empty(shape, DType::f32);
  float* out = rows.data<float>();
  cpu::parallel_for(n, std::max<int64_t>(1, kWorkPerChunk / std::max<int64_t>(width, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) fill(r, out + r * width);
  });
  return {Tensor::from_vector(g.ids), rows};
}

template <class S>
Gradients fused_backward_typed(const Params& params, const BatchIds& batch, double reg) {
  const Tensor& user_table = params.user_factors.value();
  const Tensor& item_table = params.item_factors.value();
  const bool has_bias = params.item_bias.defined();
  const int64_t b_count = batch.users.numel(), k = batch.negatives.size(1), f = user_table.size(1);
  const int64_t t_count = b_count * k;
  check_ids(batch.users, user_table.size(0), "user");
  check_ids(batch.items, item_table.size(0), "item");
  check_ids(batch.negatives, item_table.size(0), "negative item");

  const S* p = user_table.data<S>();
  const S* q = item_table.data<S>();
  const float* bias = has_bias ? params.item_bias.value().data<float>() : nullptr;
  const int64_t* users = batch.users.data<int64_t>();
  const int64_t* items = batch.items.data<int64_t>();
  const int64_t* negs = batch.negatives.data<int64_t>();

  // dL/ds_ui of each triple (dL/ds_uj is its negative), and each positive's share of the loss.
  const size_t row_bytes = static_cast<size_t>(f) * sizeof(S);
  const float inv_t = 1.0f / static_cast<float>(t_count);
  const double l2_scale = reg / (2.0 * static_cast<double>(b_count));
  std::vector<float> w(static_cast<size_t>(t_count)), w_pos(static_cast<size_t>(b_count));
  std::vector<double> example_loss(static_cast<size_t>(b_count));
  cpu::parallel_for(b_count, std::max<int64_t>(1, kWorkPerChunk / (f * (k + 1))), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      if (const int64_t a = b + cpu::kPrefetchDistance; a < b1) {
        cpu::prefetch_row(p + users[a] * f, row_bytes);
        cpu::prefetch_row(q + items[a] * f, row_bytes);
        for (int64_t c = 0; c < k; ++c) cpu::prefetch_row(q + negs[a * k + c] * f, row_bytes);
      }
      const S* pu = p + users[b] * f;
      const S* qi = q + items[b] * f;
      const float s_pos = dot(pu, qi, f) + (has_bias ? bias[items[b]] : 0.0f);
      double bpr = 0, neg_l2 = 0;
      float w_sum = 0;
      for (int64_t c = 0; c < k; ++c) {
        const int64_t j = negs[b * k + c];
        const float s_neg = dot(pu, q + j * f, f) + (has_bias ? bias[j] : 0.0f);
        const float wt = -sigmoid(s_neg - s_pos) * inv_t;
        w[static_cast<size_t>(b * k + c)] = wt;
        w_sum += wt;
        bpr += softplus(static_cast<double>(s_neg) - static_cast<double>(s_pos));
        neg_l2 += squared_norm(q + j * f, f) + (has_bias ? double{bias[j]} * bias[j] : 0.0);
      }
      w_pos[static_cast<size_t>(b)] = w_sum;
      const double l2 = double{squared_norm(pu, f)} + squared_norm(qi, f) +
                        (has_bias ? double{bias[items[b]]} * bias[items[b]] : 0.0) + neg_l2 / static_cast<double>(k);
      example_loss[static_cast<size_t>(b)] = bpr / static_cast<double>(t_count) + l2_scale * l2;
    }
  });
  const double loss =
      cpu::deterministic_sum<double>(b_count, [&](int64_t b) { return example_loss[static_cast<size_t>(b)]; });

  // The L2 gradient of a row per occurrence: reg / B for users and positives, reg / (B k) for negatives.
  const float reg_pos = static_cast<float>(reg / static_cast<double>(b_count));
  const float reg_neg = static_cast<float>(reg / static_cast<double>(t_count));

  const Groups user_groups = group_occurrences(std::vector<int64_t>(users, users + b_count));
  ops::SparseRows user_grad = group_rows(user_groups, f, {f}, [&](int64_t r, float* row) {
    std::fill(row, row + f, 0.0f);
    for (int64_t m = user_groups.offsets[r]; m < user_groups.offsets[r + 1]; ++m) {
      if (const int64_t a = m + cpu::kPrefetchDistance; a < b_count) {
        const int64_t ahead = user_groups.members[static_cast<size_t>(a)];
        cpu::prefetch_row(q + items[ahead] * f, row_bytes);
        for (int64_t c = 0; c < k; ++c) cpu::prefetch_row(q + negs[ahead * k + c] * f, row_bytes);
      }
      const int64_t b = user_groups.members[static_cast<size_t>(m)];
      const S* pu = p + users[b] * f;
      const S* qi = q + items[b] * f;
      const float wp = w_pos[static_cast<size_t>(b)];
      for (int64_t x = 0; x < f; ++x) row[x] += wp * widen(qi[x]) + reg_pos * widen(pu[x]);
      for (int64_t c = 0; c < k; ++c) {
        const float wt = w[static_cast<size_t>(b * k + c)];
        const S* qj = q + negs[b * k + c] * f;
        for (int64_t x = 0; x < f; ++x) row[x] -= wt * widen(qj[x]);
      }
    }
  });

  // Item occurrences: o < B is example o's positive, o >= B is triple o - B's negative.
  std::vector<int64_t> item_of(static_cast<size_t>(b_count + t_count));
  std::copy(items, items + b_count, item_of.begin());
  std::copy(negs, negs + t_count, item_of.begin() + b_count);
  const Groups item_groups = group_occurrences(item_of);
  const int64_t occurrences = b_count + t_count;
  auto item_occurrence = [&](int64_t o, float& weight, float& reg_weight, int64_t& user) {
    if (o < b_count) {
      weight = w_pos[static_cast<size_t>(o)];
      reg_weight = reg_pos;
      user = users[o];
    } else {
      weight = -w[static_cast<size_t>(o - b_count)];
      reg_weight = reg_neg;
      user = users[(o - b_count) / k];
    }
  };
  ops::SparseRows item_grad = group_rows(item_groups, f, {f}, [&](int64_t r, float* row) {
    std::fill(row, row + f, 0.0f);
    const S* own = q + item_groups.ids[static_cast<size_t>(r)] * f;
    for (int64_t m = item_groups.offsets[r]; m < item_groups.offsets[r + 1]; ++m) {
      if (const int64_t a = m + cpu::kPrefetchDistance; a < occurrences) {
        const int64_t o = item_groups.members[static_cast<size_t>(a)];
        cpu::prefetch_row(p + users[o < b_count ? o : (o - b_count) / k] * f, row_bytes);
      }
      float weight, reg_weight;
      int64_t user;
      item_occurrence(item_groups.members[static_cast<size_t>(m)], weight, reg_weight, user);
      const S* pu = p + user * f;
      for (int64_t x = 0; x < f; ++x) row[x] += weight * widen(pu[x]) + reg_weight * widen(own[x]);
    }
  });

  Gradients out{loss, {std::move(user_grad), std::move(item_grad)}};
  if (has_bias) {
    out.rows.push_back(group_rows(item_groups, 1, {}, [&](int64_t r, float* row) {
      const float bi = bias[item_groups.ids[static_cast<size_t>(r)]];
      float g = 0;
      for (int64_t m = item_groups.offsets[r]; m < item_groups.offsets[r + 1]; ++m) {
        float weight, reg_weight;
        int64_t user;
        item_occurrence(item_groups.members[static_cast<size_t>(m)], weight, reg_weight, user);
        g += weight + reg_weight * bi;
      }
      *row = g;
    }));
  }
  return out;
}

}  // namespace

Gradients fused_backward_cpu(const Params& params, const BatchIds& batch, double reg) {
  const Tensor& user_table = params.user_factors.value();
  const Tensor& item_table = params.item_factors.value();
  AISLE_CHECK(!user_table.is_cuda() && !batch.users.is_cuda(), "BPR fused step: CPU tensors only");
  AISLE_CHECK(item_table.dtype() == user_table.dtype() &&
                  (!params.item_bias.defined() || params.item_bias.value().dtype() == DType::f32),
              "BPR fused step: user_factors ", user_table.describe(), " and item_factors ", item_table.describe(),
              " must share one dtype (f32, bf16 or f16), and item_bias is f32");
  switch (user_table.dtype()) {
    case DType::f32: return fused_backward_typed<float>(params, batch, reg);
    case DType::bf16: return fused_backward_typed<bf16>(params, batch, reg);
    case DType::f16: return fused_backward_typed<f16>(params, batch, reg);
    default: break;
  }
  AISLE_FAIL("BPR fused step: tables of dtype ", dtype_name(user_table.dtype()), " are not supported (f32, bf16, f16)");
}

}  // namespace aisle::models::bpr
