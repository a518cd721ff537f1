#pragma once
// Internal: the synthetic shop's products (see include/aisle/data/synthetic.hpp for the model),
// and the tables sessions draw products from. Memory is O(items x time buckets).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "aisle/data/synthetic.hpp"
#include "src/data/synthetic/alias.hpp"

namespace aisle::data::synth {

// What a session looks at for every proposed product, packed into one cache line.
struct Product {
  int32_t launch, mature, decline;  // days: growth is [launch, mature), maturity [mature, decline)
  float half_life;                  // of demand in decline, days
  float price_z;                    // log(price / category median) in units of its spread: > 0 is dear
};

struct Catalogue {
  int32_t items = 0, categories = 0, departments = 0, brands = 0;
  // Per product.
  std::vector<int32_t> category, brand, price_cents;
  std::vector<Product> product;
  std::vector<double> popularity;  // Zipf weight by rank within the category
  // Per category.
  std::vector<double> category_weight;  // Zipf across categories
  std::vector<int32_t> evergreen;       // its most popular product, launched before day 0
  GroupedAlias category_sampler;        // a category by weight (group 0)
  GroupedAlias by_category;             // a product of a category by popularity (any day)
  std::vector<int64_t> group_keys;      // (category, brand) groups: sorted category * brands + brand

  // Proposals for a day: the window is cut into buckets of bucket_days; in bucket t a product's
  // weight is popularity x its highest life-cycle demand in the bucket (the payload), so
  // accepting with demand(day) / payload samples by popularity x demand(day) with few rejections,
  // and products not yet launched are never proposed. Group t * categories + c for a category,
  // t * group_keys.size() + g for a (category, brand) group (which may be empty).
  static constexpr double kBoundUnit = 65535.0;  // payloads: the bound in units of 1/65535
  int32_t buckets = 1, bucket_days = 1;
  GroupedAlias category_proposal, brand_proposal;

  int32_t department_of(int32_t c) const { return c % departments; }
  // The (category, brand) group id, or -1 if no product of that brand is in that category.
  int32_t group_of(int32_t c, int32_t b) const;
  // Life-cycle demand in [0, 1]: 0 before launch, a ramp while growing, 1 when mature, halving
  // every half_life days once in decline, with a floor so old products still sell a little.
  double lifecycle(int32_t item, int64_t day) const { return lifecycle_of(product[static_cast<size_t>(item)], day); }
  static double lifecycle_of(const Product& p, int64_t day) {  // inline: called for every proposal
    if (day < p.launch) return 0.0;
    if (day < p.mature) return 0.15 + 0.85 * static_cast<double>(day - p.launch) / static_cast<double>(p.mature - p.launch);
    if (day < p.decline) return 1.0;
    return std::max(0.03, std::exp2(-static_cast<double>(day - p.decline) / p.half_life));
  }
};

Catalogue make_catalogue(const SynthOptions& options);
// Fills group_keys and the proposal tables from the products (make_catalogue's last step).
void build_proposals(Catalogue& catalogue, int64_t days);

}  // namespace aisle::data::synth
