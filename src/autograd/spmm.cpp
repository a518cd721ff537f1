// Backward rules of the spmm family (forward kernels: src/ops/spmm.cpp).
#include "aisle/autograd/spmm.hpp"

#include "aisle/ops/scatter.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

SparseOperator::SparseOperator(ops::Csr a) : a_(std::move(a)), t_(ops::csr_transpose(a_)) {}

Var spmm(const SparseOperator& a, const Var& x) {
  const ops::Csr t = a.transpose().t;
  return record("spmm", ops::spmm(a.matrix(), x.value()), {x},
                [t](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> { return {ops::spmm(t, dy)}; });
}

Var spmm(const SparseOperator& a, const Var& values, const Var& x) {
  AISLE_CHECK(values.defined() && values.dim() == 1 && values.numel() == a.nnz(), "spmm: values ",
              values.describe(), " must hold one value per non-zero of ", a.matrix().describe());
  ops::Csr weighted = a.matrix();
  weighted.values = values.value();
  const ops::CsrTranspose transpose = a.transpose();
  // x is kept only when the values learn: their gradient reads it.
  const Tensor x_for_values = values.requires_grad() ? x.value() : Tensor();
  return record("spmm", ops::spmm(weighted, x.value()), {values, x},
                [weighted, transpose, x_for_values](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  std::vector<Grad> grads(2);
                  if (needs[0]) grads[0] = ops::spmm_values_backward(weighted, x_for_values, dy);
                  if (needs[1]) {
                    // Aᵀ with the current values, re-gathered in the transpose's entry order.
                    ops::Csr t = transpose.t;
                    t.values = ops::gather_rows(weighted.values, transpose.source_position);
                    grads[1] = ops::spmm(t, dy);
                  }
                  return grads;
                });
}

}  // namespace aisle
