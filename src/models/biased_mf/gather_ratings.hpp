#pragma once
// Internal: a step's ratings in the epoch's shuffled order, as the SGD kernels read them.
#include <cstdint>

#include "src/models/biased_mf/sequential_sgd.hpp"

namespace aisle::models::biased_mf {

// out[k] = rows[order[k]] for k in [0, count). The gather issues the random reads of `rows` ahead
// of use: reading them through the permutation inside a kernel would stall on every row (on the
// CPU the chain of updates waits; on CUDA the batch is copied to the device packed like this).
void gather_in_order(const PackedRating* rows, const int64_t* order, int64_t count, PackedRating* out);

// Steps of `batch_size` rows whose ratings Hogwild SGD copies to the device at once: about 4M
// ratings (48 MiB), so an epoch costs a few copies rather than one per step, and the device
// holds one chunk rather than the whole epoch. At least 1.
int64_t hogwild_chunk_steps(int64_t batch_size);

}  // namespace aisle::models::biased_mf
