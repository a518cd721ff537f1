#pragma once
#include <cstdint>

#include "aisle/data/batch_sampler.hpp"
#include "aisle/data/interactions.hpp"
#include "aisle/data/negative_sampler.hpp"

namespace aisle::data {

// One step's training triples for the pairwise (BPR-loss) models: this rank's real rows of the
// global batch (padding left out; global_size kept for the loss scale) and their sampled items.
struct PairwiseBatch {
  InteractionBatch rows;
  Tensor negatives;  // i64 [rows.valid, negatives per row], on the sampler's device
};

// The training batches BPR-MF, LightGCN, NGCF and GraphSAGE share: each epoch's shuffled batches
// of training rows, with `per_row` negatives drawn for each row. Negatives are keyed by dataset
// row (stream sampler_stream(negatives, epoch) of `seed`), so a row's negatives in an epoch
// depend neither on its batch nor on the rank that trains it, and a resumed run draws the same.
class PairwiseBatches {
 public:
  PairwiseBatches(Interactions train, BatchSamplerOptions batching, NegativeSampler negatives, int64_t per_row);

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
};

}  // namespace aisle::data
