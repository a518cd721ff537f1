// Evaluation metrics on hand-computed cases (the arithmetic is in the comments), the result
// struct, and the rating metrics and protocol.
#include <cmath>
#include <limits>
#include <vector>

#include "aisle/data/interactions.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/eval/metrics.hpp"
#include "aisle/eval/rating.hpp"
#include "aisle/eval/result.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using Positions = std::vector<int64_t>;
constexpr double kTol = 1e-12;

// 1 / log2(p + 2) for the positions used below.
const double d0 = 1.0;                      // 1 / log2(2)
const double d1 = 1.0 / std::log2(3.0);     // 0.6309297535714574
const double d2 = 0.5;                      // 1 / log2(4)
const double d3 = 1.0 / std::log2(5.0);     // 0.43067655807339306
const double d7 = 1.0 / std::log2(9.0);     // 0.31546487678572871

TEST(EvalMetrics, ThreeRelevantItemsAtPositions0_3_7) {
  const Positions p = {0, 3, 7};  // R = 3
  // K = 2: hits 1 (position 0).
  EXPECT_EQ(eval::hits_at(p, 2), 1);
  EXPECT_NEAR(eval::recall_at(p, 2), 1.0 / 3.0, kTol);
  EXPECT_NEAR(eval::precision_at(p, 2), 1.0 / 2.0, kTol);
  EXPECT_NEAR(eval::hit_rate_at(p, 2), 1.0, kTol);
  // DCG = d0 = 1; IDCG over min(3, 2) = 2 ideal hits = d0 + d1 = 1.6309...; NDCG = 0.61314...
  EXPECT_NEAR(eval::ndcg_at(p, 2), 1.0 / (d0 + d1), kTol);
  EXPECT_NEAR(eval::ndcg_at(p, 2), 0.6131471927654584, 1e-12);
  EXPECT_NEAR(eval::mrr_at(p, 2), 1.0, kTol);
  // AP@2 = (1/1) / min(3, 2) = 0.5.
  EXPECT_NEAR(eval::average_precision_at(p, 2), 0.5, kTol);

  // K = 5: hits 2 (positions 0 and 3).
  EXPECT_EQ(eval::hits_at(p, 5), 2);
  EXPECT_NEAR(eval::recall_at(p, 5), 2.0 / 3.0, kTol);
  EXPECT_NEAR(eval::precision_at(p, 5), 2.0 / 5.0, kTol);
  // DCG = d0 + d3 = 1.43068; IDCG (3 ideal) = d0 + d1 + d2 = 2.13093; NDCG = 0.67139.
  EXPECT_NEAR(eval::ndcg_at(p, 5), (d0 + d3) / (d0 + d1 + d2), kTol);
  EXPECT_NEAR(eval::ndcg_at(p, 5), 0.6713860725233041, 1e-12);
  // AP@5 = (1/1 + 2/4) / min(3, 5) = 1.5 / 3 = 0.5.
  EXPECT_NEAR(eval::average_precision_at(p, 5), 0.5, kTol);

  // K = 10: all 3 hit.
  EXPECT_NEAR(eval::recall_at(p, 10), 1.0, kTol);
  EXPECT_NEAR(eval::precision_at(p, 10), 0.3, kTol);
  // DCG = d0 + d3 + d7 = 1.74614; NDCG = 1.74614 / 2.13093 = 0.81943.
  EXPECT_NEAR(eval::ndcg_at(p, 10), (d0 + d3 + d7) / (d0 + d1 + d2), kTol);
  // AP@10 = (1/1 + 2/4 + 3/8) / 3 = 1.875 / 3 = 0.625.
  EXPECT_NEAR(eval::average_precision_at(p, 10), 0.625, kTol);
  EXPECT_NEAR(eval::mrr(p), 1.0, kTol);

  // AUC with 10 negatives (13 candidates): negatives above each relevant item = p_m - m
  // = 0, 2, 5 -> 7 misordered of 3 * 10 pairs: AUC = 1 - 7/30 = 0.76667.
  EXPECT_NEAR(eval::auc(p, 10), 1.0 - 7.0 / 30.0, kTol);
}

TEST(EvalMetrics, FewerRelevantItemsThanK) {
  const Positions p = {1};  // R = 1 < K = 20
  EXPECT_NEAR(eval::recall_at(p, 20), 1.0, kTol);
  EXPECT_NEAR(eval::precision_at(p, 20), 1.0 / 20.0, kTol);  // still divided by K
  // IDCG uses min(R, K) = 1 ideal hit: NDCG = d1 / d0 = 0.63093.
  EXPECT_NEAR(eval::ndcg_at(p, 20), d1, kTol);
  EXPECT_NEAR(eval::mrr_at(p, 20), 0.5, kTol);
  // AP@20 = (1 / 2) / min(1, 20) = 0.5.
  EXPECT_NEAR(eval::average_precision_at(p, 20), 0.5, kTol);
  // Two relevant at positions 0 and 1 are a perfect ranking for every K.
  for (const int64_t k : {1, 2, 5}) {
    EXPECT_NEAR(eval::ndcg_at(Positions{0, 1}, k), 1.0, kTol);
    EXPECT_NEAR(eval::average_precision_at(Positions{0, 1}, k), 1.0, kTol);
  }
  // 0 negatives above either of them: AUC 1.
  EXPECT_NEAR(eval::auc(Positions{0, 1}, 4), 1.0, kTol);
}

