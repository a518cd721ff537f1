#pragma once
#include "aisle/autograd/var.hpp"
#include "aisle/ops/spmm.hpp"

// Differentiable sparse x dense products for graph models.
namespace aisle {

// A graph operator reused across steps: A and its transpose, built once here, so the backward
// pass (dx = Aᵀ dy) never rebuilds the transpose. Copies are cheap and share the tensors.
class SparseOperator {
 public:
  // `a` should come from ops::make_csr / ops::csr_from_coo; the transpose is validated and built
  // on a's device.
  explicit SparseOperator(ops::Csr a);

  const ops::Csr& matrix() const { return a_; }
  const ops::CsrTranspose& transpose() const { return t_; }
  int64_t rows() const { return a_.rows; }
  int64_t cols() const { return a_.cols; }
  int64_t nnz() const { return a_.nnz(); }
  Device device() const { return a_.device(); }

 private:
  ops::Csr a_;
  ops::CsrTranspose t_;
};

// y = A x with x [cols, d] -> [rows, d]; gradient for x (Aᵀ dy).
Var spmm(const SparseOperator& a, const Var& x);
// y = A(values) x: A's structure with learned edge weights `values` [nnz] (same order as
// a.matrix().values); gradients for values (dot(dy[row], x[col]) per entry) and for x.
Var spmm(const SparseOperator& a, const Var& values, const Var& x);

// LightGCN's propagation with its layer combination, as one node:
//   y = (x + A x + A^2 x + ... + A^layers x) / (layers + 1),  A square, x [rows, d].
// Forward: `layers` fused spmm passes, each adding its layer into the running total in the same
// pass, the last one also scaling it. Backward (A linear, so nothing of the forward is kept):
// g = dy / (layers + 1), then acc = Aᵀ acc + g `layers` times from acc = g (Horner's rule for
// the sum of (Aᵀ)^k g), again fused. The same roundings as the chain of spmm, adds and scale
// written out, bit for bit; layers = 0 returns x.
Var propagate_mean(const SparseOperator& a, const Var& x, int64_t layers);

// Rows `rows` (i64 [T], any order, repeats allowed) of propagate_mean(a, x, layers), [T, d], for a
// step that scores only a batch's nodes. The last layer is computed for those rows alone (A's
// rows `rows` times layer layers - 1), and the first backward layer starts from them alone (the
// transpose of those rows, applied to the gradient): two of the 2 * layers passes over all of A
// shrink to passes over the batch's neighbourhood, and the running total is kept for the T rows
// only. With ascending rows (ops::unique's values) value and gradient equal propagate_mean's
// gathered rows bit for bit, on either device (the sub-matrices are built where A lives).
Var propagate_mean_rows(const SparseOperator& a, const Var& x, int64_t layers, const Tensor& rows);

}  // namespace aisle
