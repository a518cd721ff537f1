#pragma once
// Launcher of Hogwild per-rating SGD for biased MF on CUDA: the GPU twin of
// src/models/biased_mf/sequential_sgd.hpp, applying the same update to every rating of a batch,
// all ratings at once instead of one after another. Included by host code in src/ (declarations
// only, so it also compiles without the CUDA backend).
#include <cstdint>

#include "src/models/biased_mf/sequential_sgd.hpp"

namespace aisle::cuda {

// For every rating of `ratings` (device memory, `count` of them) applies sequential_sgd's update
// to `tables` (device pointers on cuda:`device`, `users` and `items` rows): the error from the
// rows and biases as read, both factor rows updated from their old values, the biases as
// sequential_sgd updates them (or left alone when !use_biases). Returns the sum of e^2, like
// sequential_sgd. Waits for the kernel (the sum and the id check come back to the host).
//
// Ratings run concurrently without locks (Hogwild, Recht et al. 2011): two ratings that share a
// row both read it and both write it, so one of the two updates of that row may be lost or a row
// may mix elements of both. When no two ratings of the batch share a user or an item the result
// is sequential_sgd's, up to float rounding of the dot product. The sum of e^2 is reduced in a
// fixed order for a given grid (which depends on the device), never with float atomics.
//
// An id outside [0, users) or [0, items) skips its rating and throws aisle::Error naming it after
// the kernel; the other ratings have been applied by then.
double hogwild_sgd(int device, const models::biased_mf::Tables& tables, int64_t users, int64_t items,
                   const models::biased_mf::PackedRating* ratings, int64_t count,
                   const models::biased_mf::SgdHyper& hyper);

}  // namespace aisle::cuda