TEST(EvalMetrics, ZeroHits) {
  const Positions p = {25, 30};
  for (const int64_t k : {1, 10, 20, 25}) {
    EXPECT_EQ(eval::recall_at(p, k), 0.0);
    EXPECT_EQ(eval::precision_at(p, k), 0.0);
    EXPECT_EQ(eval::hit_rate_at(p, k), 0.0);
    EXPECT_EQ(eval::ndcg_at(p, k), 0.0);
    EXPECT_EQ(eval::mrr_at(p, k), 0.0);
    EXPECT_EQ(eval::average_precision_at(p, k), 0.0);
  }
  EXPECT_NEAR(eval::mrr(p), 1.0 / 26.0, kTol);  // no cut-off: first relevant at position 25
  // K = 26 takes in position 25: recall 1/2, NDCG = (1/log2 27) / (d0 + d1).
  EXPECT_NEAR(eval::recall_at(p, 26), 0.5, kTol);
  EXPECT_NEAR(eval::ndcg_at(p, 26), (1.0 / std::log2(27.0)) / (d0 + d1), kTol);
  // 30 negatives, everything ranked below all of them: p_m - m = 25, 29 -> 54 of 60 pairs.
  EXPECT_NEAR(eval::auc(p, 30), 1.0 - 54.0 / 60.0, kTol);
  // More negatives above than exist (an item that tied with masked ones): clamped to N.
  EXPECT_NEAR(eval::auc(Positions{20}, 5), 0.0, kTol);
}

TEST(EvalMetrics, TiesAreAlreadyResolvedIntoPositions) {
  // Scores: relevant a = 0.9, relevant b = 0.5, negatives 0.9, 0.5, 0.1. Under the pessimistic
  // rule each relevant item loses its tie: order neg(0.9), a, neg(0.5), b, neg(0.1):
  // positions {1, 3}. Recall@2 = 1/2, NDCG@2 = d1 / (d0 + d1), AUC: negatives above a = 1,
  // above b = 3 - 1 = 2 -> 3 of 2 * 3 pairs -> 0.5 (ties count as misordered).
  const Positions p = {1, 3};
  EXPECT_NEAR(eval::recall_at(p, 2), 0.5, kTol);
  EXPECT_NEAR(eval::ndcg_at(p, 2), d1 / (d0 + d1), kTol);
  EXPECT_NEAR(eval::auc(p, 3), 0.5, kTol);
  EXPECT_NEAR(eval::mrr(p), 0.5, kTol);
}

TEST(EvalMetrics, NoveltyAndCoverage) {
  // 4 training users; item 0 seen by all 4, item 1 by 2, item 2 by 1, item 3 by none.
  const auto train = data::Interactions::from_vectors({0, 1, 2, 3, 0, 1, 2}, {0, 0, 0, 0, 1, 1, 2}, 4, 4);
  const data::UserItemIndex index(train);
  const std::vector<double> info = eval::item_self_information(index);
  // -log2(4/4) = 0, -log2(2/4) = 1, -log2(1/4) = 2, unseen counts as 1 user: -log2(1/4) = 2.
  ASSERT_EQ(info.size(), 4u);
  EXPECT_NEAR(info[0], 0.0, kTol);
  EXPECT_NEAR(info[1], 1.0, kTol);
  EXPECT_NEAR(info[2], 2.0, kTol);
  EXPECT_NEAR(info[3], 2.0, kTol);
  EXPECT_NEAR(eval::novelty(Positions{0, 1, 2}, info), 1.0, kTol);  // (0 + 1 + 2) / 3
  EXPECT_NEAR(eval::novelty(Positions{3}, info), 2.0, kTol);
  EXPECT_EQ(eval::novelty(Positions{}, info), 0.0);
  // Lists {0, 1} and {1, 2} cover items 0, 1, 2 of 5: 3/5.
  EXPECT_NEAR(eval::item_coverage({{0, 1}, {1, 2}}, 5), 0.6, kTol);
}

TEST(EvalMetrics, BadRankingsAreRejected) {
  EXPECT_MESSAGE_HAS(testing::error_message([] { eval::recall_at(Positions{}, 5); }), "at least one relevant item");
  EXPECT_MESSAGE_HAS(testing::error_message([] { eval::ndcg_at(Positions{3, 1}, 5); }), "strictly ascending");
  EXPECT_MESSAGE_HAS(testing::error_message([] { eval::ndcg_at(Positions{1, 1}, 5); }), "strictly ascending");
  EXPECT_MESSAGE_HAS(testing::error_message([] { eval::precision_at(Positions{1}, 0); }), "at least 1");
  EXPECT_MESSAGE_HAS(testing::error_message([] { eval::auc(Positions{1}, 0); }), "at least one negative");
  EXPECT_MESSAGE_HAS(testing::error_message([] { eval::mrr(Positions{-1}); }), "non-negative");
}

