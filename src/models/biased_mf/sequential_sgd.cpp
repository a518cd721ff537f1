#include "src/models/biased_mf/sequential_sgd.hpp"

#include <cstring>

#include "src/core/prefetch.hpp"

namespace aisle::models::biased_mf {
namespace {

// Eight floats in one vector register (AVX; two SSE registers on older targets). GCC/Clang vector
// extensions rather than intrinsics: the same code on any x86 -march, and the operation order is
// the one written here, so results do not depend on the build.
using V8 = float __attribute__((vector_size(32)));

inline V8 load(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, V8 v) { std::memcpy(p, &v, sizeof v); }
inline V8 splat(float x) { return V8{x, x, x, x, x, x, x, x}; }

// Four independent accumulators (four add chains instead of one long one), summed in a fixed tree.
inline float dot(const float* __restrict a, const float* __restrict b, int64_t n) {
  V8 acc0 = splat(0), acc1 = splat(0), acc2 = splat(0), acc3 = splat(0);
  int64_t f = 0;
  for (; f + 32 <= n; f += 32) {
    acc0 += load(a + f) * load(b + f);
    acc1 += load(a + f + 8) * load(b + f + 8);
    acc2 += load(a + f + 16) * load(b + f + 16);
    acc3 += load(a + f + 24) * load(b + f + 24);
  }
  for (; f + 8 <= n; f += 8) acc0 += load(a + f) * load(b + f);
  const V8 v = (acc0 + acc1) + (acc2 + acc3);
  float s = ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
  for (; f < n; ++f) s += a[f] * b[f];
  return s;
}

// p <- p + lr (e q - reg p) and q <- q + lr (e p - reg q), from the old p and q, written as
// p <- keep p + step q with keep = 1 - lr reg and step = lr e: two products and a sum per element
// instead of five operations (the rounding differs from the textbook form in the last bits only).
inline void update_rows(float* __restrict p, float* __restrict q, int64_t n, float keep, float step) {
  const V8 vkeep = splat(keep), vstep = splat(step);
  int64_t f = 0;
  for (; f + 8 <= n; f += 8) {
    const V8 pf = load(p + f), qf = load(q + f);
    store(p + f, vkeep * pf + vstep * qf);
    store(q + f, vkeep * qf + vstep * pf);
  }
  for (; f < n; ++f) {
    const float pf = p[f], qf = q[f];
    p[f] = keep * pf + step * qf;
    q[f] = keep * qf + step * pf;
  }
}

// Asks for a row that is about to be read and written (prefetchw), into every cache level.
inline void prefetch_for_update(const float* row, int64_t n) {
  const char* p = reinterpret_cast<const char*>(row);
  for (int64_t off = 0; off < n * static_cast<int64_t>(sizeof(float)); off += 64) __builtin_prefetch(p + off, 1, 3);
}

}  // namespace

double sequential_sgd(const Tables& t, const PackedRating* ratings, int64_t count, const SgdHyper& h) {
  if (count == 0) return 0;
  const int64_t F = t.factors;
  const float keep = 1.0f - h.lr * h.reg;
  auto user_row = [&](const PackedRating& r) { return t.user_factors + int64_t{r.user} * F; };
  auto item_row = [&](const PackedRating& r) { return t.item_factors + int64_t{r.item} * F; };
  double sum_sq = 0;
  float d = dot(user_row(ratings[0]), item_row(ratings[0]), F);
  for (int64_t k = 0; k < count; ++k) {
    // The rows of a rating a few places ahead: random rows the hardware cannot predict.
    if (k + cpu::kPrefetchDistance < count) {
      const PackedRating& ahead = ratings[k + cpu::kPrefetchDistance];
      prefetch_for_update(user_row(ahead), F);
      prefetch_for_update(item_row(ahead), F);
      __builtin_prefetch(t.user_bias + ahead.user, 1, 3);
      __builtin_prefetch(t.item_bias + ahead.item, 1, 3);
    }
    const PackedRating r = ratings[k];
    float* p = user_row(r);
    float* q = item_row(r);
    float& bu = t.user_bias[r.user];
    float& bi = t.item_bias[r.item];
    const float err = r.value - (((h.global_mean + bu) + bi) + d);
    sum_sq += static_cast<double>(err) * err;
    // The next rating's dot product from the rows as they are now, so the CPU can overlap it with
    // this update; taken again after the update if the two ratings share a row (same result as
    // computing it afterwards either way).
    const bool more = k + 1 < count;
    const PackedRating next = more ? ratings[k + 1] : r;
    float d_next = more ? dot(user_row(next), item_row(next), F) : 0.0f;
    if (h.use_biases) {
      bu += h.lr * (err - h.reg_bias * bu);
      bi += h.lr * (err - h.reg_bias * bi);
    }
    update_rows(p, q, F, keep, h.lr * err);
    if (more && (next.user == r.user || next.item == r.item)) d_next = dot(user_row(next), item_row(next), F);
    d = d_next;
  }
  return sum_sq;
}

}  // namespace aisle::models::biased_mf
