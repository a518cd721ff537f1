#pragma once
#include "aisle/autograd/var.hpp"
#include "aisle/ops/embedding.hpp"

// Differentiable embedding bags (see aisle/ops/embedding.hpp for the CSR layout of ids/offsets).
namespace aisle {

// table [N, D] -> [B, D]. The table's gradient is sent as one sparse row per id: a sparse table
// (Var::set_sparse) keeps them as rows for a sparse optimizer and never sees a dense [N, D]
// gradient; any other table gets them scattered densely. per_sample_weights (sum mode only) may be
// a constant or a Var that learns; it then gets dw[i] = dot(dy[bag(i)], table[ids[i]]).
Var embedding_bag(const Var& table, const Tensor& ids, const Tensor& offsets, ops::BagMode mode,
                  const Var& per_sample_weights = Var());

}  // namespace aisle