TEST(EvalResult, LooksUpSplitsByKAndWritesJson) {
  eval::EvalResult r;
  r.metrics = {{"Recall@20", 0.25}, {"NDCG@20", 0.5}, {"Recall@5", 0.125}, {"AUC", 0.75}};
  r.users = 3;
  r.cases = 7;
  EXPECT_EQ(r.at("Recall@20"), 0.25);
  const std::string m = testing::error_message([&] { r.at("Recall@10"); });
  EXPECT_MESSAGE_HAS(m, "'Recall@10'");
  EXPECT_MESSAGE_HAS(m, "AUC, NDCG@20, Recall@20, Recall@5");
  const auto at20 = r.at_k(20);
  EXPECT_EQ(at20, (std::map<std::string, double>{{"NDCG", 0.5}, {"Recall", 0.25}}));
  EXPECT_EQ(r.at_k(5), (std::map<std::string, double>{{"Recall", 0.125}}));
  EXPECT_TRUE(r.at_k(2).empty());  // "@2" is not a suffix of "@20"'s names
  EXPECT_EQ(r.to_json(),
            R"({"cases":7,"metrics":{"AUC":0.75,"NDCG@20":0.5,"Recall@20":0.25,"Recall@5":0.125},"users":3})");
}

// ---- ratings --------------------------------------------------------------------------------

TEST(EvalRating, RmseAndMaeHandComputed) {
  // errors -0.5, 0, 1: MSE = (0.25 + 0 + 1) / 3 = 0.41667, RMSE = 0.64550; MAE = 1.5 / 3 = 0.5.
  const Tensor pred = Tensor::from_vector<float>({1.0f, 2.0f, 3.5f});
  const Tensor target = Tensor::from_vector<double>({1.5, 2.0, 2.5});
  EXPECT_NEAR(eval::rmse(pred, target), std::sqrt(1.25 / 3.0), kTol);
  EXPECT_NEAR(eval::mae(pred, target), 0.5, kTol);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { eval::rmse(pred, Tensor::from_vector<double>({1.0})); }),
                     "different numbers of values");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { eval::mae(Tensor::from_vector<int64_t>({1}), target); }),
                     "must be f32 or f64");
}

TEST(EvalRating, ProtocolScoresEveryPairInBatchesAndClips) {
  // Ratings of (user, item): (0,0)=4, (0,1)=2, (1,1)=5, (2,0)=1. The scorer predicts 3 + user - item.
  const auto test = data::Interactions::from_vectors({0, 0, 1, 2}, {0, 1, 1, 0}, 3, 2, {4, 2, 5, 1});
  const eval::PairScorer scorer = [](const Tensor& users, const Tensor& items) {
    const std::vector<int64_t> u = users.to_vector<int64_t>(), i = items.to_vector<int64_t>();
    std::vector<float> p;
    for (size_t j = 0; j < u.size(); ++j) p.push_back(static_cast<float>(3 + u[j] - i[j]));
    return Tensor::from_vector(p);
  };
  // predictions 3, 2, 3, 5; errors -1, 0, -2, 4: MSE = (1 + 0 + 4 + 16) / 4 = 5.25; MAE = 7 / 4.
  for (const int64_t batch : {1, 3, 100}) {
    eval::RatingOptions options;
    options.batch_size = batch;
    const eval::EvalResult r = eval::evaluate_ratings(scorer, test, options);
    EXPECT_NEAR(r.at("RMSE"), std::sqrt(5.25), kTol);
    EXPECT_NEAR(r.at("MAE"), 1.75, kTol);
    EXPECT_EQ(r.users, 3);
    EXPECT_EQ(r.cases, 4);
  }
  // Clipped to [1, 4]: 3, 2, 3, 4 -> errors -1, 0, -2, 3: MSE = 14 / 4 = 3.5, MAE = 6 / 4.
  eval::RatingOptions clipped;
  clipped.clip_min = 1;
  clipped.clip_max = 4;
  const eval::EvalResult r = eval::evaluate_ratings(scorer, test, clipped);
  EXPECT_NEAR(r.at("RMSE"), std::sqrt(3.5), kTol);
  EXPECT_NEAR(r.at("MAE"), 1.5, kTol);
  const eval::PairScorer wrong = [](const Tensor& users, const Tensor&) { return Tensor::zeros({users.numel() + 1}); };
  EXPECT_MESSAGE_HAS(testing::error_message([&] { eval::evaluate_ratings(wrong, test); }), "evaluate_ratings");
}

}  // namespace
}  // namespace aisle
