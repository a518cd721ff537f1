#pragma once
#include <cstdint>

#include "aisle/tensor/tensor.hpp"

// Groups equal ids on the device: the order in which every deterministic scatter on CUDA sums
// (cuda/scatter.cu, cuda/embedding_update.cu). The CPU twin is src/ops/sorted_runs.hpp.
namespace aisle::cuda {

// Positions sorted stably by id (a radix sort of (id, position) pairs) and the runs of equal ids,
// all on the device. num_runs is a device scalar; run r covers sorted_pos[run_offsets[r] ..
// run_offsets[r + 1]) and has id run_keys[r]; entries past num_runs are garbage.
struct SortedRuns {
  Tensor sorted_keys, sorted_pos, run_keys, run_offsets, num_runs;
};

// index: i32 or i64 on a CUDA device. With bound >= 0, an id outside [0, bound) throws
// aisle::Error naming `op` (after a device sync) before anything else is launched.
SortedRuns sort_into_runs(const Tensor& index, int64_t bound, const char* op);

}  // namespace aisle::cuda
