#pragma once
// Internal: one block of users' generated rows, and the in-order sink that writes blocks to the
// dataset (rows, user features, session boundaries) and counts daily sales as purchases pass.
#include <cstdint>
#include <vector>

#include "aisle/data/dataset_writer.hpp"
#include "aisle/data/synthetic.hpp"
#include "src/data/synthetic/sales.hpp"
#include "src/data/synthetic/sessions.hpp"

namespace aisle::data::synth {

struct Block {
  int64_t first_user = 0, end_user = 0;  // users [first_user, end_user)
  int64_t first_row = 0;                 // global row of the block's first row
  std::vector<int32_t> item;
  std::vector<int64_t> timestamp;
  std::vector<float> value;
  std::vector<uint8_t> event, first;
  std::vector<uint8_t> segment, region;  // per user of the block
  std::vector<int64_t> sessions;         // per user of the block

  // Sizes the buffers for the users' rows (growing only: buffers are reused block to block).
  void prepare(int64_t first_user, int64_t end_user, int64_t first_row, int64_t rows);
  RowSpan span(int64_t row) {
    const int64_t k = row - first_row;  // data() + k: valid even for a block of no rows
    return {item.data() + k, timestamp.data() + k, value.data() + k, event.data() + k, first.data() + k};
  }
};

class BlockSink {
 public:
  BlockSink(DatasetWriter& writer, const std::vector<int64_t>& offsets, int64_t items, int64_t days,
            int64_t start_epoch_seconds);
  void write(const Block& block);
  // Closes the last session, writes the daily_sales table; fills the counts in `result`.
  void finish(const Catalogue& catalogue, SynthResult& result);

 private:
  DatasetWriter& writer_;
  const std::vector<int64_t>& offsets_;
  DatasetWriter::Column &session_first_, &session_length_;
  DailySales sales_;
  int64_t epoch_;
  int64_t session_start_ = -1;
  int64_t sessions_ = 0, views_ = 0, carts_ = 0, purchases_ = 0;
};

}  // namespace aisle::data::synth
