#include "aisle/data/pairwise_batches.hpp"

#include <utility>

#include "aisle/core/error.hpp"
#include "aisle/data/sampler_streams.hpp"

namespace aisle::data {

PairwiseBatches::PairwiseBatches(Interactions train, BatchSamplerOptions batching, NegativeSampler negatives,
                                 int64_t per_row)
    : train_(std::move(train)),
      batches_(train_.size(), batching),
      negatives_(std::move(negatives)),
      per_row_(per_row) {
  AISLE_CHECK(per_row_ >= 1, "pairwise batches: negatives per row must be >= 1, got ", per_row_);
}

PairwiseBatch PairwiseBatches::batch(int64_t epoch, int64_t step) {
  if (batches_.epoch() != epoch) batches_.set_epoch(epoch);
  InteractionBatch rows = gather_valid_rows(train_, batches_.batch(step));
  Tensor negatives = negatives_.sample(rows.users, per_row_, batches_.options().seed,
                                       sampler_stream(SamplerPurpose::negatives, static_cast<uint64_t>(epoch)), rows.rows);
  return {std::move(rows), std::move(negatives)};
}

}  // namespace aisle::data
