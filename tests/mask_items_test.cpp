// mask_items family: mask_items_ and rank_items against hand-computed rows and a brute-force
// reference (an explicit sort of each row under the documented tie rule), bad inputs, and
// CUDA-vs-CPU parity.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "aisle/ops/mask_items.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- independent reference: sort each row with the documented comparator --------------------

// a strictly above b: NaN above every number, -0.0 == 0.0.
bool above(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && !std::isnan(b);
  return a > b;
}

// The positions of the listed items of one row, from an explicit ordering of the whole row:
// by score descending; on equal scores unlisted items first, then listed ones by id.
std::vector<int64_t> reference_ranks(const std::vector<double>& row, const std::vector<int64_t>& listed) {
  const int64_t n = static_cast<int64_t>(row.size());
  std::vector<bool> is_listed(static_cast<size_t>(n), false);
  for (const int64_t t : listed) is_listed[static_cast<size_t>(t)] = true;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const double sa = row[static_cast<size_t>(a)], sb = row[static_cast<size_t>(b)];
    if (above(sa, sb)) return true;
    if (above(sb, sa)) return false;
    if (is_listed[static_cast<size_t>(a)] != is_listed[static_cast<size_t>(b)]) return !is_listed[static_cast<size_t>(a)];
    return a < b;
  });
  std::vector<int64_t> position(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) position[static_cast<size_t>(order[static_cast<size_t>(p)])] = p;
  std::vector<int64_t> out;
  for (const int64_t t : listed) out.push_back(position[static_cast<size_t>(t)]);
  return out;
}

struct Lists {
  std::vector<int64_t> offsets{0};
  std::vector<int64_t> items;
};

// Random distinct lists per row, sizes in [0, max_len], some rows empty.
Lists random_lists(int64_t rows, int64_t n, int64_t max_len, Generator& gen) {
  Lists l;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int64_t> all(static_cast<size_t>(n));
    std::iota(all.begin(), all.end(), 0);
    const int64_t len = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(std::min(max_len, n) + 1)));
    for (int64_t i = 0; i < len; ++i)
      std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(i) + gen.next_below(static_cast<uint64_t>(n - i))]);
    l.items.insert(l.items.end(), all.begin(), all.begin() + len);
    l.offsets.push_back(static_cast<int64_t>(l.items.size()));
  }
  return l;
}

// Scores drawn from a few values so that ties are common, with NaN, +-0.0 and +-inf sprinkled in.
std::vector<double> tie_heavy_scores(int64_t count, Generator& gen) {
  const double pool[] = {-1.0, -0.0, 0.0, 0.25, 0.5, 0.5, 1.0, kInf, -kInf, kNaN, 2.0, 2.0};
  std::vector<double> v(static_cast<size_t>(count));
  for (auto& x : v) x = pool[gen.next_below(std::size(pool))];
  return v;
}

Tensor make_scores(const std::vector<double>& values, int64_t rows, int64_t n, DType dtype, Device device = Device::cpu()) {
  return Tensor::from_vector(values, {rows, n}).to(dtype).to(device);
}

// ---- mask_items_ --------------------------------------------------------------------------

