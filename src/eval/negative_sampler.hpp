#pragma once
// Internal: the negatives of the sampled-ranking protocol (aisle/eval/sampled_ranking.hpp).
// Each case's draws come from its own Philox stream, keyed by (seed, user, case), so a case's
// negatives are a pure function of those and do not depend on which other cases are evaluated.
#include <cstdint>
#include <vector>

#include "aisle/data/user_index.hpp"
#include "aisle/eval/sampled_ranking.hpp"

namespace aisle::eval::detail {

class NegativeSampler {
 public:
  NegativeSampler(const data::UserItemIndex& train, const data::UserItemIndex& test, NegativeSampling mode,
                  uint64_t seed);

  // Writes n distinct items that `user` has in neither train nor test to out[0..n), for the
  // user's case-th test item. Throws if fewer than n items are eligible.
  void sample(int64_t user, int64_t case_index, int64_t n, int64_t* out) const;

 private:
  bool interacted(int64_t user, int64_t item) const;
  bool eligible(int64_t user, int64_t item) const;
  int64_t count_eligible(int64_t user) const;
  // The d-th 64-bit draw of a case.
  uint64_t draw(int64_t user, int64_t case_index, uint64_t d) const;
  int64_t pick(uint64_t bits) const;  // an item from 64 random bits under the mode's distribution
  // Exact sampling from the explicit eligible list, when rejection keeps failing (a user who has
  // interacted with most of the catalogue, or with most of its popularity mass).
  void sample_exactly(int64_t user, int64_t case_index, int64_t n, uint64_t first_draw, int64_t* out) const;

  const data::UserItemIndex& train_;
  const data::UserItemIndex& test_;
  NegativeSampling mode_;
  uint64_t seed_;
  std::vector<int64_t> popularity_;  // training users per item
  std::vector<double> cumulative_;   // running sums of popularity_ (exact integers in a double)
  int64_t popular_items_ = 0;        // items with popularity > 0
};

}  // namespace aisle::eval::detail
