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

PairwiseBatches make(const Interactions& x, int64_t batch_size, int64_t rank = 0, int64_t world = 1,
                     PairSampling sampling = PairSampling::rows) {
  return PairwiseBatches(x, BatchSamplerOptions{.batch_size = batch_size, .seed = 7, .rank = rank, .world_size = world},
                         NegativeSampler::uniform(std::make_shared<UserItemIndex>(x)), /*per_row=*/3, sampling);
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

// PairSampling::users: an epoch position -> its (user, item, negatives...).
std::map<int64_t, std::vector<int64_t>> epoch_user_pairs(PairwiseBatches& b, int64_t epoch) {
  std::map<int64_t, std::vector<int64_t>> by_position;
  for (int64_t s = 0; s < b.num_batches(); ++s) {
    const PairwiseBatch t = b.batch(epoch, s);
    const auto positions = t.rows.rows.to_vector<int64_t>();
    const auto u = t.rows.users.to_vector<int64_t>(), i = t.rows.items.to_vector<int64_t>();
    const auto neg = t.negatives.to_vector<int64_t>();
    EXPECT_EQ(static_cast<int64_t>(positions.size()), t.rows.valid);
    for (size_t r = 0; r < positions.size(); ++r) {
      std::vector<int64_t> pair{u[r], i[r]};
      pair.insert(pair.end(), neg.begin() + static_cast<long>(3 * r), neg.begin() + static_cast<long>(3 * r + 3));
      EXPECT_TRUE(by_position.emplace(positions[r], pair).second) << "position " << positions[r] << " twice";
    }
  }
  return by_position;
}

// User 0 has 400 rows over 40 items, user 1 the rows (1, 5) x3 and (1, 6), users 2..19 two rows
// each, users 20..24 none.
Interactions skewed_log() {
  std::vector<int64_t> users, items;
  auto add = [&](int64_t u, int64_t i) { users.push_back(u); items.push_back(i); };
  for (int64_t k = 0; k < 400; ++k) add(0, k % 40);
  for (int64_t i : {5, 5, 5, 6}) add(1, i);
  for (int64_t u = 2; u < 20; ++u) {
    add(u, u);
    add(u, u + 20);
  }
  return Interactions::from_vectors(users, items, 25, 50);
}

TEST(PairwiseBatches, UserSamplingDrawsUsersUniformlyThenOneOfTheirDistinctItems) {
  const Interactions x = skewed_log();
  const UserItemIndex index(x);
  PairwiseBatches b = make(x, 64, 0, 1, PairSampling::users);
  EXPECT_EQ(b.num_batches(), (x.size() + 63) / 64) << "an epoch is |train| pairs, as with rows";
  std::vector<int64_t> per_user(25, 0);
  int64_t item_6 = 0;
  const int64_t epochs = 20;
  for (int64_t e = 0; e < epochs; ++e) {
    const auto pairs = epoch_user_pairs(b, e);
    ASSERT_EQ(static_cast<int64_t>(pairs.size()), x.size());
    EXPECT_EQ(pairs.begin()->first, 0);
    EXPECT_EQ(pairs.rbegin()->first, x.size() - 1);
    for (const auto& [position, p] : pairs) {
      ASSERT_TRUE(index.contains(p[0], p[1])) << "item " << p[1] << " is not a positive of user " << p[0];
      for (size_t k = 2; k < p.size(); ++k) EXPECT_FALSE(index.contains(p[0], p[k]));
      ++per_user[static_cast<size_t>(p[0])];
      item_6 += p[0] == 1 && p[1] == 6;
    }
  }
  // 20 users with rows: 1/20 of the 8,760 draws each (438, sd 20) whatever their row counts;
  // by rows user 0 would take 91%.
  const double expected = static_cast<double>(epochs * x.size()) / 20;
  for (int64_t u = 0; u < 20; ++u) {
    EXPECT_GT(per_user[static_cast<size_t>(u)], 0.75 * expected) << "user " << u;
    EXPECT_LT(per_user[static_cast<size_t>(u)], 1.25 * expected) << "user " << u;
  }
  for (int64_t u = 20; u < 25; ++u) EXPECT_EQ(per_user[static_cast<size_t>(u)], 0) << "user " << u << " has no rows";
  // User 1's distinct items 5 and 6 equally often, though 5 has three rows (share sd 0.024).
  const double share_6 = static_cast<double>(item_6) / static_cast<double>(per_user[1]);
  EXPECT_GT(share_6, 0.4);
  EXPECT_LT(share_6, 0.6);
}

TEST(PairwiseBatches, UserSamplingPairsDependOnEpochAndPositionOnly) {
  const Interactions x = small_log(9);
  PairwiseBatches small = make(x, 16, 0, 1, PairSampling::users), large = make(x, 50, 0, 1, PairSampling::users);
  epoch_user_pairs(small, 0);
  const auto epoch_1 = epoch_user_pairs(small, 1);
  EXPECT_EQ(epoch_1, epoch_user_pairs(large, 1)) << "batch size changed the pairs";
  EXPECT_NE(epoch_1, epoch_user_pairs(large, 2)) << "two epochs drew the same pairs";
  PairwiseBatches rank0 = make(x, 16, 0, 2, PairSampling::users), rank1 = make(x, 16, 1, 2, PairSampling::users);
  auto shares = epoch_user_pairs(rank0, 1);
  for (auto& [position, pair] : epoch_user_pairs(rank1, 1))
    EXPECT_TRUE(shares.emplace(position, pair).second) << "position " << position;
  EXPECT_EQ(shares, epoch_1) << "two ranks' shares are not the one-process epoch";
}

TEST(PairwiseBatches, PairSamplingNames) {
  EXPECT_EQ(parse_pair_sampling("users"), PairSampling::users);
  EXPECT_STREQ(pair_sampling_name(parse_pair_sampling("rows")), "rows");
  const std::string message = testing::error_message([] { parse_pair_sampling("items"); });
  EXPECT_NE(message.find("rows or users, got 'items'"), std::string::npos) << message;
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
