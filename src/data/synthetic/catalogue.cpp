#include "src/data/synthetic/catalogue.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace aisle::data::synth {

namespace {

// Zipf weights over a random ranking of n things: weight[k] = 1 / (rank(k) + 1)^s.
std::vector<double> zipf_by_random_rank(int32_t n, double s, Stream& rng) {
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (int32_t k = n - 1; k > 0; --k) std::swap(order[static_cast<size_t>(k)], order[rng.below(static_cast<uint32_t>(k) + 1)]);
  std::vector<double> w(static_cast<size_t>(n));
  for (int32_t r = 0; r < n; ++r) w[static_cast<size_t>(order[static_cast<size_t>(r)])] = std::pow(r + 1.0, -s);
  return w;
}

}  // namespace

Catalogue make_catalogue(const SynthOptions& o) {
  Catalogue c;
  c.items = static_cast<int32_t>(o.items);
  c.categories = static_cast<int32_t>(o.categories);
  c.departments = std::max<int32_t>(1, static_cast<int32_t>(std::lround(std::sqrt(static_cast<double>(o.categories)))));
  c.brands = static_cast<int32_t>(o.brands);
  const auto n = static_cast<size_t>(c.items);
  const auto nc = static_cast<size_t>(c.categories);
  Stream rng(o.seed, kCatalogueStream);

  // Categories: Zipf popularity; popular categories also stock more products (sqrt of it).
  c.category_weight = zipf_by_random_rank(c.categories, 0.7, rng);
  c.category_sampler = alias_by_group(std::vector<int32_t>(nc, 0), c.category_weight, 1);
  std::vector<double> stock(nc);
  for (size_t k = 0; k < nc; ++k) stock[k] = std::sqrt(c.category_weight[k]);
  const GroupedAlias stock_sampler = alias_by_group(std::vector<int32_t>(nc, 0), stock, 1);
  std::vector<double> median_price(nc);
  for (double& m : median_price) m = std::exp(std::log(5.0) + rng.uniform() * std::log(300.0 / 5.0));

  // Brands: Zipf sizes and a price tier; each category stocks a pool of them.
  const std::vector<double> brand_weight = zipf_by_random_rank(c.brands, 0.8, rng);
  const GroupedAlias brand_sampler = alias_by_group(std::vector<int32_t>(static_cast<size_t>(c.brands), 0), brand_weight, 1);
  std::vector<double> tier(static_cast<size_t>(c.brands));
  for (double& t : tier) t = std::exp(0.3 * rng.normal());
  const int32_t pool = std::min(c.brands, std::max(2, 3 * c.brands / c.categories + 2));
  std::vector<int32_t> pools(nc * static_cast<size_t>(pool));
  for (size_t k = 0; k < nc; ++k) {
    int32_t* p = &pools[k * static_cast<size_t>(pool)];
    for (int32_t j = 0; j < pool; ++j) {
      int32_t b = brand_sampler.sample(0, rng);
      for (int tries = 0; tries < 32 && std::find(p, p + j, b) != p + j; ++tries) b = brand_sampler.sample(0, rng);
      p[j] = b;  // a rare repeat only makes that brand twice as likely here
    }
  }
  std::vector<double> pool_weight(static_cast<size_t>(pool));
  for (int32_t j = 0; j < pool; ++j) pool_weight[static_cast<size_t>(j)] = 1.0 / (j + 1.0);
  const GroupedAlias pool_sampler = alias_by_group(std::vector<int32_t>(static_cast<size_t>(pool), 0), pool_weight, 1);

  // Products: category (every category gets at least one), brand from its pool, price.
  c.category.resize(n);
  c.brand.resize(n);
  c.price_cents.resize(n);
  std::vector<float> price_z(n);
  std::vector<double> rank_key(n);
  for (size_t i = 0; i < n; ++i) {
    const int32_t k = i < nc ? static_cast<int32_t>(i) : stock_sampler.sample(0, rng);
    const int32_t b = pools[static_cast<size_t>(k) * static_cast<size_t>(pool) + static_cast<size_t>(pool_sampler.sample(0, rng))];
    const double spread = 0.4 * rng.normal();
    const double price = median_price[static_cast<size_t>(k)] * tier[static_cast<size_t>(b)] * std::exp(spread);
    c.category[i] = k;
    c.brand[i] = b;
    c.price_cents[i] = std::max(49, static_cast<int32_t>(std::lround(price * 100.0)));
    price_z[i] = static_cast<float>(std::log(c.price_cents[i] / (100.0 * median_price[static_cast<size_t>(k)])) / 0.5);
    rank_key[i] = rng.uniform();
  }

  // Popularity: Zipf by a random rank within the category; rank 0 is the category's evergreen.
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const auto ia = static_cast<size_t>(a), ib = static_cast<size_t>(b);
    return c.category[ia] != c.category[ib] ? c.category[ia] < c.category[ib]
           : rank_key[ia] != rank_key[ib]   ? rank_key[ia] < rank_key[ib]
                                            : a < b;
  });
  c.popularity.resize(n);
  c.evergreen.assign(nc, -1);
  for (size_t r = 0, rank = 0; r < n; ++r) {
    const auto i = static_cast<size_t>(order[r]);
    rank = r > 0 && c.category[static_cast<size_t>(order[r - 1])] == c.category[i] ? rank + 1 : 0;
    c.popularity[i] = std::pow(static_cast<double>(rank) + 1.0, -o.zipf);
    if (rank == 0) c.evergreen[static_cast<size_t>(c.category[i])] = static_cast<int32_t>(i);
  }

  // Life cycles. 60% launched before the window (some already declining), the rest inside it.
  c.product.resize(n);
  const auto days = static_cast<uint32_t>(o.days);
  for (size_t i = 0; i < n; ++i) {
    const bool evergreen = c.evergreen[static_cast<size_t>(c.category[i])] == static_cast<int32_t>(i);
    const int32_t launch = evergreen || rng.chance(0.6) ? -1 - static_cast<int32_t>(rng.below(730))
                                                        : static_cast<int32_t>(rng.below(days));
    const int32_t growth = 7 + static_cast<int32_t>(rng.below(36));
    const int32_t maturity = evergreen ? 1'000'000 : 30 + static_cast<int32_t>(std::min(900.0, rng.exponential(150.0)));
    const auto half_life = static_cast<float>(20.0 + 70.0 * rng.uniform());
    c.product[i] = {launch, launch + growth, launch + growth + maturity, half_life, price_z[i]};
  }
  c.by_category = alias_by_group(c.category, c.popularity, c.categories);
  build_proposals(c, o.days);
  return c;
}

}  // namespace aisle::data::synth
