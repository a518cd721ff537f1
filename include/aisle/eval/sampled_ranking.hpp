#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "aisle/core/device.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/eval/full_ranking.hpp"
#include "aisle/eval/result.hpp"
#include "aisle/tensor/tensor.hpp"

// Sampled ranking (the SASRec protocol): each test item of a user is ranked among itself and N
// sampled negatives. Every (user, test item) pair is one case with its own negatives; a user's
// metrics are the mean over their cases (one case per user in leave-one-out splits, which is
// exactly SASRec's evaluation), then averaged over users in ascending user order.
//
// Negatives: N distinct items the user has neither in train nor in test, drawn uniformly or in
// proportion to pop(i), the number of training users of item i (items never seen in training are
// then never drawn). Draws come from a counter-based Philox stream keyed by (seed, user, case), so
// the candidates do not depend on batch size or evaluation order. A case with fewer than N
// eligible items throws.
//
// The rank r of the test item among the N + 1 candidates follows the same pessimistic tie rule as
// full ranking: r = #{negatives scored above it} + #{negatives scored equal to it}
// (ops::rank_items, on the device). Reported, per case then per user: HitRate@K and NDCG@K for
// every K (= 1[r < K] and 1[r < K] / log2(r + 2), the metrics.hpp formulas with R = 1), MRR
// (1 / (r + 1)) and AUC (1 - r / N). NaN scores throw.
namespace aisle::eval {

// Scores given candidates: users i64 [B] and items i64 [B, C] on the evaluation device ->
// f32/f64 [B, C] on that device, scores[b][c] being users[b]'s score for items[b][c].
using CandidateScorer = std::function<Tensor(const Tensor& users, const Tensor& items)>;

// Adapts a full-catalogue scorer (scores every item, then gathers the candidates). Convenient but
// it scores num_items items per case; models with cheap per-item scoring should supply their own.
CandidateScorer candidates_from_full(Scorer scorer);

enum class NegativeSampling { uniform, popularity };

struct SampledRankingOptions {
  std::vector<int64_t> ks{10};  // cut-offs, each >= 1
  int64_t num_negatives = 100;  // N >= 1
  NegativeSampling sampling = NegativeSampling::uniform;
  uint64_t seed = 0;
  int64_t batch_size = 4096;  // cases scored at once
  Device device = Device::cpu();
};

// train and test must share one id space.
EvalResult evaluate_sampled_ranking(const CandidateScorer& scorer, const data::UserItemIndex& train,
                                    const data::UserItemIndex& test, const SampledRankingOptions& options = {});

}  // namespace aisle::eval
