#pragma once
// Internal: a user's latent tastes, and how the interaction total is shared among users.
#include <cstdint>
#include <vector>

#include "src/data/synthetic/catalogue.hpp"
#include "src/data/synthetic/rng.hpp"

namespace aisle::data::synth {

struct UserModel {
  static constexpr int kMaxPreferences = 3;
  double activity = 0;   // log-normal: a few heavy users, many light ones
  int32_t join_day = 0;  // no sessions before it
  int32_t preferences = 0;
  int32_t category[kMaxPreferences] = {};
  double cumulative[kMaxPreferences] = {};  // cumulative preference weights, the last is 1
  int32_t brand[kMaxPreferences] = {};      // favourite brand in that category
  int32_t group[kMaxPreferences] = {};      // its (category, brand) group in the catalogue
  double price_sensitivity = 0;             // >= 0; how strongly dear products are avoided
  double explore = 0;                       // probability a session ignores the preferences
  uint8_t region = 0;

  enum Segment : uint8_t { budget, mainstream, premium };
  Segment segment() const {
    return price_sensitivity > 1.4 ? budget : price_sensitivity < 0.6 ? premium : mainstream;
  }
};

// Draws the user's tastes from the start of `rng` (the user's own stream), leaving it positioned
// for the user's sessions.
UserModel draw_user(const Catalogue& catalogue, int64_t days, Stream& rng);

// Row offsets [users + 1] sharing `total` rows among users: each gets min(2, total / users)
// rows, and the rest in proportion to activity by cumulative rounding, so the shares sum to
// `total` exactly and are deterministic.
std::vector<int64_t> share_rows(const std::vector<double>& activity, int64_t total);

}  // namespace aisle::data::synth
