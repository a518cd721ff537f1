#include "src/data/synthetic/calendar.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <string>

#include "aisle/core/error.hpp"

namespace aisle::data::synth {

namespace ch = std::chrono;

int64_t parse_date(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  auto field = [&](auto& out, size_t digits, bool dash) {
    if (static_cast<size_t>(end - p) < digits) return false;
    const auto r = std::from_chars(p, p + digits, out);
    if (r.ec != std::errc() || r.ptr != p + digits) return false;
    p += digits;
    if (dash) {
      if (p == end || *p != '-') return false;
      ++p;
    }
    return true;
  };
  const bool shaped = text.size() == 10 && field(y, 4, true) && field(m, 2, true) && field(d, 2, false);
  const ch::year_month_day date{ch::year{y}, ch::month{m}, ch::day{d}};
  AISLE_CHECK(shaped && date.ok(), "synthetic data: start date '", text, "' is not a valid YYYY-MM-DD date");
  return ch::sys_days{date}.time_since_epoch().count();
}

namespace {

// A bump of height 1 at `center` days, with width `sigma` days.
double bump(double x, double center, double sigma) { return std::exp(-0.5 * (x - center) * (x - center) / (sigma * sigma)); }

// Sales per weekday (Monday first): weekend browsing peaks, Friday evenings are quiet.
constexpr double kWeekday[7] = {1.05, 0.95, 0.95, 0.95, 0.85, 1.15, 1.25};
// Session starts per hour 0..22 (no start at 23:00: sessions must end before midnight).
constexpr double kHour[23] = {0.30, 0.20, 0.12, 0.08, 0.08, 0.10, 0.20, 0.40, 0.60, 0.75, 0.85, 0.90,
                              0.95, 0.95, 0.90, 0.90, 0.95, 1.00, 1.10, 1.30, 1.45, 1.40, 1.10};

}  // namespace

Calendar::Calendar(int64_t start_epoch_day, int64_t days) : start_epoch_day_(start_epoch_day) {
  demand_.resize(static_cast<size_t>(days));
  conversion_.resize(static_cast<size_t>(days));
  cumulative_.assign(static_cast<size_t>(days) + 1, 0.0);
  for (int64_t d = 0; d < days; ++d) {
    const ch::sys_days date{ch::days{start_epoch_day + d}};
    const ch::year_month_day ymd{date};
    const double doy = static_cast<double>((date - ch::sys_days{ymd.year() / ch::January / 1}).count());
    // Black Friday: the day after the fourth Thursday of November.
    const ch::sys_days thanksgiving{ymd.year() / ch::November / ch::Thursday[4]};
    const double black_friday = static_cast<double>((thanksgiving + ch::days{1} - ch::sys_days{ymd.year() / ch::January / 1}).count());
    const double christmas = static_cast<double>((ch::sys_days{ymd.year() / ch::December / 25} - ch::sys_days{ymd.year() / ch::January / 1}).count());
    const double deals = bump(doy, black_friday + 1, 2.5);  // Black Friday to Cyber Monday
    const double gifts = bump(doy, christmas - 10, 6.0);    // the Christmas run-up
    const double weekday = kWeekday[ch::weekday{date}.iso_encoding() - 1];
    const double yearly = 1.0 + 0.12 * std::cos(6.283185307179586 * (doy - 350.0) / 365.25);  // winter high
    const double closed = doy == christmas ? 0.5 : 1.0;                                       // Christmas day
    const double trend = 1.0 + 0.10 * static_cast<double>(d) / 365.0;                         // a growing shop
    demand_[static_cast<size_t>(d)] = weekday * yearly * trend * closed * (1.0 + 0.9 * deals + 0.5 * gifts);
    conversion_[static_cast<size_t>(d)] = 1.0 + 0.6 * deals + 0.3 * gifts;
    cumulative_[static_cast<size_t>(d) + 1] = cumulative_[static_cast<size_t>(d)] + demand_[static_cast<size_t>(d)];
  }
  hour_cumulative_.assign(1, 0.0);
  for (double h : kHour) hour_cumulative_.push_back(hour_cumulative_.back() + h);
}

int64_t Calendar::sample_day(Stream& rng, int64_t first) const {
  const double lo = cumulative_[static_cast<size_t>(first)], hi = cumulative_.back();
  const double x = lo + rng.uniform() * (hi - lo);
  // The day d with cumulative_[d] <= x < cumulative_[d + 1].
  const auto it = std::upper_bound(cumulative_.begin() + first + 1, cumulative_.end(), x);
  return std::min<int64_t>(static_cast<int64_t>(it - cumulative_.begin()) - 1, days() - 1);
}

int64_t Calendar::sample_second_of_day(Stream& rng) const {
  const double x = rng.uniform() * hour_cumulative_.back();
  const auto it = std::upper_bound(hour_cumulative_.begin() + 1, hour_cumulative_.end(), x);
  const int64_t hour = std::min<int64_t>(static_cast<int64_t>(it - hour_cumulative_.begin()) - 1, 22);
  return hour * 3600 + rng.below(3600);
}

}  // namespace aisle::data::synth
