#include "src/models/biased_mf/gather_ratings.hpp"

namespace aisle::models::biased_mf {
namespace {

// Rows of the training set asked for ahead of use (random reads of a large array).
constexpr int64_t kGatherAhead = 16;
constexpr int64_t kHogwildChunkRatings = int64_t{1} << 22;

}  // namespace

void gather_in_order(const PackedRating* rows, const int64_t* order, int64_t count, PackedRating* out) {
  for (int64_t k = 0; k < count; ++k) {
    if (k + kGatherAhead < count) __builtin_prefetch(rows + order[k + kGatherAhead]);
    out[k] = rows[order[k]];
  }
}

int64_t hogwild_chunk_steps(int64_t batch_size) {
  return batch_size >= kHogwildChunkRatings ? 1 : kHogwildChunkRatings / batch_size;
}

}  // namespace aisle::models::biased_mf
