// The tables sessions propose products from: per time bucket, per category and per (category,
// brand) group, weighted by popularity x the bucket's life-cycle bound (see catalogue.hpp).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "src/data/synthetic/catalogue.hpp"

namespace aisle::data::synth {

int32_t Catalogue::group_of(int32_t c, int32_t b) const {
  const int64_t key = int64_t{c} * brands + b;
  const auto it = std::lower_bound(group_keys.begin(), group_keys.end(), key);
  return it != group_keys.end() && *it == key ? static_cast<int32_t>(it - group_keys.begin()) : -1;
}

namespace {

// The highest demand over days [first, last] in units of 1/65535, rounded up (0: not on sale).
// The curve rises, stays flat, then falls, so the maximum is 1 if the interval meets maturity
// and at an end point otherwise.
uint16_t lifecycle_bound(const Product& p, int64_t first, int64_t last) {
  const double high = first < p.decline && last >= p.mature
                          ? 1.0
                          : std::max(Catalogue::lifecycle_of(p, first), Catalogue::lifecycle_of(p, last));
  return static_cast<uint16_t>(std::ceil(high * Catalogue::kBoundUnit));
}

}  // namespace

void build_proposals(Catalogue& c, int64_t days) {
  const auto n = static_cast<size_t>(c.items);
  std::vector<int64_t> keys(n);
  for (size_t i = 0; i < n; ++i) keys[i] = int64_t{c.category[i]} * c.brands + c.brand[i];
  c.group_keys = keys;
  std::sort(c.group_keys.begin(), c.group_keys.end());
  c.group_keys.erase(std::unique(c.group_keys.begin(), c.group_keys.end()), c.group_keys.end());

  // Proposal tables, bucket by bucket: products sorted by category (for category groups) and by
  // (category, brand) (for brand groups), weights popularity x the bucket's demand bound.
  c.buckets = static_cast<int32_t>(std::clamp<int64_t>(days / 30, 1, 12));
  c.bucket_days = static_cast<int32_t>((days + c.buckets - 1) / c.buckets);
  std::vector<int32_t> by_key(n);
  std::iota(by_key.begin(), by_key.end(), 0);
  std::sort(by_key.begin(), by_key.end(), [&](int32_t a, int32_t b) {
    return keys[static_cast<size_t>(a)] != keys[static_cast<size_t>(b)] ? keys[static_cast<size_t>(a)] < keys[static_cast<size_t>(b)] : a < b;
  });
  std::vector<double> weight(n);
  std::vector<uint16_t> bound(n);
  for (int32_t t = 0; t < c.buckets; ++t) {
    const int64_t first = int64_t{t} * c.bucket_days, last = std::min<int64_t>(days, first + c.bucket_days) - 1;
    for (size_t r = 0; r < n; ++r) {  // in by_key order
      const auto i = static_cast<size_t>(by_key[r]);
      bound[r] = lifecycle_bound(c.product[i], first, last);
      weight[r] = c.popularity[i] * bound[r];  // exactly the bound acceptance divides by
    }
    // by_key order is also category order, so both tables read runs of it.
    for (size_t r = 0; r < n;) {
      size_t e = r;
      while (e < n && c.category[static_cast<size_t>(by_key[e])] == c.category[static_cast<size_t>(by_key[r])]) ++e;
      c.category_proposal.add_group(&by_key[r], &weight[r], &bound[r], e - r);
      r = e;
    }
    for (size_t r = 0; r < n;) {
      size_t e = r;
      while (e < n && keys[static_cast<size_t>(by_key[e])] == keys[static_cast<size_t>(by_key[r])]) ++e;
      c.brand_proposal.add_group(&by_key[r], &weight[r], &bound[r], e - r);
      r = e;
    }
  }
}

}  // namespace aisle::data::synth
