// Backward rules of the spmm family (forward kernels: src/ops/spmm.cpp).
#include "aisle/autograd/spmm.hpp"

#include "aisle/autograd/scatter.hpp"
#include "aisle/ops/elementwise.hpp"
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

Var propagate_mean(const SparseOperator& a, const Var& x, int64_t layers) {
  AISLE_CHECK(layers >= 0, "propagate_mean: layers must be >= 0, got ", layers);
  AISLE_CHECK(a.rows() == a.cols(), "propagate_mean: the operator must be square, got ", a.matrix().describe());
  AISLE_CHECK(x.defined(), "propagate_mean: x is undefined");
  if (layers == 0) return x;
  const double scale = 1.0 / static_cast<double>(layers + 1);
  Tensor total = x.value().clone();
  Tensor layer = x.value();
  for (int64_t k = 1; k <= layers; ++k)
    layer = ops::spmm_fused(a.matrix(), layer, {Tensor(), total, k == layers ? scale : 1.0});
  const ops::Csr t = a.transpose().t;
  return record("propagate_mean", std::move(total), {x},
                [t, scale, layers](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  const Tensor g = ops::affine(dy, scale);
                  Tensor acc = g;
                  for (int64_t k = 0; k < layers; ++k) acc = ops::spmm_fused(t, acc, {g, Tensor(), 1.0});
                  return {acc};
                });
}

Var propagate_mean_rows(const SparseOperator& a, const Var& x, int64_t layers, const Tensor& rows) {
  AISLE_CHECK(layers >= 0, "propagate_mean_rows: layers must be >= 0, got ", layers);
  AISLE_CHECK(a.rows() == a.cols(), "propagate_mean_rows: the operator must be square, got ", a.matrix().describe());
  AISLE_CHECK(x.defined(), "propagate_mean_rows: x is undefined");
  if (layers == 0) return embedding(x, rows);
  const ops::Csr picked = ops::csr_select_rows(a.matrix(), rows);       // [T, n]
  const ops::Csr picked_t = ops::csr_transpose(picked).t;               // [n, T]
  const double scale = 1.0 / static_cast<double>(layers + 1);
  // The same roundings as propagate_mean's running total: ((x + L1) + L2) ... then (+ LK) * scale.
  Tensor total = ops::gather_rows(x.value(), rows);
  Tensor layer = x.value();
  for (int64_t k = 1; k < layers; ++k) {
    layer = ops::spmm(a.matrix(), layer);
    total = ops::add(total, ops::gather_rows(layer, rows));
  }
  ops::spmm_fused(picked, layer, {Tensor(), total, scale});
  const ops::Csr t = a.transpose().t;
  return record("propagate_mean_rows", std::move(total), {x},
                [t, picked_t, rows, scale, layers](const Tensor& dy, const NeedsGrad&) -> std::vector<Grad> {
                  // propagate_mean's Horner steps acc = Aᵀ acc + g, with g zero outside `rows`: the
                  // first step reads only g's rows, and g is added where it is not zero.
                  const Tensor g = ops::affine(dy, scale);
                  Tensor acc = ops::spmm(picked_t, g);
                  ops::scatter_add_(acc, g, rows);
                  for (int64_t k = 1; k < layers; ++k) {
                    acc = ops::spmm(t, acc);
                    ops::scatter_add_(acc, g, rows);
                  }
                  return {acc};
                });
}

}  // namespace aisle
