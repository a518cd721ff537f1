// Backward rules of the matmul family (forward kernels: src/ops/matmul.cpp).
// With C = op(A)·op(B), dop(A) = dC·op(B)^T and dop(B) = op(A)^T·dC; a transposed operand's
// gradient is the transpose of that, which the flags express without copies:
//   flags (ta, tb)   dA                      dB
//   (0, 0)           dC·B^T   = mm(dC,B,0,1)  A^T·dC   = mm(A,dC,1,0)
//   (0, 1)           dC·B     = mm(dC,B,0,0)  dC^T·A   = mm(dC,A,1,0)
//   (1, 0)           B·dC^T   = mm(B,dC,0,1)  A·dC     = mm(A,dC,0,0)
//   (1, 1)           B^T·dC^T = mm(B,dC,1,1)  dC^T·A^T = mm(dC,A,1,1)
#include "aisle/autograd/matmul.hpp"

#include "aisle/ops/matmul.hpp"

namespace aisle {

using autograd::Grad;
using autograd::NeedsGrad;
using autograd::record;

namespace {

using Product = Tensor (*)(const Tensor&, const Tensor&, bool, bool);

Tensor grad_a(Product mm, const Tensor& b, const Tensor& dc, bool ta, bool tb) {
  if (!ta) return tb ? mm(dc, b, false, false) : mm(dc, b, false, true);
  return tb ? mm(b, dc, true, true) : mm(b, dc, false, true);
}

Tensor grad_b(Product mm, const Tensor& a, const Tensor& dc, bool ta, bool tb) {
  if (!tb) return ta ? mm(a, dc, false, false) : mm(a, dc, true, false);
  return ta ? mm(dc, a, true, true) : mm(dc, a, true, false);
}

// A [..., k] as the [rows, k] matrix the product saw.
Tensor as_rows(const Tensor& t) {
  const Shape lead(t.shape().begin(), t.shape().end() - 1);
  return t.reshape({shape_numel(lead), t.size(-1)});
}

}  // namespace

Var matmul(const Var& a, const Var& b, bool trans_a, bool trans_b) {
  const Tensor av = a.value(), bv = b.value();
  return record("matmul", ops::matmul(av, bv, trans_a, trans_b), {a, b},
                [av, bv, trans_a, trans_b](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  // Extra leading axes of A (only without trans_a) were rows of one 2-D product.
                  const Tensor a2 = trans_a ? av : as_rows(av);
                  const Tensor dc = trans_a ? dy : as_rows(dy);
                  return {needs[0] ? grad_a(ops::matmul, bv, dc, trans_a, trans_b).reshape(av.shape()) : Tensor(),
                          needs[1] ? grad_b(ops::matmul, a2, dc, trans_a, trans_b) : Tensor()};
                });
}

Var bmm(const Var& a, const Var& b, bool trans_a, bool trans_b) {
  const Tensor av = a.value(), bv = b.value();
  return record("bmm", ops::bmm(av, bv, trans_a, trans_b), {a, b},
                [av, bv, trans_a, trans_b](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Grad> {
                  return {needs[0] ? grad_a(ops::bmm, bv, dy, trans_a, trans_b) : Tensor(),
                          needs[1] ? grad_b(ops::bmm, av, dy, trans_a, trans_b) : Tensor()};
                });
}

}  // namespace aisle
