#pragma once
// Internal: the shop's calendar. Seasonal demand per day (how many sessions start that day) and
// a conversion multiplier (holiday deals), both fixed by the dates, so a forecaster can learn
// them back from the daily sales.
#include <cstdint>
#include <string_view>
#include <vector>

#include "src/data/synthetic/rng.hpp"

namespace aisle::data::synth {

// "YYYY-MM-DD" -> days since 1970-01-01. Throws aisle::Error naming the text.
int64_t parse_date(std::string_view text);

class Calendar {
 public:
  Calendar(int64_t start_epoch_day, int64_t days);

  int64_t days() const { return static_cast<int64_t>(demand_.size()); }
  int64_t start_epoch_seconds() const { return start_epoch_day_ * 86400; }
  double demand(int64_t day) const { return demand_[static_cast<size_t>(day)]; }
  double conversion(int64_t day) const { return conversion_[static_cast<size_t>(day)]; }
  // A day in [first, days()), with probability proportional to its demand.
  int64_t sample_day(Stream& rng, int64_t first) const;
  // A session start in seconds after midnight: hours 0-22 by a daily profile (evening peak),
  // so that a session shorter than an hour ends before midnight.
  int64_t sample_second_of_day(Stream& rng) const;

 private:
  int64_t start_epoch_day_;
  std::vector<double> demand_, conversion_;
  std::vector<double> cumulative_;  // [days + 1]: demand summed over days before d
  std::vector<double> hour_cumulative_;
};

}  // namespace aisle::data::synth
