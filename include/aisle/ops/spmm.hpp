#pragma once
#include <cstdint>
#include <string>

#include "aisle/tensor/tensor.hpp"

// Sparse (CSR) times dense products: graph propagation in LightGCN / GraphSAGE, item-item
// similarity in item-kNN. Every product is computed row by row with each row's entries summed in
// CSR order, on both backends, so results are deterministic and CPU and CUDA agree bit for bit;
// gradients w.r.t. the dense input go through the transpose (again a row-wise product), never
// through atomics. The values gradient (one dot product per entry) is deterministic too, but the
// CUDA dot sums in a different order from the CPU, so the two agree to rounding only.
namespace aisle::ops {

// A [rows, cols] sparse matrix in CSR form, all on one device:
//   row_ptr  i64 [rows + 1]: row r's entries are [row_ptr[r], row_ptr[r + 1])
//   col_idx  i32 or i64 [nnz]: the column of each entry
//   values   f32 or f64 [nnz]
// Build it with make_csr / csr_from_coo / csr_transpose, which validate the structure; the
// products trust it (they check shapes, dtypes and devices, and column ids on every call, but not
// that row_ptr is non-decreasing).
struct Csr {
  Tensor row_ptr, col_idx, values;
  int64_t rows = 0, cols = 0;

  int64_t nnz() const { return values.defined() ? values.numel() : 0; }
  DType dtype() const { return values.dtype(); }
  Device device() const { return values.device(); }
  std::string describe() const;  // "csr [3, 4] nnz 5 f32 cpu"
};

// Validates and wraps CSR arrays: row_ptr (i32 or i64, stored as i64) with rows + 1 entries,
// non-decreasing from 0 to nnz; col_idx with nnz ids in [0, cols); values with nnz f32/f64 entries;
// one device. CUDA inputs are copied to the host to validate (once per graph). Errors name the
// offending entry.
Csr make_csr(Tensor row_ptr, Tensor col_idx, Tensor values, int64_t rows, int64_t cols);

// From coordinates (any order): entries are sorted by row, then column; duplicates are summed in
// the order they appear. col_idx keeps col's dtype. Computed on the host, returned on the inputs'
// device.
Csr csr_from_coo(const Tensor& row, const Tensor& col, const Tensor& values, int64_t rows, int64_t cols);

// The transpose: t is the CSR of the [cols, rows] matrix (columns sorted within each row), and
// source_position[k] (i64, on the matrix's device) is the position in `a` of t's entry k, so
// t.values == a.values[source_position], and re-gathering refreshes t when a's values change.
// Validated and built on a's device (a CUDA matrix never makes a host round trip unless its
// structure is broken, when host copies name the first bad entry as on the CPU).
struct CsrTranspose {
  Csr t;
  Tensor source_position;
};
CsrTranspose csr_transpose(const Csr& a);

// The [rows.numel(), a.cols] matrix of a's rows `rows` (i64, any order, repeats allowed): row i is
// row rows[i] of a, its entries in a's order, so products with it sum exactly as products with a
// do on those rows. Built on a's device; ids out of range throw, naming the first.
Csr csr_select_rows(const Csr& a, const Tensor& rows);

// y = A x: x [cols, d] -> [rows, d] (same dtype as the values). Rows with no entries give zeros.
Tensor spmm(const Csr& a, const Tensor& x);

// One propagation layer with the work around it fused into the same pass over the rows (the
// layer combination of LightGCN-style models, forward and backward):
//   y = A x + addend                       (addend: optional [rows, d])
//   total = (total + y) * total_scale      (total: optional [rows, d], updated in place)
// Returns y. Each element gets exactly the roundings of spmm followed by those separate adds and
// that scaling, so fused and unfused code agree bit for bit; the saving is memory traffic (y is
// added while its row is still in cache) and, on the GPU, launches.
struct SpmmEpilogue {
  Tensor addend;
  Tensor total;
  double total_scale = 1;
};
Tensor spmm_fused(const Csr& a, const Tensor& x, const SpmmEpilogue& epilogue);

// Gradient w.r.t. the values (an SDDMM): d(values)[e] = dot(dy[row(e)], x[col(e)]) -> [nnz].
Tensor spmm_values_backward(const Csr& a, const Tensor& x, const Tensor& dy);

}  // namespace aisle::ops
