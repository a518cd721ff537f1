#include "aisle/data/pairwise_batches.hpp"

#include <map>
#include <string>
#include <vector>

#include "support/testing.hpp"

namespace aisle::data {
namespace {

// 40 users with 3-12 random items each over 30 items (duplicates allowed, as in real logs).
Interactions small_log(uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> users, items;
  for (int64_t u = 0; u < 40; ++u) {
    const int64_t n = 3 + static_cast<int64_t>(gen.next_below(10));
    for (int64_t k = 0; k < n; ++k) {
      users.push_back(u);
      items.push_back(static_cast<int64_t>(gen.next_below(30)));
    }
  }
  return Interactions::from_vectors(users, items, 40, 30);
}

PairwiseBatches make(const Interactions& x, int64_t batch_size, int64_t rank = 0, int64_t world = 1) {
  return PairwiseBatches(x, BatchSamplerOptions{.batch_size = batch_size, .seed = 7, .rank = rank, .world_size = world},
                         NegativeSampler::uniform(std::make_shared<UserItemIndex>(x)), /*per_row=*/3);
}

// Dataset row -> its negatives, over one epoch's batches.
std::map<int64_t, std::vector<int64_t>> epoch_negatives(PairwiseBatches& b, int64_t epoch) {
  std::map<int64_t, std::vector<int64_t>> by_row;
  for (int64_t s = 0; s < b.num_batches(); ++s) {
    const PairwiseBatch t = b.batch(epoch, s);
    const std::vector<int64_t> rows = t.rows.rows.to_vector<int64_t>();
    const std::vector<int64_t> neg = t.negatives.to_vector<int64_t>();
    EXPECT_EQ(t.negatives.shape(), (Shape{t.rows.valid, 3}));
    for (size_t r = 0; r < rows.size(); ++r) {
      EXPECT_FALSE(by_row.contains(rows[r])) << "row " << rows[r] << " twice in epoch " << epoch;
      by_row[rows[r]] = std::vector<int64_t>(neg.begin() + static_cast<long>(3 * r), neg.begin() + static_cast<long>(3 * r + 3));
    }
  }
  return by_row;
}

TEST(PairwiseBatches, EveryRowOnceAnEpochWithItsOwnColumnsAndNegativesThatAreNotPositives) {
  const Interactions x = small_log(3);
  const UserItemIndex index(x);
  PairwiseBatches b = make(x, 16);
  const std::vector<int64_t> users = x.users.to_vector<int64_t>(), items = x.items.to_vector<int64_t>();
  int64_t seen = 0;
  for (int64_t s = 0; s < b.num_batches(); ++s) {
    const PairwiseBatch t = b.batch(0, s);
    const auto rows = t.rows.rows.to_vector<int64_t>();
    const auto u = t.rows.users.to_vector<int64_t>(), i = t.rows.items.to_vector<int64_t>();
    const auto neg = t.negatives.to_vector<int64_t>();
    for (size_t r = 0; r < rows.size(); ++r) {
      EXPECT_EQ(u[r], users[static_cast<size_t>(rows[r])]);
      EXPECT_EQ(i[r], items[static_cast<size_t>(rows[r])]);
      for (int64_t k = 0; k < 3; ++k) EXPECT_FALSE(index.contains(u[r], neg[3 * r + static_cast<size_t>(k)]));
    }
    seen += t.rows.valid;
  }
  EXPECT_EQ(seen, x.size());
  EXPECT_EQ(epoch_negatives(b, 1).size(), static_cast<size_t>(x.size()));
}

TEST(PairwiseBatches, ARowsNegativesDependOnItsEpochNotOnItsBatchOrRankOrWhatCameBefore) {
  const Interactions x = small_log(5);
  PairwiseBatches small = make(x, 16), large = make(x, 50), fresh = make(x, 16);
  epoch_negatives(small, 0);
  const auto after_epoch_0 = epoch_negatives(small, 1);
  EXPECT_EQ(after_epoch_0, epoch_negatives(large, 1)) << "batch size changed a row's negatives";
  EXPECT_EQ(after_epoch_0, epoch_negatives(fresh, 1)) << "a resumed epoch drew other negatives";
  EXPECT_NE(after_epoch_0, epoch_negatives(fresh, 2)) << "two epochs drew the same negatives";

  // Two ranks' shares together are the one-process epoch, row for row.
  PairwiseBatches rank0 = make(x, 16, 0, 2), rank1 = make(x, 16, 1, 2);
  auto shares = epoch_negatives(rank0, 1);
  for (auto& [row, neg] : epoch_negatives(rank1, 1)) EXPECT_TRUE(shares.emplace(row, neg).second) << "row " << row;
  EXPECT_EQ(shares, after_epoch_0);
}

TEST(PairwiseBatches, RejectsFewerThanOneNegativePerRow) {
  const Interactions x = small_log(1);
  const std::string message = testing::error_message([&] {
    PairwiseBatches(x, BatchSamplerOptions{}, NegativeSampler::uniform(std::make_shared<UserItemIndex>(x)), 0);
  });
  EXPECT_NE(message.find("negatives per row must be >= 1, got 0"), std::string::npos) << message;
}

}  // namespace
}  // namespace aisle::data
