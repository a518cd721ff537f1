// Internal building blocks of splits and filters, checked directly against plain references on
// sizes that cross their chunk boundaries. (row_ops::sort_by_user is a template over OpenMP
// loops, which test binaries cannot instantiate; the split and dedup tests cover it on user
// counts that span many buckets.)
#include <algorithm>
#include <numeric>

#include "src/data/row_ops.hpp"
#include "support/testing.hpp"

namespace aisle::data::row_ops {
namespace {

TEST(RowOps, RowFilterTakesMatchingRowsInOrderAcrossChunks) {
  const int64_t n = 200003;  // four chunks of 2^16, the last partial
  Generator gen(3);
  std::vector<uint8_t> codes(static_cast<size_t>(n));
  std::vector<int64_t> column(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    codes[static_cast<size_t>(r)] = static_cast<uint8_t>(gen.next_below(3));
    column[static_cast<size_t>(r)] = r * 7;
  }
  for (uint8_t code = 0; code < 4; ++code) {
    std::vector<int64_t> want;
    for (int64_t r = 0; r < n; ++r)
      if (codes[static_cast<size_t>(r)] == code) want.push_back(r * 7);
    const RowFilter f(codes.data(), n, code);
    EXPECT_EQ(f.count(), static_cast<int64_t>(want.size()));
    EXPECT_EQ(f.take(column.data()).to_vector<int64_t>(), want);
  }
}

TEST(RowOps, RankCutsSelectTheFirstKInKeyThenRowOrder) {
  const std::vector<int64_t> keys = {5, 1, 5, 3, 5, 1, 9, 5};
  // (key, row) order: rows 1, 5, 3, 0, 2, 4, 7, 6.
  const std::vector<int64_t> order = {1, 5, 3, 0, 2, 4, 7, 6};
  std::vector<int64_t> ks(keys.size() + 1);
  std::iota(ks.begin(), ks.end(), int64_t{0});
  const auto cuts = rank_cuts(keys.data(), static_cast<int64_t>(keys.size()), ks);
  for (size_t k = 0; k <= keys.size(); ++k) {
    CutCursor<int64_t> cursor(cuts[k]);
    std::vector<int64_t> taken, want(order.begin(), order.begin() + static_cast<int64_t>(k));
    for (size_t r = 0; r < keys.size(); ++r)
      if (cursor.take(keys[r])) taken.push_back(static_cast<int64_t>(r));
    std::sort(want.begin(), want.end());
    EXPECT_EQ(taken, want) << "k = " << k;
  }
  // Repeated ks give equal cuts; out-of-range ks clamp to "all" and "none".
  const auto odd = rank_cuts(keys.data(), 8, {4, 4, 12, -3});
  EXPECT_EQ(odd[0].value, odd[1].value);
  EXPECT_EQ(odd[0].ties, odd[1].ties);
  EXPECT_EQ(odd[2].value, 9);
  EXPECT_EQ(odd[2].ties, 1);
  CutCursor<int64_t> none(odd[3]);
  for (const int64_t key : keys) EXPECT_FALSE(none.take(key));
}

}  // namespace
}  // namespace aisle::data::row_ops
