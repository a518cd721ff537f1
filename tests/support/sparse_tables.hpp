#pragma once
// Shared by the tests of the fused sparse optimizer steps (embedding_update_test, half_table_test):
// a table with its optimizer state, a bit-exact comparison of two of them, and ragged bag offsets.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "aisle/aisle.hpp"
#include "support/testing.hpp"

namespace aisle::testing {

// A table with its optimizer state: row-wise Adagrad uses acc, sparse Adam m and v.
struct OptimizedTable {
  Tensor p, acc, m, v;
  OptimizedTable clone() const { return {p.clone(), acc.clone(), m.clone(), v.clone()}; }
  OptimizedTable to(Device d) const { return {p.to(d), acc.to(d), m.to(d), v.to(d)}; }
};

inline ::testing::AssertionResult same_tables(const OptimizedTable& a, const OptimizedTable& b, double rtol,
                                              double atol) {
  for (auto f : {&OptimizedTable::p, &OptimizedTable::acc, &OptimizedTable::m, &OptimizedTable::v}) {
    auto r = all_close(a.*f, b.*f, rtol, atol);
    if (!r) return r;
  }
  return ::testing::AssertionSuccess();
}

// Uneven bags over n ids: empty ones (first and last included), single ids and long ones.
inline Tensor bag_offsets(int64_t n, int64_t bags) {
  std::vector<int64_t> off{0, 0};
  for (int64_t b = 2; b < bags - 1; ++b) off.push_back(std::min<int64_t>(n, off.back() + (b * 7) % 23));
  off.push_back(n);
  off.push_back(n);
  return Tensor::from_vector(off);
}

}  // namespace aisle::testing
