// SynthTruth: the generator's hidden parameters, rebuilt from the options.
#include "aisle/core/error.hpp"
#include "aisle/data/synthetic.hpp"
#include "src/data/synthetic/model.hpp"

namespace aisle::data {

struct SynthTruth::State {
  synth::Model model;
};

SynthTruth::SynthTruth(const SynthOptions& options) : s_(std::make_unique<State>(State{synth::Model(options)})) {}
SynthTruth::~SynthTruth() = default;
SynthTruth::SynthTruth(SynthTruth&&) noexcept = default;

SynthItem SynthTruth::item(int64_t item) const {
  const synth::Catalogue& c = s_->model.catalogue;
  AISLE_CHECK(item >= 0 && item < c.items, "SynthTruth::item: ", item, " is outside [0, ", c.items, ")");
  const auto i = static_cast<size_t>(item);
  SynthItem out;
  out.category = c.category[i];
  out.department = c.department_of(c.category[i]);
  out.brand = c.brand[i];
  out.price = c.price_cents[i] / 100.0;
  out.launch_day = c.product[i].launch;
  out.mature_day = c.product[i].mature;
  out.decline_day = c.product[i].decline;
  out.decline_half_life = c.product[i].half_life;
  out.popularity = c.popularity[i];
  return out;
}

SynthUser SynthTruth::user(int64_t user) const {
  const synth::Model& m = s_->model;
  AISLE_CHECK(user >= 0 && user < m.options.users, "SynthTruth::user: ", user, " is outside [0, ", m.options.users, ")");
  const synth::UserModel u = m.user(user);
  SynthUser out;
  out.activity = u.activity;
  out.join_day = u.join_day;
  double previous = 0;
  for (int k = 0; k < u.preferences; ++k) {
    out.categories.push_back(u.category[k]);
    out.weights.push_back(u.cumulative[k] - previous);
    out.brands.push_back(u.brand[k]);
    previous = u.cumulative[k];
  }
  out.price_sensitivity = u.price_sensitivity;
  out.explore = u.explore;
  return out;
}

double SynthTruth::demand(int64_t day) const {
  AISLE_CHECK(day >= 0 && day < s_->model.calendar.days(), "SynthTruth::demand: day ", day, " is outside the window");
  return s_->model.calendar.demand(day);
}

double SynthTruth::lifecycle(int64_t item, int64_t day) const {
  AISLE_CHECK(item >= 0 && item < s_->model.catalogue.items, "SynthTruth::lifecycle: item ", item, " is outside the catalogue");
  return s_->model.catalogue.lifecycle(static_cast<int32_t>(item), day);
}

}  // namespace aisle::data
