#pragma once
// Internal: row-level building blocks shared by splits and filters (grouping by user is in
// user_sort.hpp). They run over tens of millions of rows, so each is O(n), allocates per call
// rather than per row, and is parallel wherever the result cannot depend on the thread count.
#include <cstdint>
#include <vector>

#include "aisle/data/interactions.hpp"

namespace aisle::data::row_ops {

// The rows r in [0, n) with codes[r] == code, in ascending order (so a time-ordered log stays
// time-ordered in every part). Work is cut into fixed-size chunks written at their prefix
// offsets, so the output is the same however many threads run them. Each chunk's selected rows
// are found once, branch-free, as 16-bit offsets; every column is then a gather with ascending
// indices. (Interactions::select goes through the generic gather_rows, a range check and a
// memcpy call per element, and was most of a split's time at 10M rows.)
class RowFilter {
 public:
  RowFilter(const uint8_t* codes, int64_t n, uint8_t code);
  int64_t count() const { return start_.back(); }
  Interactions take(const Interactions& x) const;  // every column, same id space
  Tensor take(const int64_t* column) const;
  Tensor take(const float* column) const;
  Tensor take(const uint8_t* column) const;

 private:
  template <class T>
  Tensor take_column(const T* column) const;
  static constexpr int64_t kChunk = int64_t{1} << 16;  // offsets within a chunk fit 16 bits
  int64_t chunks_;
  std::vector<int64_t> start_;    // output offset of each chunk; back() is the total
  std::vector<uint16_t> picked_;  // chunk c's offsets at [start_[c] + c, start_[c + 1] + c + 1):
                                  // one spare slot, so the branch-free fill never writes past it
};

// 64 random bits per row from the Philox stream (seed, stream). Row r's key depends only on r,
// never on how the work was chunked, so splits are identical on any number of threads.
std::vector<uint64_t> random_row_keys(int64_t n, uint64_t seed, uint64_t stream);

// The first k rows in (key, row) order are exactly the rows with key < value plus the first
// `ties` rows, in row order, with key == value. Describing a rank this way needs only a
// selection (O(n)), not a sort.
template <class K>
struct RankCut {
  K value{};
  int64_t ties = 0;
};
// One cut per k (any order, each clamped to [0, n]); the keys are copied once.
template <class K>
std::vector<RankCut<K>> rank_cuts(const K* keys, int64_t n, std::vector<int64_t> ks);

// Walks the rows in row order and answers "is this row among the first k?" for one RankCut.
template <class K>
class CutCursor {
 public:
  explicit CutCursor(const RankCut<K>& cut) : cut_(cut) {}
  bool take(K key) {
    if (key < cut_.value) return true;
    if (key == cut_.value && taken_ < cut_.ties) return ++taken_, true;
    return false;
  }

 private:
  RankCut<K> cut_;
  int64_t taken_ = 0;
};

}  // namespace aisle::data::row_ops
