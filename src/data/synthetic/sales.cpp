#include "src/data/synthetic/sales.hpp"

namespace aisle::data::synth {

DailySales::DailySales(int64_t items, int64_t days) : days_(days), units_(static_cast<size_t>(items * days), 0) {}

int64_t DailySales::units_sold() const {
  int64_t total = 0;
  for (uint32_t u : units_) total += u;
  return total;
}

DailySales::Written DailySales::write(DatasetWriter& w, const Catalogue& c) const {
  DatasetWriter::Column& item_col = w.table_column("daily_sales", "item", DType::i64);
  DatasetWriter::Column& day_col = w.table_column("daily_sales", "day", DType::i64);
  DatasetWriter::Column& units_col = w.table_column("daily_sales", "units", DType::i64);
  DatasetWriter::Column& revenue_col = w.table_column("daily_sales", "revenue", DType::f64);
  Written out;
  const auto items = static_cast<int64_t>(units_.size()) / days_;
  for (int64_t i = 0; i < items; ++i)
    for (int64_t d = 0; d < days_; ++d) {
      const uint32_t units = units_[static_cast<size_t>(i * days_ + d)];
      if (units == 0) continue;
      const double revenue = static_cast<double>(units) * c.price_cents[static_cast<size_t>(i)] / 100.0;
      item_col.push<int64_t>(i);
      day_col.push<int64_t>(d);
      units_col.push<int64_t>(units);
      revenue_col.push<double>(revenue);
      ++out.rows;
      out.revenue += revenue;
    }
  return out;
}

}  // namespace aisle::data::synth
