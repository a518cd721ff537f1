#pragma once
// Internal: the negative-item draw shared by the CPU sampler (src/data/negative_sampler.cpp) and
// its CUDA twin (cuda/negative_sample.cu). Both run this very code over the same tables, so an
// output slot holds the same item on either device. Semantics: aisle/data/negative_sampler.hpp.
#include <cstdint>

#include "aisle/core/macros.hpp"
#include "src/data/counter_rng.hpp"

namespace aisle::detail {

// Each output slot owns 256 Philox blocks (1024 words): room for max_attempts alias draws of one
// block each plus the exact fallback, so slots never share random numbers.
constexpr int kNegativeSlotBlockBits = 8;
constexpr int kNegativeMaxAttempts = 200;
constexpr uint64_t kNegativeMaxSlot = uint64_t{1} << (64 - kNegativeSlotBlockBits);
// Below this share of the mass left to draw from, rejection would average > 8 tries: go exact.
constexpr double kMinRejectionShare = 1.0 / 8.0;

// The sampler's tables as raw pointers, all on one device. offsets/items: the positives index
// (each user's sorted distinct items). The popularity tables are null for a uniform sampler:
// weights[i] = count^alpha, prefix[i] = the sum of weights before i ([num_items + 1]), the alias
// table, and each user's share of the mass outside its positives.
struct NegativeTables {
  const int64_t* offsets = nullptr;
  const int64_t* items = nullptr;
  int64_t num_items = 0;
  const double* weights = nullptr;
  const double* prefix = nullptr;
  const double* alias_prob = nullptr;
  const int64_t* alias = nullptr;
  const double* free_share = nullptr;
  int max_attempts = 0;

