#include "src/data/synthetic/model.hpp"

#include "aisle/core/error.hpp"
#include "src/data/synthetic/sales.hpp"

namespace aisle::data {

void check_synth_options(const SynthOptions& o) {
  auto in_range = [](const char* name, auto value, auto lo, auto hi) {
    AISLE_CHECK(value >= lo && value <= hi, "synthetic data: ", name, " must be in [", lo, ", ", hi, "], got ", value);
  };
  in_range("users", o.users, int64_t{1}, int64_t{1} << 32);
  in_range("items", o.items, int64_t{1}, int64_t{1} << 27);  // 12 buckets x items groups fit in int32
  in_range("interactions", o.interactions, int64_t{0}, int64_t{1} << 48);
  in_range("categories", o.categories, int64_t{1}, o.items);
  in_range("brands", o.brands, int64_t{1}, int64_t{1} << 24);
  in_range("days", o.days, int64_t{1}, int64_t{36'600});
  in_range("zipf", o.zipf, 0.0, 10.0);
  in_range("threads", o.threads, 0, 4096);
  AISLE_CHECK(o.items * o.days <= synth::DailySales::kMaxCells, "synthetic data: items x days = ", o.items * o.days,
              " daily-sales counters exceed the limit of ", synth::DailySales::kMaxCells, " (use fewer items or days)");
  synth::parse_date(o.start_date);
}

namespace synth {

Model::Model(const SynthOptions& o)
    : options((check_synth_options(o), o)), calendar(parse_date(o.start_date), o.days), catalogue(make_catalogue(o)) {}

}  // namespace synth
}  // namespace aisle::data
