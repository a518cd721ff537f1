#pragma once
// Internal: the training rows of implicit ALS as two CSR matrices of extra confidence c - 1, one
// per half-iteration (users' items, items' users).
#include <cstdint>
#include <vector>

#include "aisle/data/interactions.hpp"
#include "src/models/implicit_als/config.hpp"

namespace aisle::models::als {

// Row r (a user, or an item) has entries [offsets[r], offsets[r+1]): columns[e] (an item, or a
// user, ascending) and extra[e] = c - 1 >= 0 of that (user, item) cell. Only observed cells are
// stored: every other cell has c = 1 and preference 0.
struct ConfidenceRows {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> columns;
  std::vector<float> extra;

  int64_t nnz() const { return static_cast<int64_t>(columns.size()); }
  int64_t degree(int64_t r) const { return offsets[static_cast<size_t>(r) + 1] - offsets[static_cast<size_t>(r)]; }
};

struct ConfidenceMatrix {
  ConfidenceRows by_user, by_item;
};

// Repeated (user, item) rows are one cell whose r is the sum of their values (in row order, in
// double). Throws aisle::DataError naming the row when a value is negative or not finite (c >= 1
// keeps every system positive definite), aisle::Error when an id space exceeds 2^31 - 1.
ConfidenceMatrix build_confidence(const data::Interactions& rows, const Confidence& confidence);

// The transpose: rows become columns; entries of a new row are ordered by their old row.
ConfidenceRows transpose(const ConfidenceRows& m);

}  // namespace aisle::models::als
