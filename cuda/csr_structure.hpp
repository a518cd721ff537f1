#pragma once
#include <optional>

#include "aisle/ops/spmm.hpp"

// Launchers for the CSR structure ops of aisle/ops/spmm.hpp on a CUDA matrix, so that a graph built
// or sampled on the device is transposed and cut into rows there, with no host round trip.
// src/ops/spmm.cpp checks dtypes, shapes and devices first. The checks of content run on the device
// and only say whether something is wrong; the host then names the first offending entry with the
// CPU's message (a cold path that copies the arrays back).
namespace aisle::cuda {

// Whether a's structure holds: row_ptr from 0 to nnz without decreasing, column ids in [0, cols).
bool csr_structure_ok(const ops::Csr& a);

// Rows `rows` (i64 on a's device) of a, each row's entries in a's order; nullopt when a row id lies
// outside [0, a.rows) (then nothing is written).
std::optional<ops::Csr> csr_select_rows(const ops::Csr& a, const Tensor& rows);

// The transpose's structure, for a with csr_structure_ok: t.row_ptr, t.col_idx (i32 when a's column
// ids are i32 and a.rows fits), t.rows, t.cols and source_position, entries in the CPU's order
// (by column, then by row). t.values is left for the caller to gather.
ops::CsrTranspose csr_transpose(const ops::Csr& a);

}  // namespace aisle::cuda
