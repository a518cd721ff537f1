#pragma once
// Internal: item-kNN scores, score[b, j] = sum over the history items h of user b (ascending) of
// the weight of j among h's neighbours. Two implementations that add in the same order and so
// agree bit for bit: a direct CPU loop, and one built from the op catalogue for CUDA.
#include <cstdint>

#include "aisle/tensor/tensor.hpp"

namespace aisle::models::knn {

// What scoring reads; neighbour rows are padded at the end with item -1 and weight 0.
struct ScoringTables {
  Tensor neighbor_items;    // i64 [I, N], CPU
  Tensor neighbor_weights;  // f32 [I, N], CPU
  Tensor history_offsets;   // i64 [U + 1], CPU
  Tensor history_items;     // i64 [nnz], CPU
};

// The neighbour table on the scoring device in the form score_with_ops gathers: targets as f64
// (exact below 2^53) with padding pointed at item 0, so that the flat destination b * I + target
// can be formed with the f64 elementwise ops; padding keeps weight 0 and so adds nothing.
struct DeviceNeighbors {
  Tensor targets;  // f64 [I, N]
  Tensor weights;  // f32 [I, N]
};
DeviceNeighbors device_neighbors(const ScoringTables& t, Device device);

// Throws aisle::Error naming a user id outside [0, U). Host ids.
void check_users(const char* op, const int64_t* users, int64_t count, int64_t num_users);

// users: i64 [B] on the CPU -> f32 [B, I] on the CPU; users in parallel.
Tensor score_cpu(const ScoringTables& t, const Tensor& users);

// users: i64 [B] on d's device -> f32 [B, I] there: the user histories are expanded to (b, h)
// pairs on the host, the neighbour rows of h gathered on the device (ops::gather_rows) and summed
// into a zero [B * I] tensor by ops::scatter_add, which adds duplicates in order of appearance,
// i.e. in history order, as score_cpu does. Users are processed in groups that keep the gathered
// [pairs, N] temporaries below `max_entries` (at least one user per group).
Tensor score_with_ops(const ScoringTables& t, const DeviceNeighbors& d, const Tensor& users,
                      int64_t max_entries = int64_t{1} << 26);

}  // namespace aisle::models::knn
