#include "aisle/data/pairwise_batches.hpp"

#include <utility>

#include "aisle/core/error.hpp"
#include "aisle/data/sampler_streams.hpp"
#include "src/core/parallel.hpp"
#include "src/data/counter_rng.hpp"

namespace aisle::data {

PairSampling parse_pair_sampling(const std::string& name) {
  if (name == "rows") return PairSampling::rows;
  if (name == "users") return PairSampling::users;
  AISLE_FAIL("pair sampling must be rows or users, got '", name, "'");
}

const char* pair_sampling_name(PairSampling sampling) {
  return sampling == PairSampling::users ? "users" : "rows";
}

namespace {

// Each pair owns 256 Philox blocks: a user and an item draw need 2-4 words, and a rejected
// bounded draw still never reaches the next pair's numbers.
constexpr int kPairSlotBlockBits = 8;

// The pairs at the batch's real positions (padding left out, as gather_valid_rows does): a
// uniform user among `active`, then one of its items.
InteractionBatch draw_user_pairs(const Batch& batch, const std::vector<int64_t>& active, const UserItemIndex& index,
                                 uint64_t seed, int64_t epoch) {
  const int64_t n = batch.valid;
  InteractionBatch out;
  out.rows = batch.rows.rows(0, n).clone();
  out.users = Tensor::empty({n}, DType::i64);
  out.items = Tensor::empty({n}, DType::i64);
  out.values = Tensor::ones({n}, DType::f32);
  out.valid = n;
  out.global_size = batch.global_size;
  const int64_t* pos = out.rows.data<int64_t>();
  int64_t* users = out.users.data<int64_t>();
  int64_t* items = out.items.data<int64_t>();
  const uint64_t stream = sampler_stream(SamplerPurpose::pairs, static_cast<uint64_t>(epoch));
  cpu::parallel_for(n, 4096, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      detail::CounterRng rng(seed, stream, static_cast<uint64_t>(pos[r]) << kPairSlotBlockBits);
      const int64_t user = active[rng.below(active.size())];
      users[r] = user;
      items[r] = index.begin(user)[rng.below(static_cast<uint64_t>(index.degree(user)))];
    }
  });
  return out;
}

}  // namespace

PairwiseBatches::PairwiseBatches(Interactions train, BatchSamplerOptions batching, NegativeSampler negatives,
                                 int64_t per_row, PairSampling sampling)
    : train_(std::move(train)),
      batches_(train_.size(), batching),
      negatives_(std::move(negatives)),
      per_row_(per_row),
      sampling_(sampling) {
  AISLE_CHECK(per_row_ >= 1, "pairwise batches: negatives per row must be >= 1, got ", per_row_);
  if (sampling_ == PairSampling::users) {
    const UserItemIndex& index = negatives_.positives();
    for (int64_t u = 0; u < index.num_users(); ++u)
      if (index.degree(u) > 0) active_users_.push_back(u);
    AISLE_CHECK(!active_users_.empty(), "pairwise batches: pair sampling 'users' needs a user with training items, ",
                "the training index has none");
  }
}

PairwiseBatch PairwiseBatches::batch(int64_t epoch, int64_t step) {
  if (batches_.epoch() != epoch) batches_.set_epoch(epoch);
  const Batch positions = batches_.batch(step);
  InteractionBatch rows = sampling_ == PairSampling::rows
                              ? gather_valid_rows(train_, positions)
                              : draw_user_pairs(positions, active_users_, negatives_.positives(),
                                                batches_.options().seed, epoch);
  Tensor negatives = negatives_.sample(rows.users, per_row_, batches_.options().seed,
                                       sampler_stream(SamplerPurpose::negatives, static_cast<uint64_t>(epoch)), rows.rows);
  return {std::move(rows), std::move(negatives)};
}

}  // namespace aisle::data
