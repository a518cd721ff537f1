#include "src/data/synthetic/users.hpp"

#include <algorithm>
#include <cmath>

namespace aisle::data::synth {

UserModel draw_user(const Catalogue& c, int64_t days, Stream& rng) {
  UserModel u;
  u.activity = std::exp(1.1 * rng.normal());
  u.join_day = rng.chance(0.6) ? 0 : static_cast<int32_t>(rng.below(static_cast<uint32_t>(std::max<int64_t>(1, days * 9 / 10))));
  u.preferences = std::min<int32_t>(1 + static_cast<int32_t>(rng.below(UserModel::kMaxPreferences)), c.categories);
  double total = 0;
  for (int k = 0; k < u.preferences; ++k) {
    int32_t cat = c.category_sampler.sample(0, rng);
    for (int tries = 0; tries < 64 && std::find(u.category, u.category + k, cat) != u.category + k; ++tries)
      cat = c.category_sampler.sample(0, rng);
    if (std::find(u.category, u.category + k, cat) != u.category + k) {  // too few categories to differ
      u.preferences = k;
      break;
    }
    u.category[k] = cat;
    // The favourite brand is that of a product the user likes, so it is stocked in the category.
    u.brand[k] = c.brand[static_cast<size_t>(c.by_category.sample(cat, rng))];
    u.group[k] = c.group_of(cat, u.brand[k]);
    total += std::pow(0.5, k) * (0.5 + rng.uniform());
    u.cumulative[k] = total;
  }
  for (int k = 0; k < u.preferences; ++k) u.cumulative[k] /= total;
  u.cumulative[u.preferences - 1] = 1.0;
  u.price_sensitivity = std::max(0.0, 1.0 + 0.6 * rng.normal());
  u.explore = 0.1 + 0.15 * rng.uniform();
  u.region = static_cast<uint8_t>(rng.below(8));
  return u;
}

std::vector<int64_t> share_rows(const std::vector<double>& activity, int64_t total) {
  const auto users = static_cast<int64_t>(activity.size());
  std::vector<int64_t> offsets(static_cast<size_t>(users) + 1, 0);
  if (users == 0) return offsets;
  const int64_t base = std::min<int64_t>(2, total / users);
  const int64_t extra = total - base * users;
  double sum = 0;
  for (double a : activity) sum += a;
  double running = 0;
  int64_t given = 0;  // extra rows handed out to users before u
  for (int64_t u = 0; u < users; ++u) {
    running += activity[static_cast<size_t>(u)];
    // floor(extra * running / sum) is non-decreasing in u; the last user closes the total.
    const int64_t upto = u + 1 == users ? extra
                                        : std::min(extra, static_cast<int64_t>(std::floor(static_cast<double>(extra) * (running / sum))));
    const int64_t mine = std::max<int64_t>(0, upto - given);
    given += mine;
    offsets[static_cast<size_t>(u) + 1] = offsets[static_cast<size_t>(u)] + base + mine;
  }
  return offsets;
}

}  // namespace aisle::data::synth
