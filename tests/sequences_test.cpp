#include "aisle/data/sequences.hpp"

#include "support/omp_threads.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

using Rows = std::vector<std::vector<int64_t>>;

Rows as_rows(const Tensor& t) {
  Rows out;
  const std::vector<int64_t> v = t.to_vector<int64_t>();
  const size_t cols = static_cast<size_t>(t.size(1));
  for (size_t r = 0; r < v.size() / cols; ++r) out.emplace_back(v.begin() + r * cols, v.begin() + (r + 1) * cols);
  return out;
}

// User 0: items 5, 2, 7, 1, 3 by time (rows out of order, a tie at t = 20 kept in row order).
// User 1: one item. User 2: nothing. User 3: items 0, 4.
Interactions small() {
  return Interactions::from_vectors({0, 3, 0, 0, 1, 0, 0, 3}, {7, 4, 5, 1, 6, 2, 3, 0}, 4, 8, {},
                                    {20, 9, 10, 20, 5, 15, 30, 8});
}

TEST(UserSequences, OrdersEachUserByTimeStablyByRow) {
  const UserSequences s(small());
  EXPECT_EQ(s.num_users(), 4);
  EXPECT_EQ(s.num_items(), 8);
  EXPECT_EQ(std::vector<int64_t>(s.begin(0), s.end(0)), (std::vector<int64_t>{5, 2, 7, 1, 3}));
  EXPECT_EQ(std::vector<int64_t>(s.begin(1), s.end(1)), (std::vector<int64_t>{6}));
  EXPECT_EQ(s.length(2), 0);
  EXPECT_EQ(std::vector<int64_t>(s.begin(3), s.end(3)), (std::vector<int64_t>{0, 4}));
}

TEST(UserSequences, HistoryIsLeftPaddedAndKeepsTheMostRecent) {
  const UserSequences s(small());
  const Tensor users = Tensor::from_vector<int64_t>({0, 1, 2, 3});
  // Tokens are item + 1, pad 0.
  EXPECT_EQ(as_rows(s.history(users, 3)), (Rows{{8, 2, 4}, {0, 0, 7}, {0, 0, 0}, {0, 1, 5}}));
  EXPECT_EQ(as_rows(s.history(users, 6)),
            (Rows{{0, 6, 3, 8, 2, 4}, {0, 0, 0, 0, 0, 7}, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 5}}));
}

TEST(UserSequences, TrainingInputsAndTargetsAreShiftedByOne) {
  const UserSequences s(small());
  const Tensor users = Tensor::from_vector<int64_t>({0, 3, 1, 2});
  // User 0's tokens: 6 3 8 2 4. Inputs drop the last, targets the first.
  SequenceBatch b = s.training_batch(users, 6, nullptr, 0, 0);
  EXPECT_EQ(as_rows(b.inputs), (Rows{{0, 0, 6, 3, 8, 2}, {0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}}));
  EXPECT_EQ(as_rows(b.targets), (Rows{{0, 0, 3, 8, 2, 4}, {0, 0, 0, 0, 0, 5}, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}}));
  EXPECT_FALSE(b.negatives.defined());
  // Truncation keeps the most recent pairs.
  b = s.training_batch(users, 2, nullptr, 0, 0);
  EXPECT_EQ(as_rows(b.inputs), (Rows{{8, 2}, {0, 1}, {0, 0}, {0, 0}}));
  EXPECT_EQ(as_rows(b.targets), (Rows{{2, 4}, {0, 5}, {0, 0}, {0, 0}}));
}

TEST(UserSequences, NegativesAreNonPositiveTokensWhereTargetsAreReal) {
  Generator gen(3);
  std::vector<int64_t> u, it, ts;
  for (int64_t k = 0; k < 3000; ++k) {
    u.push_back(static_cast<int64_t>(gen.next_below(100)));
    it.push_back(static_cast<int64_t>(gen.next_below(60)));
    ts.push_back(static_cast<int64_t>(gen.next_below(1000)));
  }
  const Interactions x = Interactions::from_vectors(u, it, 101, 60, {}, ts);  // user 100 has no items
  const UserSequences s(x);
  const auto index = std::make_shared<UserItemIndex>(x);
  const NegativeSampler sampler = NegativeSampler::uniform(index);
  const Tensor users = Tensor::arange(101);
  const SequenceBatch b = s.training_batch(users, 20, &sampler, 7, 1);
  const Rows targets = as_rows(b.targets), negatives = as_rows(b.negatives);
  for (int64_t user = 0; user < 101; ++user)
    for (size_t t = 0; t < 20; ++t) {
      const int64_t target = targets[static_cast<size_t>(user)][t], neg = negatives[static_cast<size_t>(user)][t];
      if (target == kPadToken) {
        EXPECT_EQ(neg, kPadToken);
        continue;
      }
      ASSERT_GE(neg, 1);
      ASSERT_LE(neg, 60);
      EXPECT_FALSE(index->contains(user, token_item(neg))) << "user " << user << " position " << t;
    }
  // Deterministic across thread counts, and a user's row does not depend on the batch around it.
  for (int threads : {1, 3}) {
    SequenceBatch again;
    ASSERT_TRUE(testing::with_omp_threads(threads, [&] { again = s.training_batch(users, 20, &sampler, 7, 1); }));
    EXPECT_EQ(again.negatives.to_vector<int64_t>(), b.negatives.to_vector<int64_t>());
  }
  const SequenceBatch one = s.training_batch(Tensor::from_vector<int64_t>({42}), 20, &sampler, 7, 1);
  EXPECT_EQ(as_rows(one.negatives)[0], negatives[42]);
  EXPECT_NE(s.training_batch(users, 20, &sampler, 7, 2).negatives.to_vector<int64_t>(), b.negatives.to_vector<int64_t>());
  Generator g(7);
  (void)s.training_batch(users, 20, sampler, g);
  EXPECT_EQ(g.next_stream(), 1u);
}

TEST(UserSequences, RejectsBadArguments) {
  const Interactions x = small();
  const UserSequences s(x);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { s.history(Tensor::from_vector<int64_t>({4}), 3); }),
                     "user id 4 at position 0 is outside [0, 4)");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { s.history(Tensor::from_vector<int64_t>({0}), 0); }),
                     "max_len must be at least 1");
  const auto other = std::make_shared<UserItemIndex>(Interactions::from_vectors({0}, {0}, 4, 9));
  const NegativeSampler mismatched = NegativeSampler::uniform(other);
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       s.training_batch(Tensor::from_vector<int64_t>({0}), 3, &mismatched, 0, 0);
                     }),
                     "the negative sampler covers 4 users and 9 items, the sequences 4 and 8");
  // A user whose sequence holds every item has no negative for its targets.
  const Interactions full = Interactions::from_vectors({0, 0, 1}, {0, 1, 0}, 2, 2, {}, {1, 2, 3});
  const UserSequences fs(full);
  const NegativeSampler fn = NegativeSampler::uniform(std::make_shared<UserItemIndex>(full));
  EXPECT_THROW(fs.training_batch(Tensor::from_vector<int64_t>({0}), 3, &fn, 0, 0), DataError);
  // User 1 has a single item: no targets, so nothing to draw and no error.
  EXPECT_EQ(as_rows(fs.training_batch(Tensor::from_vector<int64_t>({1}), 3, &fn, 0, 0).negatives), (Rows{{0, 0, 0}}));
}

}  // namespace
}  // namespace aisle::data
