#pragma once
#include <cstdint>

#include "aisle/ops/scatter.hpp"
#include "aisle/tensor/tensor.hpp"

// Embedding bags: each output row pools the table rows of a variable-length bag of ids (the
// multi-hot features of a recommender: a user's recent items, an item's tags).
//
// Bags are given CSR style. `ids` (1-D, i32 or i64) holds all bags concatenated; `offsets` (1-D,
// i32 or i64) has B+1 entries for B bags: bag b is ids[offsets[b] .. offsets[b+1]), so
// offsets[0] == 0, offsets is non-decreasing, and offsets[B] == ids.numel(). Anything else throws.
//
// Empty bags give zero rows in every mode. Ids outside [0, N) throw aisle::Error naming the id and
// the range. Each bag is summed in the order of its ids on both backends, so results are
// deterministic and CPU and CUDA agree bit for bit on the forward pass.
namespace aisle::ops {

enum class BagMode : uint8_t {
  sum,   // sum of the bag's rows (weighted by per_sample_weights when given)
  mean,  // sum divided by the bag's length
};
const char* bag_mode_name(BagMode mode);

// table [N, D] -> [B, D]. The table is f32, f64, bf16 or f16; a 16-bit table's rows are widened
// and summed in f32 and the output is f32 (fp32 accumulation; half the bytes read).
// per_sample_weights (optional, sum mode only): one weight per id, in the output's dtype, on the
// table's device; the bag is then sum_i w[i] * table[ids[i]].
Tensor embedding_bag(const Tensor& table, const Tensor& ids, const Tensor& offsets, BagMode mode,
                     const Tensor& per_sample_weights = {});

// Gradient w.r.t. the table as one row per id (uncoalesced, i64 indices = ids):
// rows[i] = dy[bag(i)] scaled by 1/|bag| (mean) or w[i] (weighted sum). dy: [B, D].
SparseRows embedding_bag_backward(const Tensor& ids, const Tensor& offsets, const Tensor& dy,
                                  BagMode mode, const Tensor& per_sample_weights = {});

// Gradient w.r.t. per_sample_weights: dw[i] = dot(dy[bag(i)], table[ids[i]]) -> [ids.numel()].
// dy and dw are in the forward output's dtype (f32 for a bf16/f16 table).
Tensor embedding_bag_weights_backward(const Tensor& table, const Tensor& ids, const Tensor& offsets,
                                      const Tensor& dy);

}  // namespace aisle::ops
