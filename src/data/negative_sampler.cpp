#include "aisle/data/negative_sampler.hpp"

#include <algorithm>
#include <cmath>

#include "src/core/parallel.hpp"
#include "src/data/counter_rng.hpp"

namespace aisle::data {

namespace {

// Each output slot owns 256 Philox blocks (1024 words): room for max_attempts alias draws of one
// block each plus the exact fallback, so slots never share random numbers.
constexpr int kSlotBlockBits = 8;
constexpr int kMaxAttempts = 200;
constexpr uint64_t kMaxSlot = uint64_t{1} << (64 - kSlotBlockBits);
// Below this share of the mass left to draw from, rejection would average > 8 tries: go exact.
constexpr double kMinRejectionShare = 1.0 / 8.0;

detail::CounterRng slot_rng(uint64_t seed, uint64_t stream, uint64_t slot) {
  return detail::CounterRng(seed, stream, slot << kSlotBlockBits);
}

void check_ids(const char* op, const char* name, const Tensor& t) {
  AISLE_CHECK(t.defined() && t.dim() == 1 && t.dtype() == DType::i64 && !t.is_cuda(), op, ": ", name,
              " must be a 1-D i64 CPU tensor, got ", t.defined() ? t.describe() : std::string("an undefined tensor"));
}

// Vose's alias method: O(1) draws from arbitrary weights. Serial, so the table is deterministic.
void build_alias(const std::vector<double>& w, double total, std::vector<double>& prob, std::vector<int64_t>& alias) {
  const int64_t n = static_cast<int64_t>(w.size());
  prob.resize(w.size());
  alias.resize(w.size());
  std::vector<int64_t> small, large;
  for (int64_t i = 0; i < n; ++i) {
    prob[static_cast<size_t>(i)] = w[static_cast<size_t>(i)] * static_cast<double>(n) / total;
    alias[static_cast<size_t>(i)] = i;
    (prob[static_cast<size_t>(i)] < 1.0 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    const int64_t s = small.back(), l = large.back();
    small.pop_back();
    alias[static_cast<size_t>(s)] = l;
    double& pl = prob[static_cast<size_t>(l)];
    pl -= 1.0 - prob[static_cast<size_t>(s)];
    if (pl < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers are 1 up to rounding. (A zero-weight leftover is still never returned: draws
  // reject zero-weight items.)
  for (int64_t i : small) prob[static_cast<size_t>(i)] = 1.0;
  for (int64_t i : large) prob[static_cast<size_t>(i)] = 1.0;
}

}  // namespace

Tensor item_counts(const Interactions& x) {
  x.validate("item_counts");
  Tensor out = Tensor::zeros({x.num_items}, DType::i64);
  int64_t* c = out.data<int64_t>();
  const int64_t* it = x.items.data<int64_t>();
  for (int64_t r = 0; r < x.size(); ++r) ++c[it[r]];
  return out;
}

NegativeSampler::NegativeSampler(std::shared_ptr<const UserItemIndex> positives) : positives_(std::move(positives)) {
  AISLE_CHECK(positives_ != nullptr, "NegativeSampler: the positives index is null");
}

NegativeSampler NegativeSampler::uniform(std::shared_ptr<const UserItemIndex> positives) {
  return NegativeSampler(std::move(positives));
}

NegativeSampler NegativeSampler::popularity(std::shared_ptr<const UserItemIndex> positives, const Tensor& counts,
                                            double alpha, int max_attempts) {
  NegativeSampler s(std::move(positives));
  const char* op = "NegativeSampler::popularity";
  const int64_t n_items = s.num_items();
  AISLE_CHECK(counts.defined() && counts.dim() == 1 && counts.numel() == n_items && !counts.is_cuda(), op,
              ": item_counts must be a 1-D CPU tensor of num_items = ", n_items, " entries, got ",
              counts.defined() ? counts.describe() : std::string("an undefined tensor"));
  AISLE_CHECK(std::isfinite(alpha) && alpha >= 0, op, ": alpha must be finite and non-negative, got ", alpha);
  AISLE_CHECK(max_attempts >= 0 && max_attempts <= kMaxAttempts, op, ": max_attempts must be in [0, ",
              kMaxAttempts, "], got ", max_attempts);
  s.max_attempts_ = max_attempts;
  const std::vector<double> c = counts.to_doubles();
  s.weights_.resize(c.size());
  s.prefix_.assign(c.size() + 1, 0.0);
  int64_t drawable = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    AISLE_CHECK(std::isfinite(c[i]) && c[i] >= 0, op, ": item_counts[", i, "] = ", c[i],
                " must be finite and non-negative");
    s.weights_[i] = std::pow(c[i], alpha);
    AISLE_CHECK(std::isfinite(s.weights_[i]), op, ": item_counts[", i, "]^alpha overflows");
    s.prefix_[i + 1] = s.prefix_[i] + s.weights_[i];
    drawable += s.weights_[i] > 0;
  }
  const double total = s.prefix_.back();
  AISLE_CHECK(total > 0, op, ": every item has weight 0 (counts all zero with alpha > 0)");
  build_alias(s.weights_, total, s.alias_prob_, s.alias_);

  // Each user's share of the mass outside its positives, and whether anything is left at all
  // (counted exactly, so rounding never hides an empty complement).
  const UserItemIndex& index = *s.positives_;
  s.free_share_.assign(static_cast<size_t>(index.num_users()), 0.0);
  cpu::parallel_for(index.num_users(), 1024, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      double taken = 0;
      int64_t taken_drawable = 0;
      for (const int64_t* p = index.begin(u); p != index.end(u); ++p) {
        taken += s.weights_[static_cast<size_t>(*p)];
        taken_drawable += s.weights_[static_cast<size_t>(*p)] > 0;
      }
      const double share = std::max((total - taken) / total, 1e-300);
      s.free_share_[static_cast<size_t>(u)] = taken_drawable < drawable ? share : 0.0;
    }
  });
  return s;
}

bool NegativeSampler::is_positive(int64_t user, int64_t item) const {
  return std::binary_search(positives_->begin(user), positives_->end(user), item);
}

void NegativeSampler::check_users(const Tensor& users, const char* op) const {
  check_ids(op, "users", users);
  const int64_t* u = users.data<int64_t>();
  for (int64_t r = 0; r < users.numel(); ++r) {
    AISLE_CHECK(u[r] >= 0 && u[r] < num_users(), op, ": user id ", u[r], " at position ", r,
                " is outside [0, ", num_users(), ")");
    if (is_popularity())
      AISLE_DATA_CHECK(free_share_[static_cast<size_t>(u[r])] > 0, op, ": user ", u[r],
                       " has no negative to draw: every item of non-zero popularity weight is a positive");
    else
      AISLE_DATA_CHECK(positives_->degree(u[r]) < num_items(), op, ": user ", u[r],
                       " has no negative to draw: all ", num_items(), " items are positives");
  }
}

int64_t NegativeSampler::draw(int64_t user, uint64_t seed, uint64_t stream, uint64_t slot) const {
  return is_popularity() ? draw_popular(user, seed, stream, slot) : draw_uniform(user, seed, stream, slot);
}

int64_t NegativeSampler::draw_uniform(int64_t user, uint64_t seed, uint64_t stream, uint64_t slot) const {
  const int64_t* pos = positives_->begin(user);
  const int64_t degree = positives_->degree(user);
  auto rng = slot_rng(seed, stream, slot);
  const int64_t rank = static_cast<int64_t>(rng.below(static_cast<uint64_t>(num_items() - degree)));
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

int64_t NegativeSampler::draw_popular(int64_t user, uint64_t seed, uint64_t stream, uint64_t slot) const {
  auto rng = slot_rng(seed, stream, slot);
  if (free_share_[static_cast<size_t>(user)] >= kMinRejectionShare) {
    const uint64_t n = static_cast<uint64_t>(num_items());
    for (int a = 0; a < max_attempts_; ++a) {
      const int64_t column = static_cast<int64_t>(rng.below(n));
      const double coin = rng.unit();
      const int64_t item = coin < alias_prob_[static_cast<size_t>(column)] ? column : alias_[static_cast<size_t>(column)];
      if (weights_[static_cast<size_t>(item)] > 0 && !is_positive(user, item)) return item;
    }
  }
  // Conditioned on every attempt failing, the exact draw keeps the output distribution exact.
  return draw_complement(user, rng.unit());
}

int64_t NegativeSampler::draw_complement(int64_t user, double unit) const {
  const int64_t* pos = positives_->begin(user);
  const int64_t degree = positives_->degree(user);
  const int64_t n = num_items();
  // Gap g is [g == 0 ? 0 : pos[g-1] + 1, g == degree ? n : pos[g]).
  auto gap = [&](int64_t g, int64_t& lo, int64_t& hi) {
    lo = g == 0 ? 0 : pos[g - 1] + 1;
    hi = g == degree ? n : pos[g];
  };
  double mass = 0;
  int64_t lo = 0, hi = 0;
  for (int64_t g = 0; g <= degree; ++g) {
    gap(g, lo, hi);
    if (lo < hi) mass += prefix_[static_cast<size_t>(hi)] - prefix_[static_cast<size_t>(lo)];
  }
  double x = unit * mass;
  int64_t last = -1;  // the last drawable item seen, for rounding at the very end
  for (int64_t g = 0; g <= degree; ++g) {
    gap(g, lo, hi);
    if (lo >= hi) continue;
    const double gap_mass = prefix_[static_cast<size_t>(hi)] - prefix_[static_cast<size_t>(lo)];
    if (gap_mass <= 0) continue;
    if (x < gap_mass) {
      // The first item whose inclusive prefix exceeds the target; clamp against rounding.
      const double target = prefix_[static_cast<size_t>(lo)] + x;
      const double* first = prefix_.data() + lo + 1;
      int64_t item = std::upper_bound(first, prefix_.data() + hi + 1, target) - prefix_.data() - 1;
      item = std::min(item, hi - 1);
      while (weights_[static_cast<size_t>(item)] <= 0 && item > lo) --item;
      while (weights_[static_cast<size_t>(item)] <= 0) ++item;
      return item;
    }
    x -= gap_mass;
    last = hi - 1;
    while (weights_[static_cast<size_t>(last)] <= 0) --last;
  }
  return last;
}

Tensor NegativeSampler::sample(const Tensor& users, int64_t k, Generator& gen) const {
  return sample(users, k, gen.seed(), gen.take_stream());
}

Tensor NegativeSampler::sample(const Tensor& users, int64_t k, uint64_t seed, uint64_t stream,
                               const Tensor& keys) const {
  const char* op = "NegativeSampler::sample";
  AISLE_CHECK(k >= 0, op, ": k must be non-negative, got ", k);
  check_users(users, op);
  const int64_t n = users.numel();
  const int64_t* key = nullptr;
  if (keys.defined()) {
    check_ids(op, "keys", keys);
    AISLE_CHECK(keys.numel() == n, op, ": keys ", keys.describe(), " must have one entry per user (", n, ")");
    key = keys.data<int64_t>();
  }
  const uint64_t slots_per_key = static_cast<uint64_t>(std::max<int64_t>(k, 1));
  for (int64_t r = 0; r < n; ++r) {
    const int64_t kr = key ? key[r] : r;
    AISLE_CHECK(kr >= 0 && static_cast<uint64_t>(kr) < kMaxSlot / slots_per_key, op, ": key ", kr,
                " at position ", r, " is negative or too large (keys * k must stay below 2^56)");
  }
  Tensor out = Tensor::empty({n, k}, DType::i64);
  int64_t* po = out.data<int64_t>();
  const int64_t* pu = users.data<int64_t>();
  cpu::parallel_for(n, std::max<int64_t>(1, 2048 / slots_per_key), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint64_t base = static_cast<uint64_t>(key ? key[r] : r) * static_cast<uint64_t>(k);
      for (int64_t j = 0; j < k; ++j) po[r * k + j] = draw(pu[r], seed, stream, base + static_cast<uint64_t>(j));
    }
  });
  return out;
}

}  // namespace aisle::data
