#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "aisle/data/batch_sampler.hpp"
#include "aisle/data/interactions.hpp"
#include "aisle/data/negative_sampler.hpp"

namespace aisle::data {

// How an epoch's (user, positive) pairs are chosen. Both make |train| pairs an epoch.
//   rows:  every training row once, shuffled: a user trains in proportion to its history.
//   users: each pair draws a user uniformly among the users with training items, then one of its
//          distinct items uniformly (with replacement), as LightGCN's and NGCF's reference code
//          samples. Every user trains about equally often, which is what per-user averaged
//          metrics (Recall@K, NDCG@K) reward.
enum class PairSampling { rows, users };
PairSampling parse_pair_sampling(const std::string& name);  // "rows" | "users"
const char* pair_sampling_name(PairSampling sampling);

// One step's training triples for the pairwise (BPR-loss) models: this rank's real rows of the
// global batch (padding left out; global_size kept for the loss scale) and their sampled items.
struct PairwiseBatch {
  InteractionBatch rows;  // PairSampling::users: rows.rows are the pairs' positions in the epoch
  Tensor negatives;  // i64 [rows.valid, negatives per row], on the sampler's device
};

// The training batches BPR-MF, LightGCN, NGCF and GraphSAGE share: each epoch's shuffled batches
// of (user, positive) pairs (PairSampling), with `per_row` negatives drawn for each. Negatives are
// keyed by dataset row, or by the pair's position in the epoch for PairSampling::users (stream
// sampler_stream(negatives, epoch) of `seed`); a users-mode pair is itself a function of
// (seed, epoch, position). So a pair and its negatives depend neither on the batch nor on the rank
// that trains it, and a resumed run draws the same.
class PairwiseBatches {
 public:
  // The positives of PairSampling::users come from negatives.positives() (the training index).
  PairwiseBatches(Interactions train, BatchSamplerOptions batching, NegativeSampler negatives, int64_t per_row,
                  PairSampling sampling = PairSampling::rows);

  int64_t num_batches() const { return batches_.num_batches(); }
  PairwiseBatch batch(int64_t epoch, int64_t step);
  // Draw on `device` from now on: the same negatives as the host would, without a host draw and
  // copy per step.
  void sample_on(Device device) { negatives_ = negatives_.to(device); }

 private:
  Interactions train_;
  BatchSampler batches_;
  NegativeSampler negatives_;
  int64_t per_row_;
  PairSampling sampling_;
  std::vector<int64_t> active_users_;  // users with training items (PairSampling::users)
};

}  // namespace aisle::data