  AISLE_HD bool popularity() const { return weights != nullptr; }
  // Whether `user` has anything to draw (the sampler's check_users says why not).
  AISLE_HD bool can_draw(int64_t user) const {
    return popularity() ? free_share[user] > 0 : offsets[user + 1] - offsets[user] < num_items;
  }
};

// Exact product on both devices: nvcc would otherwise fuse it with a following add into an FMA,
// and the CPU build compiles with -ffp-contract=off.
AISLE_HD inline double mul_no_fma(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

// The first index in [lo, hi) with v[index] > target (hi if none), v sorted: std::upper_bound.
AISLE_HD inline int64_t upper_bound_index(const double* v, int64_t lo, int64_t hi, double target) {
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (v[mid] <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

AISLE_HD inline bool is_positive(const NegativeTables& t, int64_t user, int64_t item) {
  int64_t lo = t.offsets[user], hi = t.offsets[user + 1];
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (t.items[mid] < item) lo = mid + 1;
    else hi = mid;
  }
  return lo < t.offsets[user + 1] && t.items[lo] == item;
}

AISLE_HD inline int64_t draw_uniform(const NegativeTables& t, int64_t user, CounterRng& rng) {
  const int64_t* pos = t.items + t.offsets[user];
  const int64_t degree = t.offsets[user + 1] - t.offsets[user];
  const int64_t rank = static_cast<int64_t>(rng.below(static_cast<uint64_t>(t.num_items - degree)));
  // The rank-th non-positive is rank + j, where j counts the positives p_j with p_j - j <= rank
  // (p_j - j, the non-positives below p_j, is non-decreasing in j).
  int64_t lo = 0, hi = degree;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (pos[mid] - mid <= rank) lo = mid + 1;
    else hi = mid;
  }
  return rank + lo;
}

// The same draw item by item, O(num_items), from the weights themselves: for a user whose mass
// outside the positives is lost in the prefix sums' rounding (weights spanning more than 2^53,
// e.g. counts 1e20 and 1 at alpha 1 with the 1e20 item a positive), where every gap's prefix
// difference is 0 although drawable items remain.
AISLE_HD inline int64_t draw_complement_by_weights(const NegativeTables& t, int64_t user, double unit) {
  const int64_t* pos = t.items + t.offsets[user];
  const int64_t degree = t.offsets[user + 1] - t.offsets[user];
  double mass = 0;
  for (int64_t i = 0, p = 0; i < t.num_items; ++i) {
    if (p < degree && pos[p] == i) ++p;
    else if (t.weights[i] > 0) mass += t.weights[i];
  }
  double x = mul_no_fma(unit, mass);
  int64_t last = -1;
  for (int64_t i = 0, p = 0; i < t.num_items; ++i) {
    if (p < degree && pos[p] == i) {
      ++p;
      continue;
    }
    if (t.weights[i] <= 0) continue;
    if (x < t.weights[i]) return i;
    x -= t.weights[i];
    last = i;
  }
  return last;
}

// Exact draw from the popularity mass outside the user's positives, by walking the gaps between
// them: O(degree + log num_items).
AISLE_HD inline int64_t draw_complement(const NegativeTables& t, int64_t user, double unit) {
  const int64_t* pos = t.items + t.offsets[user];
  const int64_t degree = t.offsets[user + 1] - t.offsets[user];
  const int64_t n = t.num_items;
  // Gap g is [g == 0 ? 0 : pos[g-1] + 1, g == degree ? n : pos[g]).
  auto gap_lo = [&](int64_t g) { return g == 0 ? int64_t{0} : pos[g - 1] + 1; };
  auto gap_hi = [&](int64_t g) { return g == degree ? n : pos[g]; };
  double mass = 0;
  for (int64_t g = 0; g <= degree; ++g) {
    const int64_t lo = gap_lo(g), hi = gap_hi(g);
    if (lo < hi) mass += t.prefix[hi] - t.prefix[lo];
  }
  if (!(mass > 0)) return draw_complement_by_weights(t, user, unit);
  double x = mul_no_fma(unit, mass);
  int64_t last = -1;  // the last drawable item seen, for rounding at the very end
  for (int64_t g = 0; g <= degree; ++g) {
    const int64_t lo = gap_lo(g), hi = gap_hi(g);
    if (lo >= hi) continue;
    const double gap_mass = t.prefix[hi] - t.prefix[lo];
    if (gap_mass <= 0) continue;
    if (x < gap_mass) {
      // The first item whose inclusive prefix exceeds the target; clamp against rounding.
      const double target = t.prefix[lo] + x;
      int64_t item = upper_bound_index(t.prefix, lo + 1, hi + 1, target) - 1;
      item = item < hi - 1 ? item : hi - 1;
      while (t.weights[item] <= 0 && item > lo) --item;
      while (t.weights[item] <= 0) ++item;
      return item;
    }
    x -= gap_mass;
    last = hi - 1;
    while (t.weights[last] <= 0) --last;
  }
  return last;
}

AISLE_HD inline int64_t draw_popular(const NegativeTables& t, int64_t user, CounterRng& rng) {
  if (t.free_share[user] >= kMinRejectionShare) {
    const uint64_t n = static_cast<uint64_t>(t.num_items);
    for (int a = 0; a < t.max_attempts; ++a) {
      const int64_t column = static_cast<int64_t>(rng.below(n));
      const double coin = rng.unit();
      const int64_t item = coin < t.alias_prob[column] ? column : t.alias[column];
      if (t.weights[item] > 0 && !is_positive(t, user, item)) return item;
    }
  }
  // Conditioned on every attempt failing, the exact draw keeps the output distribution exact.
  return draw_complement(t, user, rng.unit());
}

// The negative of output slot `slot` for `user` (who can_draw; slot < kNegativeMaxSlot).
AISLE_HD inline int64_t draw_negative(const NegativeTables& t, int64_t user, uint64_t seed, uint64_t stream,
                                      uint64_t slot) {
  CounterRng rng(seed, stream, slot << kNegativeSlotBlockBits);
  return t.popularity() ? draw_popular(t, user, rng) : draw_uniform(t, user, rng);
}

}  // namespace aisle::detail
