#include "src/data/synthetic/sessions.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/data/event.hpp"

namespace aisle::data::synth {

namespace {

constexpr int32_t kMaxSessionRows = 60;  // with gaps <= 60 s a session lasts under an hour
constexpr double kMeanSessionRows = 6.5;
constexpr double kFromFavouriteBrand = 0.4;  // share of picks from the favourite brand's products
constexpr double kDrift = 0.1;               // a view wanders off into another category
constexpr double kCartRate = 0.10, kCartRateFavourite = 0.18;
constexpr double kBuyRate = 0.5;

// A product of `category` (of the favourite brand's group, when >= 0 and chosen) that the user
// looks at on `day`: the day's proposal table offers popular products that are on sale then,
// acceptance brings in the exact life-cycle demand and, for dear products, the user's price
// sensitivity. The evergreen is the fallback if a category is all but empty that day.
int32_t pick_product(const Catalogue& c, int32_t category, int32_t group, int64_t day, double beta, Stream& rng) {
  const int32_t bucket = static_cast<int32_t>(day / c.bucket_days);
  const GroupedAlias* table = &c.category_proposal;
  int32_t g = bucket * c.categories + category;
  if (group >= 0 && rng.chance(kFromFavouriteBrand)) {
    const int32_t brand_group = bucket * static_cast<int32_t>(c.group_keys.size()) + group;
    if (c.brand_proposal.group_size(brand_group) > 0) {
      table = &c.brand_proposal;
      g = brand_group;
    }
  }
  for (int attempt = 0; attempt < 64; ++attempt) {
    const GroupedAlias::Pick pick = table->pick(g, rng);
    const Product& p = c.product[static_cast<size_t>(pick.member)];
    double accept = Catalogue::lifecycle_of(p, day) * Catalogue::kBoundUnit / pick.payload;
    if (p.price_z > 0) accept *= std::exp(-beta * p.price_z);
    if (rng.u32() < accept * 4294967296.0) return pick.member;
  }
  return c.evergreen[static_cast<size_t>(category)];
}

}  // namespace

int64_t generate_user(const Catalogue& c, const Calendar& cal, const UserModel& user, Stream& rng, int64_t budget,
                      const RowSpan& out, SessionScratch& s) {
  // Session sizes first (they fix the session count), then their start times, sorted.
  s.lengths.clear();
  for (int64_t left = budget; left > 0;) {
    const auto len = static_cast<int32_t>(std::min<double>({static_cast<double>(left), kMaxSessionRows,
                                                            1.0 + std::floor(rng.exponential(kMeanSessionRows))}));
    s.lengths.push_back(len);
    left -= len;
  }
  s.starts.resize(s.lengths.size());
  for (int64_t& start : s.starts) start = cal.sample_day(rng, user.join_day) * 86400 + cal.sample_second_of_day(rng);
  std::sort(s.starts.begin(), s.starts.end());

  int64_t row = 0;
  auto emit = [&](int32_t item, int64_t t, Event e, float value, bool first) {
    out.item[row] = item;
    out.timestamp[row] = cal.start_epoch_seconds() + t;
    out.value[row] = value;
    out.event[row] = static_cast<uint8_t>(e);
    out.first[row] = first ? 1 : 0;
    ++row;
  };
  auto gap = [&] { return 5 + static_cast<int64_t>(std::min(55.0, rng.exponential(20.0))); };
  for (size_t k = 0; k < s.lengths.size(); ++k) {
    int64_t t = s.starts[k];
    const int64_t day = t / 86400;
    // The session's mission: a preferred category (with its favourite brand), or any by popularity.
    int32_t category, group = -1, brand = -1;
    if (rng.chance(user.explore)) {
      category = c.category_sampler.sample(0, rng);
    } else {
      const double x = rng.uniform();
      int p = 0;
      while (p + 1 < user.preferences && x >= user.cumulative[p]) ++p;
      category = user.category[p];
      group = user.group[p];
      brand = user.brand[p];
    }
    const double buy = std::min(0.95, kBuyRate * cal.conversion(day));
    int32_t left = s.lengths[k];
    s.pending.clear();
    bool first = true;
    // Browse while there is room beyond the purchases already decided, then check out.
    while (left > static_cast<int32_t>(s.pending.size())) {
      const bool drift = rng.chance(kDrift);
      const int32_t item = drift ? pick_product(c, c.category_sampler.sample(0, rng), -1, day, user.price_sensitivity, rng)
                                 : pick_product(c, category, group, day, user.price_sensitivity, rng);
      emit(item, t, Event::view, 1.0f, first);
      first = false;
      t += gap();
      --left;
      const bool favourite = c.brand[static_cast<size_t>(item)] == brand;
      if (left > static_cast<int32_t>(s.pending.size()) && rng.chance(favourite ? kCartRateFavourite : kCartRate)) {
        emit(item, t, Event::cart, 1.0f, false);
        t += gap();
        --left;
        const double z = std::max(0.0f, c.product[static_cast<size_t>(item)].price_z);
        if (left >= static_cast<int32_t>(s.pending.size()) + 1 && rng.chance(buy * std::exp(-0.5 * user.price_sensitivity * z)))
          s.pending.push_back(item);
      }
    }
    for (int32_t item : s.pending) {
      // Cheap products sell by the handful more often.
      const double more = c.price_cents[static_cast<size_t>(item)] < 1500 ? 0.35 : 0.12;
      int quantity = 1;
      while (quantity < 24 && rng.chance(more)) ++quantity;
      emit(item, t, Event::purchase, static_cast<float>(quantity), false);
      t += gap();
    }
  }
  return static_cast<int64_t>(s.lengths.size());
}

}  // namespace aisle::data::synth
