#pragma once
// Internal: everything fixed before any session is generated: the checked options, the calendar
// and the catalogue. Users are drawn on demand from their own streams.
#include "aisle/data/synthetic.hpp"
#include "src/data/synthetic/calendar.hpp"
#include "src/data/synthetic/catalogue.hpp"
#include "src/data/synthetic/users.hpp"

namespace aisle::data::synth {

struct Model {
  explicit Model(const SynthOptions& options);  // checks the options first
  SynthOptions options;
  Calendar calendar;
  Catalogue catalogue;

  Stream user_stream(int64_t user) const { return Stream(options.seed, kUserStreamBase + static_cast<uint64_t>(user)); }
  UserModel user(int64_t user) const {
    Stream rng = user_stream(user);
    return draw_user(catalogue, options.days, rng);
  }
};

}  // namespace aisle::data::synth
