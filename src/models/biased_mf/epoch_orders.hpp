#pragma once
// Internal: each epoch's shuffled order, with the next epoch's drawn on another thread while the
// current one trains (shuffling ML-1M's 800k ratings costs about a fifth of a per-rating SGD epoch).
#include <future>
#include <memory>

#include "aisle/data/batch_sampler.hpp"

namespace aisle::models::biased_mf {

class EpochOrders {
 public:
  EpochOrders(int64_t n, const data::BatchSamplerOptions& options);
  ~EpochOrders();  // waits for a draw in progress
  EpochOrders(const EpochOrders&) = delete;
  EpochOrders& operator=(const EpochOrders&) = delete;

  // The sampler set to `epoch`: the one drawn ahead if it is that epoch (the usual next epoch),
  // else drawn now. Then starts drawing epoch + 1. Orders are BatchSampler's, a function of
  // (seed, epoch) only, so which thread drew them changes nothing.
  const data::BatchSampler& at(int64_t epoch);
  int64_t num_batches() const { return current_->num_batches(); }
  int64_t size() const { return current_->size(); }

 private:
  std::unique_ptr<data::BatchSampler> current_;
  std::unique_ptr<data::BatchSampler> ahead_;  // the draw in progress owns it until drawing_ is done
  std::future<void> drawing_;
  int64_t n_;
  data::BatchSamplerOptions options_;
};

}  // namespace aisle::models::biased_mf
