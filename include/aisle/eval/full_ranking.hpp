#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "aisle/core/device.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/eval/result.hpp"
#include "aisle/tensor/tensor.hpp"

// Full-ranking evaluation (the LightGCN / NGCF protocol): every user with at least one test item
// is ranked against the whole catalogue with their training items removed.
//
// Per batch of users, on the evaluation device: scores = scorer(users) [B, num_items];
// ops::mask_items_ sets the users' training items to -inf; ops::topk keeps the top max(K) ids
// (and values, to catch NaN scores); ops::rank_items gives the exact position of every test item
// under the pessimistic tie rule (aisle/ops/mask_items.hpp). Only the [B, max K] top lists and
// the test items' positions come back to the host, never a users x items matrix. The metrics are
// then computed on the host from the positions (aisle/eval/metrics.hpp) and from the top lists
// (coverage, novelty), and averaged over the evaluated users in ascending user order, so the
// batch size does not change the result.
//
// Reported names, for every K in options.ks: Recall@K, Precision@K, NDCG@K, HitRate@K, MRR@K,
// MAP@K, Coverage@K, Novelty@K; and MRR (no cut-off) and AUC (over each user's candidates: the
// items that are not training items; users with no negative candidate are left out of AUC).
// A test item that is also one of the user's training items is masked like any training item:
// it stays relevant (it counts in R) but ranks last, as in the reference code.
namespace aisle::eval {

// Scores every item for a batch of users: users i64 [B] on the evaluation device ->
// f32/f64 [B, num_items] on that device, e.g.
//   ops::matmul(ops::index_select(user_emb, 0, users), item_emb, false, true).
// The evaluator masks the returned tensor in place: return a fresh tensor, not a view of model
// state. Scores should be finite: a -inf score ties with the masked items (and loses), and NaN
// scores throw.
using Scorer = std::function<Tensor(const Tensor& users)>;

struct FullRankingOptions {
  std::vector<int64_t> ks{20};  // cut-offs (any order, duplicates ignored), each >= 1
  // Users scored at once: a [batch_size, num_items] score matrix lives on the device. Larger is
  // faster on a GPU (fewer, bigger GEMMs and top-k calls); the result does not depend on it.
  int64_t batch_size = 1024;
  Device device = Device::cpu();  // where user ids are sent and scores are expected
};

// train and test must share one id space (same num_users and num_items).
EvalResult evaluate_full_ranking(const Scorer& scorer, const data::UserItemIndex& train,
                                 const data::UserItemIndex& test, const FullRankingOptions& options = {});

}  // namespace aisle::eval
