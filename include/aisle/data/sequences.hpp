#pragma once
#include <cstdint>
#include <vector>

#include "aisle/data/interactions.hpp"
#include "aisle/data/negative_sampler.hpp"
#include "aisle/tensor/random.hpp"

namespace aisle::data {

// Token convention (SASRec's reference code): token 0 is padding and item i is token i + 1, so
// an embedding table for sequences has num_items + 1 rows with row 0 the padding row.
constexpr int64_t kPadToken = 0;
constexpr int64_t item_token(int64_t item) { return item + 1; }
constexpr int64_t token_item(int64_t token) { return token - 1; }

// SASRec training tensors, all i64 [B, max_len], left-padded with kPadToken.
//   inputs[t]    = the sequence without its last item;
//   targets[t]   = the item after inputs[t] (inputs shifted by one), pad where inputs are pad;
//   negatives[t] = a sampled non-positive of the user where targets[t] is real, pad elsewhere
//                  (undefined when no sampler is given).
// Sequences longer than max_len + 1 keep their most recent items.
struct SequenceBatch {
  Tensor inputs, targets, negatives;
};

// Each user's items ordered by timestamp (ties keep row order: a stable sort), as flat arrays.
class UserSequences {
 public:
  UserSequences() = default;
  explicit UserSequences(const Interactions& x);

  int64_t num_users() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  int64_t num_items() const { return num_items_; }
  int64_t length(int64_t user) const { return offsets_[static_cast<size_t>(user) + 1] - offsets_[static_cast<size_t>(user)]; }
  const int64_t* begin(int64_t user) const { return items_.data() + offsets_[static_cast<size_t>(user)]; }
  const int64_t* end(int64_t user) const { return items_.data() + offsets_[static_cast<size_t>(user) + 1]; }

  // Each user's most recent max_len items as tokens, left-padded: the model input for predicting
  // what comes next (evaluation, serving). users: i64 [B] CPU -> i64 [B, max_len].
  Tensor history(const Tensor& users, int64_t max_len) const;

  // Training inputs/targets and, with a sampler, one negative per real target. The negative at
  // position t of user u draws slot u * max_len + t of (seed, stream), so it does not depend on
  // the batch composition; the sampler's positives should be the same training interactions.
  SequenceBatch training_batch(const Tensor& users, int64_t max_len, const NegativeSampler* negatives,
                               uint64_t seed, uint64_t stream) const;
  SequenceBatch training_batch(const Tensor& users, int64_t max_len, const NegativeSampler& negatives,
                               Generator& gen) const;

 private:
  void check_users(const Tensor& users, int64_t max_len, const char* op) const;

  std::vector<int64_t> offsets_{0};
  std::vector<int64_t> items_;
  int64_t num_items_ = 0;
};

}  // namespace aisle::data
