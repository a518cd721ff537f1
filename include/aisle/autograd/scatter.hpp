#pragma once
#include "aisle/autograd/var.hpp"

// Differentiable row gathers and scatters. gather_rows / embedding send their gradient as sparse
// rows: a sparse table (Var::set_sparse) keeps them as rows for a sparse optimizer; any other
// input gets them scattered into a dense gradient.
namespace aisle {

// out[i] = src[index[i]]; shape index.shape + src.shape[1:].
Var gather_rows(const Var& src, const Tensor& index);
// Embedding lookup: table [N, D], ids of any shape (i32/i64) -> ids.shape + [D].
inline Var embedding(const Var& table, const Tensor& ids) { return gather_rows(table, ids); }
// out[index[i]] += src[i], result [dim_size, ...].
Var scatter_add(const Var& src, const Tensor& index, int64_t dim_size);
// Sums of consecutive row segments delimited by offsets (B+1 entries).
Var segment_sum(const Var& src, const Tensor& offsets);

}  // namespace aisle
