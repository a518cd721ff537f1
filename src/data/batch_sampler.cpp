#include "aisle/data/batch_sampler.hpp"

#include <algorithm>

#include "aisle/data/permutation.hpp"
#include "aisle/data/sampler_streams.hpp"
#include "aisle/ops/scatter.hpp"

namespace aisle::data {

namespace {

void check_options(const BatchSamplerOptions& o, int64_t n) {
  AISLE_CHECK(n >= 0, "BatchSampler: the number of elements must be non-negative, got ", n);
  AISLE_CHECK(o.batch_size >= 1, "BatchSampler: batch_size must be at least 1, got ", o.batch_size);
  AISLE_CHECK(o.world_size >= 1, "BatchSampler: world_size must be at least 1, got ", o.world_size);
  AISLE_CHECK(o.rank >= 0 && o.rank < o.world_size, "BatchSampler: rank ", o.rank, " is outside [0, ",
              o.world_size, ")");
}

}  // namespace

BatchSampler::BatchSampler(int64_t n, BatchSamplerOptions options) : n_(n), options_(options) {
  check_options(options_, n_);
  set_epoch(0);
}

BatchSampler::BatchSampler(Tensor population, BatchSamplerOptions options)
    : n_(population.defined() ? population.numel() : -1), options_(options), population_(std::move(population)) {
  AISLE_CHECK(population_.defined() && population_.dim() == 1 && population_.dtype() == DType::i64 &&
                  !population_.is_cuda(),
              "BatchSampler: population must be a 1-D i64 CPU tensor, got ",
              population_.defined() ? population_.describe() : std::string("an undefined tensor"));
  check_options(options_, n_);
  set_epoch(0);
}

void BatchSampler::set_epoch(int64_t epoch) {
  AISLE_CHECK(epoch >= 0, "BatchSampler::set_epoch: epoch must be non-negative, got ", epoch);
  if (epoch == epoch_) return;
  epoch_ = epoch;
  // Unshuffled order never changes; only build it once.
  if (!options_.shuffle && order_.defined()) return;
  Tensor order = options_.shuffle
                     ? random_permutation(n_, options_.seed,
                                          sampler_stream(SamplerPurpose::shuffle, static_cast<uint64_t>(epoch)))
                     : Tensor::arange(n_);
  order_ = population_.defined() ? ops::gather_rows(population_, order) : order;
}

int64_t BatchSampler::num_batches() const {
  const int64_t b = options_.batch_size;
  return options_.drop_last ? n_ / b : (n_ + b - 1) / b;
}

Batch BatchSampler::batch(int64_t index) const {
  AISLE_CHECK(index >= 0 && index < num_batches(), "BatchSampler::batch: batch ", index, " is outside [0, ",
              num_batches(), ") for ", n_, " elements in batches of ", options_.batch_size);
  const int64_t begin = index * options_.batch_size;
  const int64_t global = std::min(options_.batch_size, n_ - begin);
  const int64_t world = options_.world_size, rank = options_.rank;
  const int64_t shard = (global + world - 1) / world;
  Batch out;
  out.index = index;
  out.global_size = global;
  out.valid = global > rank ? (global - rank + world - 1) / world : 0;
  out.rows = Tensor::empty({shard}, DType::i64);
  const int64_t* src = order_.data<int64_t>() + begin;
  int64_t* dst = out.rows.data<int64_t>();
  for (int64_t j = 0; j < out.valid; ++j) dst[j] = src[rank + j * world];
  for (int64_t j = out.valid; j < shard; ++j) dst[j] = src[0];
  return out;
}

InteractionBatch gather_batch(const Interactions& x, const Batch& batch) {
  InteractionBatch out;
  out.rows = batch.rows;
  out.users = ops::gather_rows(x.users, batch.rows);
  out.items = ops::gather_rows(x.items, batch.rows);
  out.values = ops::gather_rows(x.values, batch.rows);
  out.valid = batch.valid;
  out.global_size = batch.global_size;
  return out;
}

InteractionBatch gather_valid_rows(const Interactions& x, const Batch& batch) {
  if (batch.valid == batch.rows.numel()) return gather_batch(x, batch);
  Batch real = batch;
  real.rows = batch.rows.rows(0, batch.valid).clone();
  return gather_batch(x, real);
}

}  // namespace aisle::data
