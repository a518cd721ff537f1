// Biased MF's CUDA path for per-rating SGD: each step's rows, in the epoch's shuffled order (the
// CPU's), go through the Hogwild kernel (cuda/mf_sgd.hpp) in one launch. Ratings are packed on
// the host and copied a chunk of steps at a time. Steps stay the unit of progress: a step's
// kernel has finished (and its loss is on the host) before on_step sees it, and no later step
// has started, so a checkpoint taken there resumes at the next step like the CPU path.
#include <algorithm>

#include "cuda/mf_sgd.hpp"
#include "src/core/dispatch.hpp"
#include "src/models/biased_mf/biased_mf_model.hpp"
#include "src/models/biased_mf/gather_ratings.hpp"

namespace aisle::models::biased_mf {

static_assert(sizeof(PackedRating) == 3 * sizeof(int32_t), "ratings travel as i32 [n, 3] tensors");

void BiasedMf::hogwild_steps(const data::BatchSampler& sampler, int64_t first_step, const SgdHyper& hyper,
                             const train::StepFn& on_step) {
  const int64_t steps = sampler.num_batches(), n = sampler.size(), batch = config_.batch_size;
  const int64_t chunk_steps = hogwild_chunk_steps(batch);
  const int64_t* order = sampler.order().data<int64_t>();
  [[maybe_unused]] const Tables tables{user_factors_.value().data<float>(), item_factors_.value().data<float>(),
                      user_bias_.value().data<float>(), item_bias_.value().data<float>(), factors_};
  for (int64_t chunk_first = first_step; chunk_first < steps; chunk_first += chunk_steps) {
    const int64_t chunk_end = std::min(steps, chunk_first + chunk_steps);
    const int64_t begin = chunk_first * batch, end = std::min(n, chunk_end * batch);
    gather_in_order(packed_, order + begin, end - begin, step_ratings_.data());
    // PackedRating's bytes as i32 triples: the copy moves them unchanged.
    const Tensor chunk = Tensor::from_host(step_ratings_.data(), {end - begin, 3}, DType::i32, device_);
    [[maybe_unused]] const auto* on_device = reinterpret_cast<const PackedRating*>(chunk.data<int32_t>());
    for (int64_t s = chunk_first; s < chunk_end; ++s) {
      const int64_t first = s * batch, count = std::min(n, first + batch) - first;
      double sum_sq = 0;
      AISLE_CUDA_ONLY("mf: hogwild SGD", sum_sq = cuda::hogwild_sgd(device_.index, tables, num_users_, num_items_,
                                                                    on_device + (first - begin), count, hyper));
      const train::StepReport report{
          .step = s, .steps = steps, .loss = sum_sq / static_cast<double>(count), .examples = count};
      if (!on_step(report)) return;
    }
  }
}

}  // namespace aisle::models::biased_mf
