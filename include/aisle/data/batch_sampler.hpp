#pragma once
#include <cstdint>

#include "aisle/data/interactions.hpp"
#include "aisle/tensor/tensor.hpp"

namespace aisle::data {

struct BatchSamplerOptions {
  int64_t batch_size = 1024;  // the GLOBAL batch: all ranks together
  bool shuffle = true;        // false: elements in order, every epoch
  bool drop_last = false;     // drop the final global batch when it is smaller than batch_size
  uint64_t seed = 0;          // epoch e is permuted by stream sampler_stream(shuffle, e) of seed
  int64_t rank = 0;           // data-parallel sharding: this process's share of each batch
  int64_t world_size = 1;
};

// One rank's share of one global batch.
//
// Sharding rule: rank r takes global batch positions r, r + R, r + 2R, ... (round robin), so the
// R shares are disjoint and their union is exactly the single-process batch. Every rank gets the
// same count, shard = ceil(global_size / R); ranks short of a row are padded at the END with
// copies of the global batch's first row, and `valid` counts the real rows (a prefix). Padding
// only occurs when global_size is not a multiple of R (the last batch without drop_last, or a
// batch_size not divisible by R): weight rows past `valid` by 0 and normalise losses by
// global_size, and R ranks compute exactly the one-process gradient.
struct Batch {
  Tensor rows;              // i64 [shard]: element ids (rows, users, or population entries)
  int64_t valid = 0;        // rows[0, valid) are real; the rest is padding
  int64_t global_size = 0;  // rows in the global batch over all ranks
  int64_t index = 0;        // batch number within the epoch
};

// Shuffled minibatches over n elements: interaction rows (n = interactions.size()), users
// (n = num_users), or an explicit population of ids (e.g. users with a history). The order of
// epoch e is a function of (seed, e) alone, so a resumed run calls set_epoch(e) and gets the very
// batches the uninterrupted run saw. Every element appears exactly once per epoch (except the
// tail dropped by drop_last).
class BatchSampler {
 public:
  BatchSampler(int64_t n, BatchSamplerOptions options);
  // Elements are population[0..n) (i64 [n], CPU); batches hold population values.
  BatchSampler(Tensor population, BatchSamplerOptions options);

  void set_epoch(int64_t epoch);  // permutes; the constructor starts at epoch 0
  int64_t epoch() const { return epoch_; }
  int64_t size() const { return n_; }
  int64_t num_batches() const;  // global batches per epoch, the same on every rank
  Batch batch(int64_t index) const;
  const Tensor& order() const { return order_; }  // the epoch's elements in batch order (i64 [n])
  const BatchSamplerOptions& options() const { return options_; }

 private:
  int64_t n_;
  BatchSamplerOptions options_;
  Tensor population_;
  int64_t epoch_ = -1;
  Tensor order_;
};

// A batch of interaction rows with the columns models train on, gathered from `x`.
struct InteractionBatch {
  Tensor rows, users, items;  // i64 [shard]
  Tensor values;              // f32 [shard]
  int64_t valid = 0, global_size = 0;
};
InteractionBatch gather_batch(const Interactions& x, const Batch& batch);
// The same without the padding rows: only this rank's real rows (`valid` of them; global_size kept),
// for models that normalise by global_size themselves.
InteractionBatch gather_valid_rows(const Interactions& x, const Batch& batch);

}  // namespace aisle::data
