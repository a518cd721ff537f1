#include "src/eval/negative_sampler.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/tensor/random.hpp"

namespace aisle::eval::detail {

namespace {

double unit_interval(uint64_t bits) { return uniform_double(static_cast<uint32_t>(bits >> 32), static_cast<uint32_t>(bits)); }

}  // namespace

NegativeSampler::NegativeSampler(const data::UserItemIndex& train, const data::UserItemIndex& test,
                                 NegativeSampling mode, uint64_t seed)
    : train_(train), test_(test), mode_(mode), seed_(seed) {
  if (mode_ != NegativeSampling::popularity) return;
  popularity_.assign(static_cast<size_t>(train.num_items()), 0);
  for (int64_t u = 0; u < train.num_users(); ++u)
    for (const int64_t* it = train.begin(u); it != train.end(u); ++it) ++popularity_[static_cast<size_t>(*it)];
  cumulative_.resize(popularity_.size());
  double running = 0.0;
  for (size_t i = 0; i < popularity_.size(); ++i) {
    cumulative_[i] = running += static_cast<double>(popularity_[i]);
    popular_items_ += popularity_[i] > 0;
  }
}

bool NegativeSampler::interacted(int64_t user, int64_t item) const {
  return std::binary_search(train_.begin(user), train_.end(user), item) ||
         std::binary_search(test_.begin(user), test_.end(user), item);
}

bool NegativeSampler::eligible(int64_t user, int64_t item) const {
  if (mode_ == NegativeSampling::popularity && popularity_[static_cast<size_t>(item)] == 0) return false;
  return !interacted(user, item);
}

int64_t NegativeSampler::count_eligible(int64_t user) const {
  if (mode_ == NegativeSampling::uniform) {
    // |train ∪ test| by merging the two sorted lists.
    const int64_t *a = train_.begin(user), *ea = train_.end(user), *b = test_.begin(user), *eb = test_.end(user);
    int64_t common = 0;
    while (a != ea && b != eb) {
      if (*a < *b) ++a;
      else if (*b < *a) ++b;
      else ++common, ++a, ++b;
    }
    return train_.num_items() - (train_.degree(user) + test_.degree(user) - common);
  }
  int64_t count = popular_items_;
  // Interacted items with popularity: the union of the user's lists, each item counted once.
  std::vector<int64_t> seen(train_.begin(user), train_.end(user));
  seen.insert(seen.end(), test_.begin(user), test_.end(user));
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  for (const int64_t item : seen) count -= popularity_[static_cast<size_t>(item)] > 0;
  return count;
}

uint64_t NegativeSampler::draw(int64_t user, int64_t case_index, uint64_t d) const {
  // Block (case, d / 2) of the user's stream holds draws 2 * block and 2 * block + 1.
  const uint64_t block = (static_cast<uint64_t>(case_index) << 32) + (d >> 1);
  const Philox4x32 words = philox_block(seed_, static_cast<uint64_t>(user), block);
  const int half = static_cast<int>(d & 1) * 2;
  return (static_cast<uint64_t>(words.v[half]) << 32) | words.v[half + 1];
}

int64_t NegativeSampler::pick(uint64_t bits) const {
  if (mode_ == NegativeSampling::uniform)
    return static_cast<int64_t>(bits % static_cast<uint64_t>(train_.num_items()));  // bias < num_items / 2^64
  const double target = unit_interval(bits) * cumulative_.back();
  // The first item whose running sum exceeds the target; zero-popularity items are never picked.
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), target);
  return std::min<int64_t>(it - cumulative_.begin(), train_.num_items() - 1);
}

void NegativeSampler::sample(int64_t user, int64_t case_index, int64_t n, int64_t* out) const {
  const int64_t available = count_eligible(user);
  AISLE_CHECK(available >= n, "evaluate_sampled_ranking: user ", user, " has only ", available,
              " eligible negative items (not interacted", mode_ == NegativeSampling::popularity ? ", seen in training" : "",
              "), fewer than num_negatives = ", n);
  std::vector<int64_t> chosen;  // sorted, for the distinctness test
  chosen.reserve(static_cast<size_t>(n));
  const uint64_t max_draws = 64 * static_cast<uint64_t>(n + train_.degree(user) + test_.degree(user)) + 1024;
  uint64_t d = 0;
  int64_t filled = 0;
  for (; filled < n && d < max_draws; ++d) {
    const int64_t item = pick(draw(user, case_index, d));
    if (!eligible(user, item)) continue;
    const auto at = std::lower_bound(chosen.begin(), chosen.end(), item);
    if (at != chosen.end() && *at == item) continue;
    chosen.insert(at, item);
    out[filled++] = item;
  }
  if (filled < n) sample_exactly(user, case_index, n, d, out);
}

void NegativeSampler::sample_exactly(int64_t user, int64_t case_index, int64_t n, uint64_t first_draw,
                                     int64_t* out) const {
  std::vector<int64_t> pool;
  for (int64_t i = 0; i < train_.num_items(); ++i)
    if (eligible(user, i)) pool.push_back(i);
  uint64_t d = first_draw;
  if (mode_ == NegativeSampling::uniform) {
    // Partial Fisher-Yates: a uniform n-subset, in draw order.
    for (int64_t i = 0; i < n; ++i) {
      const uint64_t left = static_cast<uint64_t>(pool.size()) - static_cast<uint64_t>(i);
      std::swap(pool[static_cast<size_t>(i)], pool[static_cast<size_t>(i) + draw(user, case_index, d++) % left]);
      out[i] = pool[static_cast<size_t>(i)];
    }
    return;
  }
  // Efraimidis-Spirakis: the n largest keys u^(1/w) are a weighted sample without replacement,
  // the distribution the rejection loop samples from.
  std::vector<std::pair<double, int64_t>> keyed(pool.size());
  for (size_t j = 0; j < pool.size(); ++j) {
    const double u = std::max(unit_interval(draw(user, case_index, d++)), 1e-300);
    keyed[j] = {std::log(u) / static_cast<double>(popularity_[static_cast<size_t>(pool[j])]), pool[j]};
  }
  std::partial_sort(keyed.begin(), keyed.begin() + n, keyed.end(), std::greater<>());
  for (int64_t i = 0; i < n; ++i) out[i] = keyed[static_cast<size_t>(i)].second;
}

}  // namespace aisle::eval::detail
