#include "src/data/synthetic/block.hpp"

namespace aisle::data::synth {

void Block::prepare(int64_t first_u, int64_t end_u, int64_t row0, int64_t rows) {
  first_user = first_u;
  end_user = end_u;
  first_row = row0;
  const auto r = static_cast<size_t>(rows), u = static_cast<size_t>(end_u - first_u);
  if (r > item.size()) {
    item.resize(r);
    timestamp.resize(r);
    value.resize(r);
    event.resize(r);
    first.resize(r);
  }
  if (u > segment.size()) {
    segment.resize(u);
    region.resize(u);
    sessions.resize(u);
  }
}

BlockSink::BlockSink(DatasetWriter& writer, const std::vector<int64_t>& offsets, int64_t items, int64_t days,
                     int64_t start_epoch_seconds)
    : writer_(writer),
      offsets_(offsets),
      session_first_(writer.table_column("sessions", "first", DType::i64)),
      session_length_(writer.table_column("sessions", "length", DType::i64)),
      sales_(items, days),
      epoch_(start_epoch_seconds) {}

void BlockSink::write(const Block& b) {
  static const char* const kSegments[] = {"budget", "mainstream", "premium"};
  static const char* const kRegions[] = {"region-0", "region-1", "region-2", "region-3",
                                         "region-4", "region-5", "region-6", "region-7"};
  for (int64_t u = b.first_user; u < b.end_user; ++u) {
    const auto k = static_cast<size_t>(u - b.first_user);
    writer_.user_categorical("segment", u, kSegments[b.segment[k]]);
    writer_.user_categorical("region", u, kRegions[b.region[k]]);
    sessions_ += b.sessions[k];
    for (int64_t row = offsets_[static_cast<size_t>(u)]; row < offsets_[static_cast<size_t>(u) + 1]; ++row) {
      const auto r = static_cast<size_t>(row - b.first_row);
      const auto event = static_cast<Event>(b.event[r]);
      writer_.add(u, b.item[r], b.value[r], b.timestamp[r], event);
      if (b.first[r]) {
        if (session_start_ >= 0) {
          session_first_.push<int64_t>(session_start_);
          session_length_.push<int64_t>(row - session_start_);
        }
        session_start_ = row;
      }
      if (event == Event::view) {
        ++views_;
      } else if (event == Event::cart) {
        ++carts_;
      } else {
        ++purchases_;
        sales_.add(b.item[r], (b.timestamp[r] - epoch_) / 86400, static_cast<uint32_t>(b.value[r]));
      }
    }
  }
}

void BlockSink::finish(const Catalogue& catalogue, SynthResult& result) {
  if (session_start_ >= 0) {
    session_first_.push<int64_t>(session_start_);
    session_length_.push<int64_t>(offsets_.back() - session_start_);
  }
  const DailySales::Written written = sales_.write(writer_, catalogue);
  result.sessions = sessions_;
  result.views = views_;
  result.carts = carts_;
  result.purchases = purchases_;
  result.units_sold = sales_.units_sold();
  result.revenue = written.revenue;
  result.sales_rows = written.rows;
}

}  // namespace aisle::data::synth