TEST(MaskItems, SetsTheListedEntriesInPlaceAndNothingElse) {
  for (const DType dtype : {DType::f32, DType::f64}) {
    for (const DType idtype : {DType::i32, DType::i64}) {
      // Row 0 masks items 1 and 3, row 1 nothing, row 2 item 0.
      Tensor scores = make_scores({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 3, 4, dtype);
      const Tensor offsets = Tensor::from_vector<int64_t>({0, 2, 2, 3});
      const Tensor items = Tensor::from_vector<int64_t>({1, 3, 0}).to(idtype);
      const Tensor before = scores;
      ops::mask_items_(scores, offsets, items);
      EXPECT_TRUE(scores.shares_storage(before));
      const std::vector<double> got = scores.to_doubles();
      const std::vector<double> want = {1, -kInf, 3, -kInf, 5, 6, 7, 8, -kInf, 10, 11, 12};
      EXPECT_EQ(got, want);
      ops::mask_items_(scores, offsets, items, 7.5);
      EXPECT_EQ(scores.to_doubles()[1], 7.5);
    }
  }
}

TEST(MaskItems, EmptyListsAndEmptyBatchesAreNoOps) {
  Tensor scores = make_scores({1, 2, 3}, 1, 3, DType::f32);
  ops::mask_items_(scores, Tensor::from_vector<int64_t>({0, 0}), Tensor::empty({0}, DType::i64));
  EXPECT_EQ(scores.to_doubles(), (std::vector<double>{1, 2, 3}));
  Tensor none = Tensor::empty({0, 5});
  ops::mask_items_(none, Tensor::from_vector<int64_t>({0}), Tensor::empty({0}, DType::i64));
  EXPECT_EQ(ops::rank_items(none, Tensor::from_vector<int64_t>({0}), Tensor::empty({0}, DType::i64)).numel(), 0);
}

TEST(MaskItems, BadInputsNameTheOpAndTheTensors) {
  Tensor scores = Tensor::zeros({2, 4});
  const Tensor offsets = Tensor::from_vector<int64_t>({0, 1, 2});
  std::string m = testing::error_message([&] { ops::mask_items_(scores, offsets, Tensor::from_vector<int64_t>({1, 4})); });
  EXPECT_MESSAGE_HAS(m, "mask_items");
  EXPECT_MESSAGE_HAS(m, "index 4");
  EXPECT_MESSAGE_HAS(m, "[0, 4)");
  m = testing::error_message([&] { ops::mask_items_(scores, Tensor::from_vector<int64_t>({0, 2}), Tensor::from_vector<int64_t>({1, 2})); });
  EXPECT_MESSAGE_HAS(m, "offsets must be i64 [B + 1]");
  EXPECT_MESSAGE_HAS(m, "[2, 4] f32 cpu");
  m = testing::error_message([&] { ops::mask_items_(scores, Tensor::from_vector<int64_t>({0, 1, 3}), Tensor::from_vector<int64_t>({1, 2})); });
  EXPECT_MESSAGE_HAS(m, "last offset");
  m = testing::error_message([&] { ops::mask_items_(scores, Tensor::from_vector<int64_t>({0, 2, 1}), Tensor::from_vector<int64_t>({1})); });
  EXPECT_MESSAGE_HAS(m, "mask_items");
  m = testing::error_message([&] { ops::mask_items_(scores, offsets.to(DType::i32), Tensor::from_vector<int64_t>({1, 2})); });
  EXPECT_MESSAGE_HAS(m, "offsets must be i64");
  m = testing::error_message([&] { ops::mask_items_(scores, offsets, Tensor::from_vector<float>({1, 2})); });
  EXPECT_MESSAGE_HAS(m, "items must be an i32 or i64 index tensor");
  Tensor flat = Tensor::zeros({4});
  m = testing::error_message([&] { ops::mask_items_(flat, offsets, Tensor::from_vector<int64_t>({1, 2})); });
  EXPECT_MESSAGE_HAS(m, "scores must be 2-D");
  m = testing::error_message([&] { ops::rank_items(scores, offsets, Tensor::from_vector<int64_t>({-1, 2})); });
  EXPECT_MESSAGE_HAS(m, "rank_items");
  EXPECT_MESSAGE_HAS(m, "index -1");
}

// ---- rank_items ---------------------------------------------------------------------------

TEST(RankItems, HandComputedTiesLoseToUnlistedItemsAndGoByIdAmongListed) {
  // Row 0: scores 0.5 0.9 0.5 0.1 0.5, listed {2, 0}. Order: item1 (0.9); then the 0.5 tie:
  // unlisted item4 first, listed item0, listed item2; then item3. So rank(2) = 3, rank(0) = 2:
  //   rank(0) = above 1 + (equal_all 3 - equal_listed 2) + listed_lower 0 = 2
  //   rank(2) = 1 + (3 - 2) + 1 (item0 < 2) = 3.
  // Row 1: NaN 1 NaN -inf, listed {1, 0}: NaN ranks above numbers, so rank(1) = 2 (two NaNs above);
  //   rank(0) = 0 above + (2 NaNs - 1 listed NaN) unlisted tie + 0 = 1.
  // Row 2: -0.0 0.0 listed {1}: -0.0 == 0.0, the unlisted item0 wins the tie: rank 1.
  for (const DType dtype : {DType::f32, DType::f64}) {
    // Rows of different widths do not fit one matrix: rank them one at a time.
    const auto rank = [&](const std::vector<double>& row, const std::vector<int64_t>& listed) {
      return ops::rank_items(make_scores(row, 1, static_cast<int64_t>(row.size()), dtype),
                             Tensor::from_vector<int64_t>({0, static_cast<int64_t>(listed.size())}),
                             Tensor::from_vector(listed))
          .to_vector<int64_t>();
    };
    EXPECT_EQ(rank({0.5, 0.9, 0.5, 0.1, 0.5}, {2, 0}), (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(rank({kNaN, 1, kNaN, -kInf}, {1, 0}), (std::vector<int64_t>{2, 1}));
    EXPECT_EQ(rank({-0.0, 0.0}, {1}), (std::vector<int64_t>{1}));
    // Constant row of 5 with 2 listed: both lose to the 3 unlisted, then go by id.
    EXPECT_EQ(rank({4, 4, 4, 4, 4}, {3, 1}), (std::vector<int64_t>{4, 3}));
  }
}

TEST(RankItems, MatchesAnExplicitSortOnTieHeavyRandomRows) {
  Generator gen(17);
  for (const int64_t n : {1, 7, 40, 300}) {
    const int64_t rows = 9;
    const std::vector<double> values = tie_heavy_scores(rows * n, gen);
    const Lists lists = random_lists(rows, n, 40, gen);  // > 16 listed items in some rows
    for (const DType dtype : {DType::f32, DType::f64}) {
      const Tensor ranks = ops::rank_items(make_scores(values, rows, n, dtype), Tensor::from_vector(lists.offsets),
                                           Tensor::from_vector(lists.items).to(DType::i32));
      const std::vector<int64_t> got = ranks.to_vector<int64_t>();
      for (int64_t r = 0; r < rows; ++r) {
        const std::vector<double> row(values.begin() + r * n, values.begin() + (r + 1) * n);
        const std::vector<int64_t> listed(lists.items.begin() + lists.offsets[static_cast<size_t>(r)],
                                          lists.items.begin() + lists.offsets[static_cast<size_t>(r) + 1]);
        const std::vector<int64_t> want = reference_ranks(row, listed);
        const std::vector<int64_t> have(got.begin() + lists.offsets[static_cast<size_t>(r)],
                                        got.begin() + lists.offsets[static_cast<size_t>(r) + 1]);
        EXPECT_EQ(have, want) << "row " << r << " of n = " << n;
      }
    }
  }
}

// ---- CUDA parity ----------------------------------------------------------------------------

TEST(MaskItemsCuda, MaskAndRankMatchCpuExactly) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  // Rows with more listed items than one kernel chunk (16), empty rows, and a long row.
  for (const int64_t n : {1, 33, 257, 5000}) {
    const int64_t rows = 23;
    const std::vector<double> values = tie_heavy_scores(rows * n, gen);
    const Lists lists = random_lists(rows, n, 70, gen);
    for (const DType dtype : {DType::f32, DType::f64}) {
      for (const DType idtype : {DType::i32, DType::i64}) {
        const Tensor offsets = Tensor::from_vector(lists.offsets), items = Tensor::from_vector(lists.items).to(idtype);
        Tensor cpu = make_scores(values, rows, n, dtype);
        Tensor gpu = cpu.to(testing::gpu());
        EXPECT_EQ(ops::rank_items(gpu, offsets.to(testing::gpu()), items.to(testing::gpu())).to_vector<int64_t>(),
                  ops::rank_items(cpu, offsets, items).to_vector<int64_t>());
        ops::mask_items_(cpu, offsets, items, -kInf);
        ops::mask_items_(gpu, offsets.to(testing::gpu()), items.to(testing::gpu()), -kInf);
        const std::vector<double> a = gpu.to_doubles(), b = cpu.to_doubles();
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i)
          ASSERT_TRUE(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) << "element " << i;
      }
    }
  }
}

TEST(MaskItemsCuda, OutOfRangeItemsThrowNamingTheOp) {
  AISLE_SKIP_WITHOUT_CUDA();
  Tensor scores = Tensor::zeros({2, 4}, DType::f32, testing::gpu());
  const Tensor offsets = Tensor::from_vector<int64_t>({0, 1, 2}, testing::gpu());
  const Tensor items = Tensor::from_vector<int64_t>({1, 9}, testing::gpu());
  std::string m = testing::error_message([&] { ops::mask_items_(scores, offsets, items); });
  EXPECT_MESSAGE_HAS(m, "mask_items");
  EXPECT_MESSAGE_HAS(m, "9");
  // Nothing is masked, not even row 0's valid item, as on the CPU.
  EXPECT_EQ(scores.to_vector<float>(), std::vector<float>(8, 0.0f));
  m = testing::error_message([&] { ops::rank_items(scores, offsets, items); });
  EXPECT_MESSAGE_HAS(m, "rank_items");
  EXPECT_MESSAGE_HAS(m, "9");
}

}  // namespace
}  // namespace aisle
