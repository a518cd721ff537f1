#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "aisle/data/user_index.hpp"

// Per-user ranking metrics with binary relevance, as defined by the LightGCN reference code
// (gusye1234/LightGCN-PyTorch, utils.py: RecallPrecision_ATk, NDCGatK_r), plus the usual
// definitions of the metrics that code does not have. The protocols (full_ranking.hpp,
// sampled_ranking.hpp) average each metric over the users that have at least one test item.
//
// A user's ranking enters as `positions`: the 0-based positions of the user's R >= 1 relevant
// (test) items in the ranked candidate list, ascending and distinct. The protocols compute them
// with ops::rank_items, whose tie rule is pessimistic: a relevant item loses every tie against a
// non-relevant one (ties among relevant items move no metric). With hits(K) = #{m : p_m < K}:
//
//   Recall@K    = hits(K) / R
//   Precision@K = hits(K) / K                       (K even when fewer than K items can be listed)
//   HitRate@K   = 1 if hits(K) > 0 else 0
//   NDCG@K      = DCG@K / IDCG@K,  DCG@K = sum_{m : p_m < K} 1 / log2(p_m + 2),
//                 IDCG@K = sum_{i < min(R, K)} 1 / log2(i + 2)   (the R relevant items on top)
//   MRR@K       = 1 / (p_0 + 1) if p_0 < K else 0   (reciprocal rank of the first hit in the top K)
//   MRR         = 1 / (p_0 + 1)                     (no cut-off)
//   MAP@K       = (1 / min(R, K)) * sum_{m : p_m < K} (m + 1) / (p_m + 1)
//                 (AP@K: the precision at each hit's position, normalised by min(R, K))
//   AUC         = 1 - sum_m min(p_m - m, N) / (R * N)
//                 over the R * N (relevant, negative) pairs, N >= 1 negatives among the candidates:
//                 p_m - m negatives rank above the m-th relevant item; a tie counts as misordered,
//                 by the same pessimistic rule. Exact, from ranks, with no pair enumeration.
//
// List metrics read the top-K list a model would serve (ops::topk order, masked items removed):
//   item coverage@K = |union of the users' top-K lists| / num_items
//   novelty@K       = mean over a user's listed items of self_information(item), where
//                     self_information(i) = -log2(max(pop(i), 1) / num_users) and pop(i) is the
//                     number of training users of item i (an unseen item counts as seen once).
namespace aisle::eval {

int64_t hits_at(std::span<const int64_t> positions, int64_t k);
double recall_at(std::span<const int64_t> positions, int64_t k);
double precision_at(std::span<const int64_t> positions, int64_t k);
double hit_rate_at(std::span<const int64_t> positions, int64_t k);
double ndcg_at(std::span<const int64_t> positions, int64_t k);
double mrr_at(std::span<const int64_t> positions, int64_t k);
double mrr(std::span<const int64_t> positions);
double average_precision_at(std::span<const int64_t> positions, int64_t k);
// num_negatives >= 1.
double auc(std::span<const int64_t> positions, int64_t num_negatives);

// -log2(max(pop(i), 1) / num_users) per item, pop from the training index (see above).
std::vector<double> item_self_information(const data::UserItemIndex& train);
// Mean self-information of the listed items (0 for an empty list).
double novelty(std::span<const int64_t> list, std::span<const double> self_information);
// Distinct items over all lists, divided by num_items.
double item_coverage(const std::vector<std::vector<int64_t>>& lists, int64_t num_items);

}  // namespace aisle::eval
