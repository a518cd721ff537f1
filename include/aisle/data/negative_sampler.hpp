#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "aisle/data/user_index.hpp"
#include "aisle/tensor/random.hpp"
#include "aisle/tensor/tensor.hpp"

namespace aisle::detail {
struct NegativeTables;
}

namespace aisle::data {

// Interaction rows per item (i64 [num_items]): the counts popularity sampling raises to alpha.
Tensor item_counts(const Interactions& x);

// Negative items for implicit-feedback training (BPR, SASRec, LightGCN): items the user has NOT
// interacted with in `positives`, drawn from
//   uniform:     every non-positive item equally likely;
//   popularity:  P(i) proportional to counts[i]^alpha over the non-positive items (word2vec's
//                alpha = 0.75; alpha = 0 is uniform over all items, including zero counts;
//                for alpha > 0 an item with count 0 is never drawn).
// Every draw is exact (no bias from the exclusion):
//   uniform picks rank r uniformly among the user's num_items - degree non-positives and maps it
//   to an item with one binary search over the user's sorted positives (no rejection at all);
//   popularity draws from an alias table and rejects positives, at most max_attempts times;
//   after that, or at once when the user's positives hold more than 7/8 of the mass, it draws
//   from the exact complement distribution by walking the gaps between the user's positives
//   (O(degree + log num_items)). The k negatives of a positive are independent (with
//   replacement). Sampling for a user with no admissible item (every item a positive, or every
//   non-positive of weight 0) is an error naming the user.
//
// Determinism: output slot s = key * k + j draws from its own block range of the Philox stream
// (seed, stream), so results do not depend on the thread count, the batch composition or the
// rank a row lands on when `keys` are dataset row ids (or user ids) rather than batch positions.
// The training pattern: for a BatchSampler batch of interaction rows in epoch e, pass
// keys = batch.rows and stream = sampler_stream(SamplerPurpose::negatives, e); then every rank
// of a sharded run draws exactly the negatives the single process draws, and a resumed run
// redraws epoch e's. sample() is const and thread-safe.
//
// Devices: to(cuda) copies the tables to a GPU; that sampler draws there (one thread per output
// slot, the same draw code as the CPU, src/data/negative_draw.hpp), takes users and keys on the
// CPU or on its device, returns negatives on its device, and matches the CPU sampler bit for bit.
class NegativeSampler {
 public:
  static constexpr int kDefaultMaxAttempts = 32;

  static NegativeSampler uniform(std::shared_ptr<const UserItemIndex> positives);
  // item_counts: [num_items] non-negative counts (any real or integer dtype, CPU). max_attempts in
  // [0, 200] only trades speed: 0 always takes the exact complement walk.
  static NegativeSampler popularity(std::shared_ptr<const UserItemIndex> positives, const Tensor& item_counts,
                                    double alpha = 0.75, int max_attempts = kDefaultMaxAttempts);

  // The same sampler with copies of its tables on `device`; it keeps its host tables (for draw()).
  NegativeSampler to(Device device) const;
  Device device() const { return device_; }

  // k negatives for each user (i64 [n]) -> i64 [n, k] on device(). The Generator overload takes
  // one stream. A bad user or key throws the same message on either device.
  Tensor sample(const Tensor& users, int64_t k, Generator& gen) const;
  // keys (optional, i64 [n], non-negative): row r draws slots keys[r] * k + j (default: r).
  Tensor sample(const Tensor& users, int64_t k, uint64_t seed, uint64_t stream, const Tensor& keys = {}) const;

  // For samplers built on this one (sequences): validates users (i64 [n] CPU) first, then
  // draw() (on the host tables, whatever device()) is unchecked and safe inside
  // cpu::parallel_for. Slots must be < 2^56.
  void check_users(const Tensor& users, const char* op) const;
  int64_t draw(int64_t user, uint64_t seed, uint64_t stream, uint64_t slot) const;

  bool is_popularity() const { return !weights_.empty(); }
  int64_t num_users() const { return positives_->num_users(); }
  int64_t num_items() const { return positives_->num_items(); }
  const UserItemIndex& positives() const { return *positives_; }

 private:
  struct DeviceTables;  // the tables' copies on a GPU (negative_sampler.cpp)

  explicit NegativeSampler(std::shared_ptr<const UserItemIndex> positives);
  detail::NegativeTables host_tables() const;
  void check_key_range(const Tensor& keys, int64_t k, const char* op) const;

  std::shared_ptr<const UserItemIndex> positives_;
  int max_attempts_ = kDefaultMaxAttempts;
  // Popularity only: per-item weight, its prefix sums (prefix_[i] = sum of weights before i), the
  // alias table, and each user's share of the mass outside its positives (0: nothing to draw).
  std::vector<double> weights_, prefix_, alias_prob_;
  std::vector<int64_t> alias_;
  std::vector<double> free_share_;
  Device device_ = Device::cpu();
  std::shared_ptr<const DeviceTables> device_tables_;
};

}  // namespace aisle::data
