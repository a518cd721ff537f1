#pragma once
// Internal: daily units sold per product, counted while purchases stream past (items x days
// counters, never the purchases themselves), written as the dataset's daily_sales table.
#include <cstdint>
#include <vector>

#include "aisle/data/dataset_writer.hpp"
#include "src/data/synthetic/catalogue.hpp"

namespace aisle::data::synth {

class DailySales {
 public:
  // The most counters we allocate (4 GiB); more is refused when the options are checked.
  static constexpr int64_t kMaxCells = int64_t{1} << 30;

  DailySales(int64_t items, int64_t days);
  void add(int64_t item, int64_t day, uint32_t units) { units_[static_cast<size_t>(item * days_ + day)] += units; }
  int64_t units_sold() const;
  struct Written {
    int64_t rows = 0;
    double revenue = 0;
  };
  // Rows (item, day, units, revenue) for every (item, day) with a sale, by item then day;
  // revenue is units x the product's price in cents / 100.
  Written write(DatasetWriter& writer, const Catalogue& catalogue) const;

 private:
  int64_t days_;
  std::vector<uint32_t> units_;  // [items * days]
};

}  // namespace aisle::data::synth
